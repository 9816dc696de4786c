"""Jobs: a compact live table, one line per job with its settings, progress, elapsed time
over every attempt and links to what it made; a pipeline's steps folded under it; cancel
and retry. A cancel the user asked for is a neutral state, not an error."""
from datetime import datetime, timezone
from pathlib import PurePath

import streamlit as st

from dashboard import access, data, timing
from dashboard.widgets import pager_ui
from worker import job_control

POLL_S = 2  # seconds between refreshes of the list (only the list reruns)
PAGE_SIZE = 20
ICONS = {"queued": ":material/hourglass_empty:", "running": ":material/progress_activity:",
         "succeeded": ":material/check_circle:", "failed": ":material/error:",
         "cancelled": ":material/block:"}
COLUMNS = [2.2, 3.6, 2.6, 2.2, 1.2]  # job, settings, progress and time, made, actions
HEADERS = ("Job", "Settings", "Progress and time", "Made", "")


def _act(action, job_id: int) -> None:
    # Runs before the fragment redraws, so the list shows the new state at once.
    try:
        job = action(data.app(), job_id)
        message = f"Job #{job.id} is {job.status}"
    except job_control.DispatchError as exc:  # the job is recorded as failed, with this error
        message = str(exc)
    data.jobs_page.clear()
    data.job_children.clear()
    st.toast(message)


def settings_text(params: dict) -> str:
    """The job's parameters in one short line (long paths by their last two parts)."""
    def short(value) -> str:
        if isinstance(value, list):
            return ", ".join(map(str, value))
        text = str(value)
        if "/" in text and len(text) > 28:
            return "…/" + "/".join(PurePath(text).parts[-2:])
        return text

    return " · ".join(f"{name} {short(value)}" for name, value in params.items()
                      if value not in (None, "", []))


def made_links(job: dict) -> list[str]:
    """Markdown links to the runs and galleries the job produced."""
    out = job.get("outputs") or {}
    runs = list(dict.fromkeys([*(out.get("run_ids") or []),
                               *([out["run_id"]] if out.get("run_id") else [])]))
    if job["kind"] == "pipeline" and out.get("final_run_id"):
        runs = [out["final_run_id"]] + [r for r in runs if r != out["final_run_id"]]
    links = [f"[run #{r}](/results?run={r})" for r in runs]
    if out.get("gallery"):
        explained = (out.get("runs") or [out.get("final_run_id")] or [None])[0]
        links.append(f"[{out.get('method', 'gradcam')} gallery](/gallery?run={explained})"
                     if explained else f"gallery {out['gallery']}")
    links += [f"dataset #{d}" for d in out.get("dataset_ids") or [] if job["kind"] != "train"]
    return links


def controls_ui(col, job: dict) -> None:
    """Cancel while it can still stop, retry once it failed or was cancelled."""
    if access.read_only():
        return
    if job["status"] in ("queued", "running") and not job["cancel_requested"]:
        col.button("Cancel", key=f"cancel-{job['id']}", on_click=_act, icon=":material/block:",
                   args=(job_control.cancel, job["id"]))
    if job["status"] in ("failed", "cancelled") and job["parent_id"] is None:
        col.button("Retry", key=f"retry-{job['id']}", on_click=_act, icon=":material/replay:",
                   args=(job_control.retry, job["id"]))


def time_text(job: dict, now: datetime) -> str:
    """Elapsed over every attempt, ETA, attempts and heartbeat, in one line."""
    parts = [f"elapsed **{timing.human(timing.elapsed_s(job, now))}**"]
    if job["status"] == "running":
        parts.append(f"ETA **{timing.human(timing.eta_s(job, now))}**")
        beat = timing.heartbeat_age_s(job, now)
        parts.append("no heartbeat yet" if beat is None else
                     f"heartbeat {timing.human(beat)} ago")
    if job["attempts"] > 1:
        parts.append(f"{job['attempts']} attempts")
    return " · ".join(parts)


def job_row_ui(job: dict, now: datetime, timeout: float) -> None:
    """One job as one line of the table, then (when it has them) its error or log."""
    progress = job["progress"] or {}
    stage = progress.get("stage") or ""
    cols = st.columns(COLUMNS, vertical_alignment="top")
    cols[0].markdown(f"{ICONS.get(job['status'], '')} **#{job['id']} {job['kind']}** · "
                     f"{job['status']}" + (" · cancel requested" if job["cancel_requested"]
                                           and job["status"] != "cancelled" else ""))
    cols[1].caption(settings_text(job["params"]) or "defaults")
    with cols[2]:
        done = timing.fraction(progress)
        if done is not None and job["status"] == "running":
            st.progress(done, text=f"{stage} {progress.get('current')}/{progress.get('total')}")
        elif stage and job["status"] == "running":
            st.caption(stage)
        st.caption(time_text(job, now) + (f" · {job['worker']}" if job["worker"] else ""))
    cols[3].markdown(" · ".join(made_links(job)) or " ")
    controls_ui(cols[4], job)
    beat = timing.heartbeat_age_s(job, now)
    if job["status"] == "running" and beat is not None and beat > timeout:
        st.warning(f"No heartbeat for {timing.human(beat)}: the worker may be lost.")
    details_ui(job)


def details_ui(job: dict) -> None:
    """A failure's error (with its traceback folded), a cancel in neutral words, the log."""
    if job["status"] == "cancelled":
        st.caption(":material/block: Cancelled" + (f": {job['error']}" if job["error"] else
                                                   " on request."))
    elif job["error"]:
        st.error(job["error"])
        if job["traceback"]:
            with st.expander("Traceback"):
                st.code(job["traceback"], language="python")
    if job["log_tail"]:
        with st.expander("Log (last lines)"):
            st.code(job["log_tail"][-3000:], language="text")


def steps_ui(children: list[dict], now: datetime, timeout: float) -> None:
    """A pipeline's steps, folded; the step at work is shown above the fold."""
    active = [c for c in children if c["status"] in ("running", "queued")][:1]
    for child in active:
        job_row_ui(child, now, timeout)
    done = sum(c["status"] == "succeeded" for c in children)
    with st.expander(f"{len(children)} steps, {done} succeeded"):
        for child in children:
            if child not in active:
                job_row_ui(child, now, timeout)


@st.fragment(run_every=POLL_S)
def jobs_list_ui(offset: int) -> None:
    """The page of jobs, redrawn every POLL_S seconds; pipeline steps under their parent."""
    k = data.key()
    now = datetime.now(timezone.utc)
    timeout = access.settings().heartbeat_timeout
    jobs = data.jobs_page(k, PAGE_SIZE, offset)
    if not jobs:
        st.info("No jobs yet. Launch one on the Launch page or with `agerec jobs submit`.")
    else:
        for col, header in zip(st.columns(COLUMNS), HEADERS):
            if header:
                col.markdown(f"**{header}**")
    for job in jobs:
        with st.container(border=True):
            job_row_ui(job, now, timeout)
            children = data.job_children(k, job["id"])
            if children:
                steps_ui(children, now, timeout)
    st.caption(f"Updated {now:%H:%M:%S} UTC, every {POLL_S} s.")


st.title("Jobs")
jobs_list_ui(pager_ui(data.job_count(data.key()), PAGE_SIZE, key="jobs-page"))

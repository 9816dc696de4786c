"""Jobs: a live list with progress, timings, logs and errors; cancel and retry."""
from datetime import datetime, timezone

import streamlit as st

from dashboard import access, data, timing
from dashboard.widgets import pager_ui
from worker import job_control

POLL_S = 2  # seconds between refreshes of the list (only the list reruns)
PAGE_SIZE = 20
ICONS = {"queued": "⏳", "running": "▶️", "succeeded": "✅", "failed": "❌", "cancelled": "⏹️"}


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


def controls_ui(job: dict) -> None:
    """Cancel while it can still stop, retry once it failed or was cancelled."""
    if access.read_only():
        return
    left, right = st.columns(2)
    if job["status"] in ("queued", "running") and not job["cancel_requested"]:
        left.button("Cancel", key=f"cancel-{job['id']}", on_click=_act,
                    args=(job_control.cancel, job["id"]))
    if job["status"] in ("failed", "cancelled") and job["parent_id"] is None:
        right.button("Retry", key=f"retry-{job['id']}", on_click=_act,
                     args=(job_control.retry, job["id"]))


def timings_ui(job: dict, now: datetime, timeout: float) -> None:
    """Elapsed, ETA and heartbeat age; a silent running job is flagged."""
    beat = timing.heartbeat_age_s(job, now)
    cols = st.columns(4)
    cols[0].caption(f"elapsed **{timing.human(timing.elapsed_s(job, now))}**")
    cols[1].caption(f"ETA **{timing.human(timing.eta_s(job, now))}**")
    cols[2].caption(f"heartbeat **{timing.human(beat)}** ago" if beat is not None
                    else "no heartbeat yet")
    cols[3].caption(f"attempts {job['attempts']}"
                    + (f" · {job['worker']}" if job["worker"] else ""))
    if job["status"] == "running" and beat is not None and beat > timeout:
        st.warning(f"No heartbeat for {timing.human(beat)}: the worker may be lost.")


def job_ui(job: dict, now: datetime, timeout: float) -> None:
    """One job: header, progress, timings, log tail, error with traceback, buttons."""
    progress = job["progress"] or {}
    stage = progress.get("stage") or ""
    st.markdown(f"{ICONS.get(job['status'], '')} **#{job['id']} {job['kind']}** · "
                f"{job['status']}" + (f" · _{stage}_" if stage else "")
                + (" · cancel requested" if job["cancel_requested"] and not
                   job["status"] == "cancelled" else ""))
    done = timing.fraction(progress)
    if done is not None:
        st.progress(done, text=f"{stage} {progress.get('current')}/{progress.get('total')}")
    timings_ui(job, now, timeout)
    if job["error"]:
        st.error(job["error"])
        if job["traceback"]:
            with st.expander("Traceback"):
                st.code(job["traceback"], language="python")
    if job["log_tail"]:
        with st.expander("Log (last lines)"):
            st.code(job["log_tail"][-3000:], language="text")
    controls_ui(job)


@st.fragment(run_every=POLL_S)
def jobs_list_ui(offset: int) -> None:
    """The page of jobs, redrawn every POLL_S seconds; pipeline children under their parent."""
    k = data.key()
    now = datetime.now(timezone.utc)
    timeout = access.settings().heartbeat_timeout
    jobs = data.jobs_page(k, PAGE_SIZE, offset)
    if not jobs:
        st.info("No jobs yet. Launch one on the Launch page or with `agerec jobs submit`.")
    for job in jobs:
        with st.container(border=True):
            job_ui(job, now, timeout)
            for child in data.job_children(k, job["id"]):
                with st.container(border=True):
                    job_ui(child, now, timeout)
    st.caption(f"Updated {now:%H:%M:%S} UTC, every {POLL_S} s.")


st.title("Jobs")
jobs_list_ui(pager_ui(data.job_count(data.key()), PAGE_SIZE, key="jobs-page"))

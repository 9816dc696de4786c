"""Launch: one form per job kind, the full pipeline first, with the backend's choices and
defaults that fit the machines the workers reported (the `cpu` preset without a GPU)."""
import streamlit as st

from dashboard import access, data, forms
from storage.machine import gpu_present

# Everything at once first, then the steps one by one.
KINDS = ("pipeline", "preprocess", "train", "ensemble", "evaluate", "gradcam")
TITLES = {"pipeline": "Full pipeline", "preprocess": "Prepare a dataset",
          "train": "Train a model", "ensemble": "Ensemble", "evaluate": "Evaluate",
          "gradcam": "Explain (GradCAM or occlusion)"}


def pickers_ui() -> dict[str, list[tuple[int, str]]]:
    """Existing datasets and runs, offered wherever a form asks for their ids."""
    k = data.key()
    sets = [(d["id"], f"#{d['id']} {d['source']} · {d['n_images']} images")
            for d in data.datasets(k)]
    runs = [(r["id"], r["label"]) for r in data.run_entries(k, include_hidden=True)]
    return {"datasets": sets, "runs": runs}


def machine_defaults_ui() -> dict[str, dict[str, str]]:
    """Per job kind, the defaults that fit the workers' machines: the `cpu` preset (and
    its first member) unless a worker reported a GPU; says which, and why."""
    gpu = gpu_present(data.key()[1])
    if gpu:
        st.caption(":material/memory: A worker reported a GPU: the paper's settings are "
                   "preselected.")
        return {}
    st.caption(":material/memory: " + ("No worker has reported a GPU" if gpu is False else
                                       "No worker has reported its machine yet") +
               ": the `cpu` preset is preselected (the `paper` preset needs a GPU).")
    return {"pipeline": {"preset": "cpu"},
            "train": {"preset": "cpu", "backbone": "efficientnet_lite0"}}


def notice_ui(slot, job_id: int) -> None:
    """The job just submitted, as it stands now, beside its form's button."""
    job = data.job(data.key(), job_id)
    slot.success(f"Job #{job['id']} ({job['kind']}) is {job['status']}. "
                 "Follow it on the Jobs page.", icon=":material/schedule:")


def launch_ui(defaults: dict[str, dict[str, str]]) -> None:
    """A tab per job kind; a submitted job's notice stays beside its button."""
    pickers = pickers_ui()
    for kind, tab in zip(KINDS, st.tabs([TITLES[k] for k in KINDS])):
        with tab:
            submitted, values, slots = forms.job_form_ui(kind, pickers, defaults.get(kind))
            if submitted:
                job_id = forms.submit_ui(data.app(), kind, values, slots,
                                         dispatch=access.dispatch_jobs())
                if job_id is not None:
                    st.session_state["launched"] = (kind, job_id)
                    data.jobs_page.clear()
            launched = st.session_state.get("launched")
            if launched and launched[0] == kind:
                notice_ui(slots["notice"], launched[1])


st.title("Launch a job")
if access.read_only():
    st.info("This dashboard is read-only: jobs cannot be launched here.")
else:
    st.caption("Labels say what each field is; its help names the parameter (and the "
               "command line's flag). Fields marked * are required.")
    launch_ui(machine_defaults_ui())

"""Launch: one form per job kind, with the backend's choices and the paper's defaults."""
import streamlit as st

from dashboard import access, data, forms

# The order: the steps one by one, then everything at once.
KINDS = ("preprocess", "train", "ensemble", "evaluate", "gradcam", "pipeline")
TITLES = {"preprocess": "Prepare a dataset", "train": "Train a model",
          "ensemble": "Ensemble", "evaluate": "Evaluate", "gradcam": "GradCAM analysis",
          "pipeline": "Full pipeline"}


def pickers_ui() -> dict[str, list[tuple[int, str]]]:
    """Existing datasets and runs, offered wherever a form asks for their ids."""
    k = data.key()
    sets = [(d["id"], f"#{d['id']} {d['source']} · {d['n_images']} images")
            for d in data.datasets(k)]
    runs = [(r["id"], f"#{r['id']} {r['name']} ({r['backbone']})") for r in data.run_options(k)]
    return {"datasets": sets, "runs": runs}


def launched_ui(job_id: int) -> None:
    """The job just submitted, as it stands now."""
    job = data.job(data.key(), job_id)
    st.success(f"Job #{job['id']} ({job['kind']}) is {job['status']}. "
               "Follow it on the Jobs page.")
    st.json(job["params"], expanded=False)


def launch_ui() -> int | None:
    """A tab per job kind; returns the id of a job submitted on this run."""
    pickers = pickers_ui()
    new_job = None
    for kind, tab in zip(KINDS, st.tabs([TITLES[k] for k in KINDS])):
        with tab:
            submitted, values, slots = forms.job_form_ui(kind, pickers)
            if submitted:
                new_job = forms.submit_ui(data.app(), kind, values, slots,
                                          dispatch=access.dispatch_jobs()) or new_job
    return new_job


st.title("Launch a job")
if access.read_only():
    st.info("This dashboard is read-only: jobs cannot be launched here.")
else:
    st.caption("Choices come from the backend's registries; the paper's settings are "
               "preselected. Fields marked * are required.")
    notice = st.container()  # the new job shows above the forms
    job_id = launch_ui()
    if job_id is not None:
        st.session_state["launched_job"] = job_id
        data.jobs_page.clear()
    if "launched_job" in st.session_state:
        with notice:
            launched_ui(st.session_state["launched_job"])

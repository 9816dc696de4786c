"""Try it: a photo or the camera in; each face's box, age group, probabilities,
explanation overlay and one plain sentence out. The try-it service (started here when
needed) keeps the model loaded, apart from the job runners, so an answer never waits
behind a training; this page imports no TensorFlow and keeps no photo."""
import streamlit as st

from dashboard import access, data, trying
from worker.interactive import client


def service_ui(run_id: int, note) -> dict | None:
    """Start the service if needed and ask it to load the run; its status, or None. The
    warming note goes into the placeholder `note`."""
    settings = access.settings()
    try:
        with st.spinner("Starting the try-it service…"):
            client.ensure_service(settings)
        status = client.warm(settings, run_id)
    except client.ServiceError as exc:
        st.error(f"The try-it service is not available: {exc}")
        return None
    error = status.get("errors", {}).get(str(run_id))
    if error:
        st.error(f"This model cannot be tried: {error}")
        return None
    if run_id not in status.get("loaded", []):
        note.info("Warming up: the model is loading. The first answer after start-up takes "
                "longer (up to a minute on a small machine); after that a photo takes about "
                "a second.")
    return status


def face_ui(labels: list[str], face: dict, overlay: bytes | None, corrected: bool,
            key: str) -> None:
    cols = st.columns([1, 2, 2])
    with cols[0]:
        if overlay is not None:
            st.image(overlay, caption=f"face {face['number']}: what the model looked at",
                     width="stretch")
    with cols[1]:
        st.plotly_chart(trying.probability_bars(labels, face["probabilities"], face["class"]),
                        key=f"bars-{key}")
    with cols[2]:
        st.markdown(f"### Face {face['number']}: {face['label']}")
        st.write(trying.face_sentence(labels, face["probabilities"], face["method"],
                                      corrected=corrected))


def answer_ui(answer: client.TryAnswer, corrected: bool) -> None:
    labels = answer.header["labels"]
    for i, photo in enumerate(answer.photos):
        st.subheader(photo["name"])
        if "error" in photo:
            st.error(trying.unreadable_message(photo["name"], photo["error"]))
            continue
        if not photo["faces"]:
            st.warning(trying.no_face_message(photo["name"]))
            continue
        n = len(photo["faces"])
        st.image(answer.image(photo["photo"]),
                 caption=f"{n} face{'s' if n > 1 else ''} found", width=480)
        for face in photo["faces"]:
            face_ui(labels, face, answer.image(face["overlay"]), corrected,
                    key=f"{i}-{face['number']}")
    seconds = answer.header.get("total_seconds", answer.header.get("seconds", 0.0))
    note = "" if answer.header.get("warm", True) else \
        " (the model was still warming up: the next photo will be quicker)"
    st.caption(f"Answered in {seconds:.1f} s{note}. "
               + trying.calibration_note(answer.header.get("temperature")))


st.title("Try it live")
st.caption(trying.PRIVACY)
k = data.key()
runs, default = trying.tryable_runs(k)
if not runs:
    st.info("No finished model to try yet: train one first (Launch, or `agerec train`).")
    st.stop()
run_id = trying.run_picker_ui(runs, default)
warming = st.empty()
if service_ui(run_id, warming) is None:
    st.stop()
dataset_id = next(r["dataset_id"] for r in runs if r["id"] == run_id)
corrected = False
if trying.source_mix_known(k, dataset_id):
    corrected = st.toggle("Correct for the population's age mix", key="try-prior",
                          help="The model learned from equal numbers of faces per age group; "
                               "this tells it how common each group is among the source's "
                               "faces.")
photos = trying.photos_ui()
if photos:
    try:
        with st.spinner("Looking for faces…"):
            answer = client.try_photos(access.settings(), run_id, photos,
                                       target_prior="source" if corrected else "none")
    except client.ServiceError as exc:
        st.error(f"The photo could not be answered: {exc}")
    else:
        warming.empty()  # answered: the model is warm now, as the caption says
        answer_ui(answer, corrected)

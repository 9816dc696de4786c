"""The Try it page's parts: which runs can be tried, the photos from the upload or the
camera, each face's probability bars and its one plain sentence. Photos stay in this
request's memory and go to the try-it service (worker/interactive) as bytes; nothing
here caches or writes them."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from dashboard import data
from storage.catalog import default_entry, list_entries
from storage.datasets import get_dataset

PHOTO_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff"]
PRIVACY = ("Your photo is looked at in memory and forgotten once the answer is shown: it "
           "is never saved, and only counts and timings are logged.")
# How a photo that cannot be read is explained, by ImageReadError reason.
UNREADABLE = {"not_an_image": "is not a photo agerec can read (JPEG, PNG, GIF, BMP, TIFF or "
                              "WebP)",
              "truncated": "is cut short or empty: the file is incomplete",
              "unreadable": "is damaged: it starts like a photo but cannot be decoded",
              "too_large": "has too many pixels to look at safely; send a smaller copy",
              "too_small": "is too small to find a face in",
              "missing_file": "could not be found"}
EXPLAINED_BY = {
    "gradcam": "The bright yellow parts of the small picture are where the model looked "
               "most for that answer.",
    "occlusion": "The bright yellow parts of the small picture are those whose covering "
                 "changed the model's answer most."}


@st.cache_data(ttl=data.TTL_S, show_spinner=False)
def tryable_runs(k: data.Key) -> tuple[list[dict[str, Any]], int | None]:
    """Finished runs, newest first (smoke runs only if nothing else finished), and the
    one the page opens on: the newest finished non-smoke ensemble."""
    db = data.app().db
    every = list_entries(db, include_hidden=True)
    finished = [e for e in every if e.status == "succeeded"]
    shown = [e for e in finished if not e.smoke] or finished
    first = default_entry(shown)
    return [{"id": e.id, "label": e.label, "dataset_id": e.dataset_id} for e in shown], \
        (first.id if first else None)


@st.cache_data(ttl=data.TTL_S, show_spinner=False)
def source_mix_known(k: data.Key, dataset_id: int) -> bool:
    """Whether the dataset recorded its source's class counts (the population's mix)."""
    return bool(get_dataset(data.app().db, dataset_id).summary.get("source_class_counts"))


def run_picker_ui(runs: list[dict[str, Any]], default: int | None) -> int:
    """The run to try; ?run=<id> in the address chooses it, else `default`."""
    ids = [r["id"] for r in runs]
    wanted = st.query_params.get("run")
    chosen = int(wanted) if wanted and wanted.isdigit() and int(wanted) in ids else default
    labels = {r["id"]: r["label"] for r in runs}
    return st.selectbox("Model", ids, index=ids.index(chosen) if chosen in ids else 0,
                        format_func=labels.get, key="try-run")


def photos_ui() -> list[tuple[str, bytes]]:
    """(name, bytes) of every uploaded photo and of the camera's shot, if any."""
    upload, camera = st.tabs(["Upload photos", "Camera"])
    with upload:
        files = st.file_uploader("Photos with one or more faces", type=PHOTO_TYPES,
                                 accept_multiple_files=True, key="try-upload") or []
    with camera:
        shot = st.camera_input("Take a photo", key="try-camera")
    photos = [(f.name, f.getvalue()) for f in files]
    if shot is not None:
        photos.append(("camera photo", shot.getvalue()))
    return photos


def probability_bars(labels: Sequence[str], probs: Sequence[float], chosen: int) -> go.Figure:
    """One small horizontal bar per age group, the answer highlighted."""
    colours = ["#fde725" if i == chosen else "#21918c" for i in range(len(labels))]
    fig = go.Figure(go.Bar(x=[100 * p for p in probs], y=list(labels), orientation="h",
                           marker={"color": colours}, text=[f"{100 * p:.0f}%" for p in probs],
                           textposition="outside", cliponaxis=False,
                           hovertemplate="%{y}: %{x:.1f}%<extra></extra>"))
    fig.update_layout(title="How sure, per age group", height=230,
                      margin={"l": 10, "r": 30, "t": 40, "b": 30},
                      xaxis={"range": [0, 110], "title": "probability (%)"},
                      yaxis={"autorange": "reversed", "type": "category"})
    return fig


def face_sentence(labels: Sequence[str], probs: Sequence[float], method: str, *,
                  corrected: bool = False) -> str:
    """One plain sentence about a face's answer, and what its picture shows."""
    order = sorted(range(len(probs)), key=lambda i: -probs[i])
    best, second = order[0], order[1] if len(order) > 1 else None
    text = f"The model puts this face in the {labels[best]} age group"
    if corrected:
        text += " (corrected for the population's age mix)"
    if probs[best] >= 0.7 or second is None:
        text += f", {100 * probs[best]:.0f}% sure."
    else:
        text += (f", but it is not sure: {100 * probs[best]:.0f}% for {labels[best]} and "
                 f"{100 * probs[second]:.0f}% for {labels[second]}.")
    return f"{text} {EXPLAINED_BY.get(method, '')}".strip()


def unreadable_message(name: str, error: dict[str, Any]) -> str:
    return f"**{name}** {UNREADABLE.get(error.get('reason'), 'could not be read')}."


def calibration_note(temperature: float | None) -> str:
    """What the percentages mean: calibrated by the run's temperature, or not yet."""
    if temperature is None:
        return ("The percentages are the model's own, not yet calibrated: evaluate this run "
                "once to fit its temperature, and they will mean how often it is right.")
    return (f"The percentages are calibrated (temperature {temperature:.2f}, fitted on "
            f"validation faces): an answer given at 80% was right about 80 times in 100 "
            f"there.")


def no_face_message(name: str) -> str:
    return (f"No face found in **{name}**. Try a photo where the face is large, lit from the "
            "front and not turned away.")

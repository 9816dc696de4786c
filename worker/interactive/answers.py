"""A recorded run made ready to try (`load_run`) and photos answered with it (`answer`):
the glue between storage's records and backend/live.py, shared by the try-it service and
`agerec predict` when no service runs. TensorFlow loads inside `load_run` only.

Photos arrive as bytes and stay in memory: the answer carries the annotated photo and
each face's overlay as encoded bytes, and nothing derived from a photo is written
anywhere (no crop or descriptor cache, no job, no artifact). Logs name counts and
timings only, never a photo's name.
"""
from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from storage import datasets, runs
from storage.records import Run
from worker.context import AppContext
from worker.stages.target_prior import run_target_prior

log = logging.getLogger(__name__)
PHOTO_QUALITY = 85  # JPEG quality of the annotated photo sent back


@dataclass
class ReadyRun:
    """A run loaded for trying: the record, its class labels, the live model."""

    run: Run
    labels: list[str]
    live: Any  # backend.live.LiveRun
    load_seconds: float


def load_run(app: AppContext, run_id: int) -> ReadyRun:
    """Load a finished run (a member or an ensemble of members) and warm it up."""
    from backend.live import CropSpec, LiveRun

    started = time.perf_counter()
    run = runs.get_run(app.db, run_id)
    if run.status != "succeeded":
        raise ValueError(f"run {run.id} is {run.status}: only a finished run can be tried")
    members = [runs.get_run(app.db, m) for m in run.members] if run.kind == "ensemble" else [run]
    dataset = datasets.get_dataset(app.db, run.dataset_id)
    prep = dataset.params
    crop = CropSpec.for_photos(prep.get("detector", "cnn"), prep.get("margin", 0.25),
                               prep["image_size"])
    live = LiveRun.load([app.paths.resolve(m.dir) for m in members], crop,
                        ensemble_dir=app.paths.resolve(run.dir) if run.kind == "ensemble" else None)
    seconds = time.perf_counter() - started
    log.info("run %s loaded in %.1f s", run.id, seconds)
    return ReadyRun(run, list(dataset.class_scheme["labels"]), live, seconds)


def answer(app: AppContext, ready: ReadyRun, photos: list[tuple[str, bytes]], *,
           target_prior: Any = "none", explain: bool = True) -> tuple[dict[str, Any], list[bytes]]:
    """Every face of every photo: (a JSON-ready header, the encoded images it points to
    by index: one annotated JPEG per readable photo, one overlay PNG per explained face)."""
    from backend.data.images import ImageReadError, decode_image
    from backend.evaluation.calibration import apply_temperature
    from backend.live import annotated_photo, face_overlay

    started = time.perf_counter()
    prior = run_target_prior(app.db, ready.run, target_prior, func="try")
    temperature = runs.get_temperature(app.db, ready.run.id)
    blobs: list[bytes] = []
    out, n_faces, n_unreadable = [], 0, 0
    for name, data in photos:
        try:
            image = decode_image(data, name, max_pixels=app.settings.max_image_pixels)
        except ImageReadError as exc:
            n_unreadable += 1
            out.append({"name": name, "error": {"reason": exc.reason, "message": str(exc)}})
            continue
        # The prior first, then the temperature, as evaluation does: the group picked is
        # the one whose accuracy was measured, and only the confidence is rescaled (a run
        # not yet evaluated has no temperature: 1.0 leaves it as it is).
        faces = ready.live.faces(image, explain=explain, adjust=lambda p: apply_temperature(
            prior.apply(p), temperature or 1.0))
        entry = {"name": name, "width": int(image.shape[1]), "height": int(image.shape[0]),
                 "photo": _add(blobs, _encode(annotated_photo(image, [f.box for f in faces]),
                                              "JPEG")),
                 "faces": []}
        for number, face in enumerate(faces, start=1):
            k = int(face.probs.argmax())
            drawn = face_overlay(face)
            entry["faces"].append({
                "number": number, "box": list(face.box), "class": k, "label": ready.labels[k],
                "probabilities": [round(float(p), 4) for p in face.probs],
                "method": face.method,
                "overlay": None if drawn is None else _add(blobs, _encode(drawn, "PNG"))})
        n_faces += len(faces)
        out.append(entry)
    seconds = time.perf_counter() - started
    log.info("run %s: %d photo(s), %d face(s), %d unreadable, %.2f s", ready.run.id,
             len(photos), n_faces, n_unreadable, seconds)
    header = {"run_id": ready.run.id, "labels": ready.labels, "target_prior": prior.to_dict(),
              "temperature": temperature, "photos": out, "seconds": round(seconds, 3)}
    return header, blobs


def _encode(image: np.ndarray, fmt: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    options = {"quality": PHOTO_QUALITY} if fmt == "JPEG" else {}
    Image.fromarray(image).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _add(blobs: list[bytes], blob: bytes) -> int:
    blobs.append(blob)
    return len(blobs) - 1

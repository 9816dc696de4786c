"""dlib's 128-d face descriptors as a backbone, with a dense head on top.

Each face crop (a face with a 25% margin) goes: HOG face detection on the crop
(falling back to the central box the margin implies) -> 5-point alignment ->
dlib's ResNet descriptor. Descriptors are cached by content hash, one .npy per
crop, so a rerun computes nothing. This module loads no TensorFlow unless
`build_descriptor_model` is called.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from functools import lru_cache
from multiprocessing import current_process
from pathlib import Path

import numpy as np

from backend.models.head import HeadConfig, dense_head
from backend.params import InvalidParameterError, check_float, check_int
from backend.processes import process_pool

DESCRIPTOR_SIZE = 128
MODEL_NAME = "dlib_face_recognition_resnet_model_v1+shape_predictor_5_face_landmarks+hog"
UPSAMPLE = 1  # one 2x upsampling lets HOG find the ~80 px faces of 128 px crops
CHIP_SIZE, CHIP_PADDING = 150, 0.25  # the aligned chip dlib's descriptor network takes


@lru_cache(maxsize=1)
def _dlib_models():
    """Detector, 5-point shape predictor and descriptor network, loaded once per process."""
    import dlib
    import face_recognition_models as frm

    return (dlib.get_frontal_face_detector(),
            dlib.shape_predictor(frm.pose_predictor_five_point_model_location()),
            dlib.face_recognition_model_v1(frm.face_recognition_model_location()))


def central_box(size: int, margin: float) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the face in a crop widened by `margin` per side."""
    face = size / (1.0 + 2.0 * margin)
    start = (size - face) / 2.0
    return round(start), round(start), round(start + face) - 1, round(start + face) - 1


def _describe(crop: np.ndarray, margin: float, jitter: int = 0) -> np.ndarray:
    """One crop's descriptor: detect (or assume the centre), align, describe; with
    `jitter`, describe one random jitter of the aligned chip (dlib's own: a small shift,
    scale and rotation, and a flip half the time) instead."""
    import dlib

    detector, predictor, network = _dlib_models()
    # dlib misreads strided numpy views: hand it one contiguous block.
    crop = np.ascontiguousarray(crop)
    found = detector(crop, UPSAMPLE)
    # The biggest detection is the crop's own face; none -> the margin's box.
    box = max(found, key=lambda r: r.area()) if found else dlib.rectangle(
        *central_box(crop.shape[0], margin))
    shape = predictor(crop, box)
    if jitter:
        # The chip compute_face_descriptor(crop, shape) would align, then dlib's jitter.
        chip = dlib.get_face_chip(crop, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
        jittered = np.ascontiguousarray(dlib.jitter_image(chip, num_jitters=1)[0])
        return np.asarray(network.compute_face_descriptor(jittered), dtype=np.float32)
    return np.asarray(network.compute_face_descriptor(crop, shape), dtype=np.float32)


def _describe_many(crops: np.ndarray, margin: float, jitter: int = 0) -> list[np.ndarray]:
    """Descriptors of a chunk of crops (what one worker process runs)."""
    return [_describe(crop, margin, jitter) for crop in crops]


def crop_key(crop: np.ndarray, jitter: int = 0) -> str:
    """sha256 of the model name, the crop's shape and its bytes (and the jitter's number)."""
    digest = hashlib.sha256(MODEL_NAME.encode())
    digest.update(str(crop.shape).encode())
    digest.update(np.ascontiguousarray(crop).tobytes())
    if jitter:
        digest.update(f"jitter{jitter}".encode())
    return digest.hexdigest()


def _cache_path(cache_dir: Path, key: str) -> Path:
    """One file per crop, sharded by the first two hex digits."""
    return cache_dir / key[:2] / f"{key}.npy"


def _save(path: Path, descriptor: np.ndarray) -> None:
    """Write atomically, so a killed run never leaves a half-written descriptor."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, descriptor)
    os.replace(tmp, path)


def _check_images(images) -> np.ndarray:
    """A uint8 (N, S, S, 3) array, or InvalidParameterError describing what came."""
    arr = np.asarray(images)
    if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[-1] != 3 or arr.shape[1] != arr.shape[2]:
        got = f"array of dtype {arr.dtype} and shape {arr.shape}"
        raise InvalidParameterError("images", "face_descriptors",
                                    "a uint8 array of shape (N, S, S, 3)", got)
    return arr


def face_descriptors(images: np.ndarray, *, cache_dir: str | os.PathLike | None = None,
                     workers: int = 1, progress: Callable[[int, int], None] | None = None,
                     margin: float = 0.25, chunk: int = 64, jitter: int = 0) -> np.ndarray:
    """dlib's 128-d descriptors of uint8 face crops (N, S, S, 3) -> float32 (N, 128).

    `cache_dir` None computes everything; `workers` > 1 spreads the misses over
    that many processes; `progress(done, total)` is called as crops finish.
    `jitter` k > 0 describes a random dlib jitter of each aligned face instead, cached
    as the k-th (dlib draws it from its own generator: a fresh cache gives other
    jitters, a cached one the same).
    """
    images = _check_images(images)
    workers = check_int(workers, param="workers", func="face_descriptors", low=1)
    margin = check_float(margin, param="margin", func="face_descriptors", low=0.0)
    chunk = check_int(chunk, param="chunk", func="face_descriptors", low=1)
    jitter = check_int(jitter, param="jitter", func="face_descriptors", low=0)
    total, out = len(images), np.zeros((len(images), DESCRIPTOR_SIZE), np.float32)
    cache = Path(cache_dir) if cache_dir is not None else None
    # Cache hits first: only the misses cost any dlib time.
    keys = [crop_key(crop, jitter) for crop in images] if cache is not None else [None] * total
    missing = []
    for i, key in enumerate(keys):
        if cache is not None and _cache_path(cache, key).is_file():
            out[i] = np.load(_cache_path(cache, key))
        else:
            missing.append(i)
    done = total - len(missing)
    if progress:
        progress(done, total)
    for idx, descriptors in _compute(images, missing, margin, workers, chunk, jitter):
        for i, descriptor in zip(idx, descriptors):
            out[i] = descriptor
            if cache is not None:
                _save(_cache_path(cache, keys[i]), descriptor)
        done += len(idx)
        if progress:
            progress(done, total)
    return out


def _compute(images: np.ndarray, missing: list[int], margin: float, workers: int, chunk: int,
             jitter: int = 0):
    """Yield (indices, descriptors) per chunk, in this process or a process pool."""
    chunks = [missing[s:s + chunk] for s in range(0, len(missing), chunk)]
    # A daemon process (a Celery prefork child) may not start processes of its own.
    if workers == 1 or len(chunks) <= 1 or current_process().daemon:
        for idx in chunks:
            yield idx, _describe_many(images[idx], margin, jitter)
        return
    with process_pool(workers) as pool:  # its workers die with this process
        futures = [(idx, pool.submit(_describe_many, images[idx], margin, jitter))
                   for idx in chunks]
        for idx, future in futures:
            yield idx, future.result()


def build_descriptor_model(n_classes: int, head: HeadConfig = HeadConfig()):
    """Descriptor (B, 128) named `descriptor` -> class probabilities via the dense head."""
    import keras

    descriptor = keras.Input((DESCRIPTOR_SIZE,), dtype="float32", name="descriptor")
    return keras.Model(descriptor, dense_head(descriptor, n_classes, head), name="agerec_dlib_face")

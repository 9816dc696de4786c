"""Plain baselines for the speed benchmark: the same work, done the simplest way.

- Training input: a Python generator that decodes each JPEG with PIL, one by one,
  every epoch, and augments it in Python with PIL (the same affine ranges, flip and
  per-class strengths as backend/data/augment.py), yielding numpy batches to `fit`.
- Inference: decode each JPEG with PIL and call the model on it alone.
- GradCAM and face detection need no code here: their baselines are product paths
  (`class_heatmaps(batch_size=1)`, `extract_crops(workers=1)`).

Differences that do not change the amount of work: PIL's affine fills pixels moved in
from outside with black (ours reflects), and resizes with BILINEAR (the product's
crops use LANCZOS once, at preprocessing).
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from backend.data.augment_config import AugmentConfig


def decode(path: str, size: int) -> np.ndarray:
    """The photo at `path` as a (size, size, 3) uint8 RGB array."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB").resize((size, size), Image.BILINEAR))


def affine_coefficients(u: np.ndarray, size: int, cfg: AugmentConfig) -> tuple[float, ...]:
    """PIL AFFINE data (a, b, c, d, e, f) mapping output to input pixels.

    `u` holds five numbers in [-strength, strength]: rotation, x shift, y shift,
    shear and zoom, in that order, as backend.data.augment._random_affines uses them.
    """
    angle = u[0] * math.radians(cfg.rotation)
    tx, ty = u[1] * cfg.width_shift * size, u[2] * cfg.height_shift * size
    shear = u[3] * cfg.shear
    # Strength can push the zoom below zero; keep a positive scale as ours does.
    zoom = max(1.0 + u[4] * cfg.zoom, 0.1)
    # input = A (output - centre) + centre + shift, with A = rotation @ shear @ zoom.
    cos, sin = math.cos(angle), math.sin(angle)
    a00, a01 = cos * zoom, (cos * shear - sin) * zoom
    a10, a11 = sin * zoom, (sin * shear + cos) * zoom
    centre = (size - 1) / 2.0
    b0 = centre - a00 * centre - a01 * centre + tx
    b1 = centre - a10 * centre - a11 * centre + ty
    return (a00, a01, b0, a10, a11, b1)


def augment(image: np.ndarray, strength: float, rng: np.random.Generator,
            cfg: AugmentConfig) -> np.ndarray:
    """One random affine warp and flip of a uint8 image, as float32 in [0, 1]."""
    size = image.shape[0]
    picture = Image.fromarray(image)
    # Strength 0 leaves an image untouched, as in augment_batch.
    if strength > 0:
        u = rng.uniform(-1.0, 1.0, 5) * strength
        picture = picture.transform((size, size), Image.AFFINE,
                                    affine_coefficients(u, size, cfg), Image.BILINEAR)
        if cfg.horizontal_flip and rng.random() < 0.5:
            picture = ImageOps.mirror(picture)
    return np.asarray(picture, dtype=np.float32) / 255.0


def training_batches(paths: Sequence[str], labels: np.ndarray, *, n_classes: int,
                     batch_size: int, size: int, strengths: np.ndarray,
                     cfg: AugmentConfig | None = None,
                     seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Endless (images, one-hot labels) batches: decode, augment, stack, one at a time."""
    cfg = cfg or AugmentConfig()
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    eye = np.eye(n_classes, dtype=np.float32)
    while True:
        # A new order every epoch; the short last batch is dropped.
        order = rng.permutation(len(paths))
        for start in range(0, len(order) - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            x = np.stack([augment(decode(paths[i], size), float(strengths[labels[i]]), rng, cfg)
                          for i in idx])
            yield x, eye[labels[idx]]


def predict_one_by_one(model: Any, paths: Sequence[str], size: int) -> np.ndarray:
    """Class index of each photo: decode it, then run the model on it alone."""
    classes = []
    for path in paths:
        x = decode(path, size)[None].astype(np.float32) / 255.0
        classes.append(int(np.argmax(np.asarray(model(x, training=False))[0])))
    return np.asarray(classes, dtype=np.int64)

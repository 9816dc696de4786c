"""Occlusion sensitivity (Zeiler & Fergus, 2014): a model-agnostic explanation.

Each cell of a `grid` x `grid` partition of the image is covered in turn with the
same baseline the deletion score uses (`scores.perturbation_baseline`, a blurred
copy by default), and the fall of the class's probability is that cell's value.
The cell values (their positive part: covering the cell hurt the class) are
upsampled bilinearly to the image's size and scaled to [0, 1] per image, as
GradCAM's maps are, so `scores.py` reads both the same way (concentration, face
share, deletion and insertion AUC against a random map).

Only predictions are needed: `predict_fn` maps a float32 (B, H, W, 3) batch in
[0, 1] to (B, n_classes) probabilities, so an image CNN, dlib's descriptors with
their dense head, and an ensemble of both are explained alike. Every occluded copy
of every image goes through `predict_fn` in batches of `batch_size`. Numpy and
scipy only: the model enters only through `predict_fn`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from backend.explain.scores import BASELINES, perturbation_baseline
from backend.params import InvalidParameterError, check_choice, check_int

DEFAULT_GRID = 8  # cells per side: 64 covered copies per image
# A map whose largest fall is below this probability counts as flat (no evidence).
_FLAT_DROP = 1e-6


def cell_edges(size: int, grid: int) -> np.ndarray:
    """The grid + 1 pixel edges of `grid` near-equal cells along a side of `size` pixels."""
    return np.rint(np.linspace(0, size, grid + 1)).astype(np.int64)


def occlusion_maps(predict_fn: Callable[[np.ndarray], Any], images: Any, class_indices: Any, *,
                   grid: int = DEFAULT_GRID, baseline: str = "blur",
                   batch_size: int = 64) -> np.ndarray:
    """Occlusion maps of `images` for one class each, float32 (N, H, W) in [0, 1].

    `images` is (N, H, W, 3), uint8 (scaled to [0, 1] here) or float in [0, 1];
    `class_indices` gives one class per image (or one for all). A map with no cell
    whose covering lowers the class's probability comes back as zeros (flat).
    """
    func = "occlusion_maps"
    grid = check_int(grid, param="grid", func=func, low=1)
    batch_size = check_int(batch_size, param="batch_size", func=func, low=1)
    check_choice(baseline, BASELINES, param="baseline", func=func)
    x = _as_unit_float(images, func)
    n, height, width = x.shape[:3]
    if grid > min(height, width):
        raise InvalidParameterError("grid", func, f"at most the image side ({min(height, width)})",
                                    grid)
    classes = _class_indices(class_indices, n, func)
    cells = grid * grid
    rows, cols = cell_edges(height, grid), cell_edges(width, grid)
    bases = np.stack([perturbation_baseline(image, baseline) for image in x])
    # Every (image, cell) pair, flat; the original images come first, unoccluded.
    original = _predict(predict_fn, x, batch_size)
    _check_probs(original, n, classes, func)
    falls = np.empty((n, cells), np.float64)
    pairs = [(i, c) for i in range(n) for c in range(cells)]
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start:start + batch_size]
        batch = np.empty((len(chunk), *x.shape[1:]), np.float32)
        for k, (i, c) in enumerate(chunk):
            r, q = divmod(c, grid)
            batch[k] = x[i]
            batch[k, rows[r]:rows[r + 1], cols[q]:cols[q + 1]] = \
                bases[i, rows[r]:rows[r + 1], cols[q]:cols[q + 1]]
        probs = _predict(predict_fn, batch, batch_size)
        _check_probs(probs, len(chunk), classes, func)
        for k, (i, c) in enumerate(chunk):
            falls[i, c] = original[i, classes[i]] - probs[k, classes[i]]
    maps = [upsample(np.maximum(falls[i].reshape(grid, grid), 0.0), (height, width))
            for i in range(n)]
    return np.stack([_normalise(m) for m in maps]).astype(np.float32)


def upsample(cells: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear upsampling of a (g, g') cell map to (H, W), cell centres aligned; pixels
    beyond the outer centres keep the edge cell's value."""
    cells = np.asarray(cells, dtype=np.float64)
    out = cells
    for axis, (g, side) in enumerate(zip(cells.shape, size)):
        # Each pixel centre, in cell units from the first cell's centre.
        pos = np.clip((np.arange(side) + 0.5) * g / side - 0.5, 0, g - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, g - 1)
        w = pos - lo
        shape = [1, 1]
        shape[axis] = side
        w = w.reshape(shape)
        out = np.take(out, lo, axis=axis) * (1 - w) + np.take(out, hi, axis=axis) * w
    return out


def _normalise(m: np.ndarray) -> np.ndarray:
    """Scale a non-negative map so its peak is 1; a map without a real fall is zeros."""
    peak = float(m.max()) if m.size else 0.0
    if peak <= _FLAT_DROP:
        return np.zeros_like(m)
    return np.clip(m / peak, 0.0, 1.0)


def _predict(predict_fn: Callable[[np.ndarray], Any], x: np.ndarray,
             batch_size: int) -> np.ndarray:
    parts = [np.asarray(predict_fn(x[s:s + batch_size]), dtype=np.float64)
             for s in range(0, len(x), batch_size)]
    return np.concatenate(parts, axis=0)


def _check_probs(probs: np.ndarray, n: int, classes: np.ndarray, func: str) -> None:
    if probs.ndim != 2 or probs.shape[0] != n or (len(classes) and classes.max() >= probs.shape[1]):
        raise InvalidParameterError("predict_fn", func, f"a function returning ({n}, n_classes) "
                                    f"probabilities with n_classes > {int(classes.max())}",
                                    f"an answer of shape {probs.shape}")


def _as_unit_float(images: Any, func: str) -> np.ndarray:
    """(N, H, W, 3) images as float32 in [0, 1] (uint8 is divided by 255)."""
    x = np.asarray(images)
    if x.ndim != 4 or x.shape[-1] != 3 or len(x) == 0:
        raise InvalidParameterError("images", func, "a non-empty (N, H, W, 3) batch", x.shape)
    return x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)


def _class_indices(class_indices: Any, n: int, func: str) -> np.ndarray:
    """One non-negative class index per image (a single index serves every image)."""
    classes = np.asarray(class_indices).reshape(-1)
    if classes.size == 1 and n != 1:
        classes = np.repeat(classes, n)
    if classes.size != n:
        raise InvalidParameterError("class_indices", func, f"one index per image ({n})",
                                    f"{classes.size} indices")
    if not np.all(np.equal(np.mod(classes, 1), 0)) or (classes < 0).any():
        raise InvalidParameterError("class_indices", func, "non-negative integers", classes)
    return classes.astype(np.int64)

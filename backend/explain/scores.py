"""Numbers that describe a heatmap, and the deletion / insertion sanity checks.

Section 5 of the paper reads its GradCAM maps by eye ("localized and intense" for
VGG-19, "more dispersed" for ResNet, broader for greyscale). These scores put a
number on those words so models, colour/grey and correct/misclassified images can
be compared in a table:

* `top_mass_share`: how much of the map's mass sits in its brightest 10% pixels
  (high = localized, 0.1 = flat);
* `normalised_entropy`: entropy of the map as a distribution over pixels, divided
  by its maximum (1 = uniform, 0 = one pixel);
* `face_region_share`: the share of mass on the face itself rather than hair,
  ears and background;
* `deletion_auc` / `insertion_auc` (Petsiuk et al., RISE, 2018): whether the
  pixels the map ranks highest really drive the class score; compared with
  `random_heatmap` as the sanity baseline (Adebayo et al., 2018).

All functions are pure numpy/scipy on arrays; the model enters only through a
`predict_fn` callable.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

from backend.params import InvalidParameterError, check_choice, check_float, check_int

# What deleted pixels become: a blurred copy, black, or the image's channel means.
BASELINES = ("blur", "black", "mean")

# The face box inside our aligned crops, as (top, left, bottom, right) fractions of
# the side. A crop is the detector's face box w plus a 25% margin on each side, so
# its side is 1.5 w and the face spans [0.25 w, 1.25 w] / 1.5 w = [1/6, 5/6] in
# both directions; hair, ears, neck and background fall outside.
FACE_REGION = (1 / 6, 1 / 6, 5 / 6, 5 / 6)


def _as_map(h: Any, func: str) -> np.ndarray:
    """A heatmap as a finite, non-negative 2-D float64 array (or a clear error)."""
    m = np.asarray(h, dtype=np.float64)
    if m.ndim != 2 or m.size < 2:
        raise InvalidParameterError("h", func, "a 2-D heatmap with at least 2 pixels", m.shape)
    if not np.isfinite(m).all() or (m < 0).any():
        raise InvalidParameterError("h", func, "finite and non-negative",
                                    f"array with min {np.nanmin(m)!r}")
    return m


def top_mass_share(h: Any, fraction: float = 0.1) -> float:
    """Share of the map's total mass held by its top `fraction` of pixels.

    A uniform map gives `fraction`; a map with all mass in few pixels gives 1.
    The top k = round(fraction * #pixels) pixels count (at least one). Returns NaN
    for an all-zero map, which has no mass to share.
    """
    fraction = check_float(fraction, param="fraction", func="top_mass_share", low=0.0, high=1.0)
    if fraction == 0.0:
        raise InvalidParameterError("fraction", "top_mass_share", "a number in (0, 1]", fraction)
    m = _as_map(h, "top_mass_share").ravel()
    total = m.sum()
    if total <= 0:
        return float("nan")
    # Partial sort: only the k largest values are needed.
    k = max(1, int(round(fraction * m.size)))
    top = np.partition(m, m.size - k)[m.size - k:]
    return float(top.sum() / total)


def normalised_entropy(h: Any) -> float:
    """Shannon entropy of the map as a distribution over pixels, over log(#pixels).

    1 means mass spread evenly over every pixel, 0 means one pixel holds it all.
    Returns NaN for an all-zero map.
    """
    m = _as_map(h, "normalised_entropy").ravel()
    total = m.sum()
    if total <= 0:
        return float("nan")
    # Zero-mass pixels add nothing (0 log 0 = 0).
    p = m[m > 0] / total
    return float(-(p * np.log(p)).sum() / np.log(m.size))


def region_mask(shape: Sequence[int], region: Sequence[float] = FACE_REGION) -> np.ndarray:
    """Boolean (H, W) mask of the pixels whose centres lie inside `region`.

    `region` is (top, left, bottom, right) as fractions of the height and width.
    """
    top, left, bottom, right = (
        check_float(v, param="region", func="region_mask", low=0.0, high=1.0) for v in region)
    if not (top < bottom and left < right):
        raise InvalidParameterError("region", "region_mask",
                                    "(top, left, bottom, right) with top < bottom and left < right",
                                    tuple(region))
    height, width = int(shape[0]), int(shape[1])
    # Pixel i covers [i, i + 1); its centre decides whether it is inside.
    rows = (np.arange(height) + 0.5) / height
    cols = (np.arange(width) + 0.5) / width
    inside_rows = (rows >= top) & (rows <= bottom)
    inside_cols = (cols >= left) & (cols <= right)
    return inside_rows[:, None] & inside_cols[None, :]


def face_region_share(h: Any, region: Sequence[float] = FACE_REGION) -> float:
    """Share of the map's mass inside the face box `region` (see FACE_REGION).

    With the default box a uniform map gives about 4/9 (the box's area); values
    near 1 mean the map stays on the face. Returns NaN for an all-zero map.
    """
    m = _as_map(h, "face_region_share")
    total = m.sum()
    if total <= 0:
        return float("nan")
    return float(m[region_mask(m.shape, region)].sum() / total)


def random_heatmap(shape: Sequence[int], seed: int | Sequence[int], *,
                   sigma: float | None = None) -> np.ndarray:
    """A smooth random (H, W) float32 map in [0, 1]: blurred uniform noise.

    The sanity baseline for the deletion score: a real explanation must beat a
    map that is just as smooth but knows nothing. `sigma` (pixels) defaults to
    max(H, W) / 8, blobs about as coarse as GradCAM upsampled from a 4x4 grid.
    """
    height = check_int(shape[0], param="shape", func="random_heatmap", low=1)
    width = check_int(shape[1], param="shape", func="random_heatmap", low=1)
    sigma = max(height, width) / 8 if sigma is None else check_float(
        sigma, param="sigma", func="random_heatmap", low=0.0)
    rng = np.random.default_rng(seed)
    # Blur white noise so the map has blobs, not salt-and-pepper.
    smooth = ndimage.gaussian_filter(rng.random((height, width)), sigma=sigma, mode="reflect")
    lo, hi = smooth.min(), smooth.max()
    if hi - lo <= 0:
        return np.zeros((height, width), np.float32)
    return ((smooth - lo) / (hi - lo)).astype(np.float32)


def perturbation_baseline(image: Any, baseline: str = "blur",
                          blur_sigma: float | None = None) -> np.ndarray:
    """The image with its information removed, as float32 of the same shape.

    'blur': Gaussian blur of each channel (sigma defaults to max(H, W) / 16 pixels),
    which removes detail without adding the sharp edges a black patch would;
    'black': zeros; 'mean': each channel's mean.
    """
    check_choice(baseline, BASELINES, param="baseline", func="perturbation_baseline")
    x = np.asarray(image, dtype=np.float32)
    if x.ndim != 3:
        raise InvalidParameterError("image", "perturbation_baseline", "an (H, W, C) array", x.shape)
    if baseline == "black":
        return np.zeros_like(x)
    if baseline == "mean":
        return np.broadcast_to(x.mean(axis=(0, 1), keepdims=True), x.shape).astype(np.float32)
    sigma = _blur_sigma(x.shape, blur_sigma)
    # Blur within each channel only; 'nearest' keeps the borders from darkening.
    return ndimage.gaussian_filter(x, sigma=(sigma, sigma, 0), mode="nearest").astype(np.float32)


@dataclass(frozen=True)
class PerturbationCurve:
    """One deletion or insertion curve of one image and class."""

    auc: float  # trapezoid area under `scores` over `fractions` (x axis 0..1)
    fractions: np.ndarray = field(repr=False)  # (steps + 1,) share of pixels changed
    scores: np.ndarray = field(repr=False)  # (steps + 1,) class probability at each step
    config: dict[str, Any] = field(default_factory=dict)  # kind, steps, baseline, blur_sigma, ...


def deletion_auc(predict_fn: Callable[[np.ndarray], Any], image: Any, heatmap: Any,
                 class_index: int, *, steps: int = 20, baseline: str = "blur",
                 blur_sigma: float | None = None, seed: int = 0) -> PerturbationCurve:
    """Deletion curve: replace pixels by the baseline, most important first.

    `predict_fn` maps an (B, H, W, C) float32 batch (in the scale of `image`) to
    (B, n_classes) probabilities. Pixels are taken in decreasing heatmap order in
    `steps` equal chunks; all steps + 1 images go to one `predict_fn` call. A good
    map makes the class probability fall fast, so LOWER is better. Ties in the
    heatmap are broken by a random order drawn from `seed`, not by raster order.
    """
    return _perturbation_curve("deletion", predict_fn, image, heatmap, class_index,
                               steps=steps, baseline=baseline, blur_sigma=blur_sigma, seed=seed)


def insertion_auc(predict_fn: Callable[[np.ndarray], Any], image: Any, heatmap: Any,
                  class_index: int, *, steps: int = 20, baseline: str = "blur",
                  blur_sigma: float | None = None, seed: int = 0) -> PerturbationCurve:
    """Insertion curve: start from the baseline and put pixels back, most important first.

    Same arguments as `deletion_auc`; a good map makes the class probability rise
    fast, so HIGHER is better.
    """
    return _perturbation_curve("insertion", predict_fn, image, heatmap, class_index,
                               steps=steps, baseline=baseline, blur_sigma=blur_sigma, seed=seed)


def _perturbation_curve(kind: str, predict_fn: Callable[[np.ndarray], Any], image: Any,
                        heatmap: Any, class_index: int, *, steps: int, baseline: str,
                        blur_sigma: float | None, seed: int) -> PerturbationCurve:
    func = f"{kind}_auc"
    steps = check_int(steps, param="steps", func=func, low=1)
    class_index = check_int(class_index, param="class_index", func=func, low=0)
    check_choice(baseline, BASELINES, param="baseline", func=func)
    x = np.asarray(image, dtype=np.float32)
    h = np.asarray(heatmap, dtype=np.float64)
    if x.ndim != 3 or h.shape != x.shape[:2]:
        raise ValueError(f"{func} needs an (H, W, C) image and an (H, W) heatmap of the same "
                         f"H and W; got image {x.shape} and heatmap {h.shape}")
    sigma = _blur_sigma(x.shape, blur_sigma) if baseline == "blur" else None
    base = perturbation_baseline(x, baseline, sigma)
    n_pixels = h.size
    # Rank every pixel once: rank 0 is the most important.
    rank = np.empty(n_pixels, dtype=np.int64)
    rank[_pixel_order(h, seed)] = np.arange(n_pixels)
    # Step k has changed the first counts[k] pixels (equal chunks, last = all).
    counts = np.rint(np.linspace(0, n_pixels, steps + 1)).astype(np.int64)
    changed = (rank[None, :] < counts[:, None]).reshape(steps + 1, *h.shape, 1)
    start, end = (x, base) if kind == "deletion" else (base, x)
    batch = np.where(changed, end[None], start[None]).astype(np.float32)
    # One predict call for the whole curve.
    probs = np.asarray(predict_fn(batch), dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] != steps + 1 or class_index >= probs.shape[1]:
        raise ValueError(f"predict_fn must return ({steps + 1}, n_classes) probabilities with "
                         f"n_classes > class_index={class_index}; got shape {probs.shape}")
    scores = probs[:, class_index]
    fractions = counts / n_pixels
    config = {"kind": kind, "steps": steps, "baseline": baseline, "blur_sigma": sigma,
              "class_index": class_index, "seed": seed}
    return PerturbationCurve(auc=float(np.trapezoid(scores, fractions)), fractions=fractions,
                             scores=scores, config=config)


def _pixel_order(h: np.ndarray, seed: int) -> np.ndarray:
    """Flat pixel indices by decreasing heatmap value, ties in a seeded random order."""
    tiebreak = np.random.default_rng(seed).permutation(h.size)
    # lexsort sorts by the last key first: value (descending), then the random key.
    return np.lexsort((tiebreak, -h.ravel()))


def _blur_sigma(shape: Sequence[int], blur_sigma: float | None) -> float:
    """The blur baseline's sigma in pixels: given, or max(H, W) / 16."""
    if blur_sigma is None:
        return max(int(shape[0]), int(shape[1])) / 16
    return check_float(blur_sigma, param="blur_sigma", func="perturbation_baseline", low=0.0)

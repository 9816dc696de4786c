"""Colour a heatmap with viridis and lay it over the face it explains.

Section 5 of the paper draws its GradCAM maps with the viridis colour map, from
purple (0) to yellow (1). matplotlib is not a dependency, so the map is a small
table: matplotlib's viridis (CC0, by Stefan van der Walt and Nathaniel Smith)
sampled at every 8th of its 256 entries plus the last one; linear interpolation
between these stops stays within 2/255 of the full table.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from backend.params import check_float

# Entries 0, 8, 16, ..., 248, 255 of the 256-entry viridis table, as hex RGB.
_VIRIDIS_STOPS = """
    440154 470d60 48186a 482374 472d7b 453781 424086 3e4989
    3b528b 375b8d 33638d 2f6b8e 2c728e 297a8e 26828e 23898e
    21918c 1f988b 1fa088 22a785 28ae80 32b67a 3fbc73 4ec36b
    5ec962 70cf57 84d44b 98d83e addc30 c2df23 d8e219 ece51b
    fde725
""".split()
_STOP_POSITIONS = np.array([*range(0, 256, 8), 255], dtype=np.float64) / 255.0
_STOP_RGB = np.array([[int(code[i:i + 2], 16) for i in (0, 2, 4)] for code in _VIRIDIS_STOPS],
                     dtype=np.float64)
# The 256-entry lookup table every call indexes into.
VIRIDIS_LUT = np.stack(
    [np.interp(np.arange(256) / 255.0, _STOP_POSITIONS, _STOP_RGB[:, c]) for c in range(3)],
    axis=-1).round().astype(np.uint8)


def viridis(values: Any) -> np.ndarray:
    """Map values in [0, 1] (any shape) to uint8 RGB (shape + (3,)); 0 is #440154, 1 #fde725.

    Values outside [0, 1] are clipped and NaN is drawn as 0.
    """
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
    # Quantise to the table's 256 levels.
    idx = np.rint(np.clip(v, 0.0, 1.0) * 255.0).astype(np.intp)
    return VIRIDIS_LUT[idx]


def overlay(image: Any, heatmap: Any, alpha: float = 0.45) -> np.ndarray:
    """Blend viridis(heatmap) over an image: (1 - alpha) * image + alpha * colours, uint8.

    `image` is uint8 (H, W, 3) or (H, W); `heatmap` is (H, W) in [0, 1].
    """
    alpha = check_float(alpha, param="alpha", func="overlay", low=0.0, high=1.0)
    img = np.asarray(image)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    h = np.asarray(heatmap)
    if img.dtype != np.uint8:
        raise ValueError(f"overlay needs a uint8 image (0-255); got dtype {img.dtype}")
    if img.ndim != 3 or img.shape[-1] != 3 or h.shape != img.shape[:2]:
        raise ValueError(f"overlay needs an (H, W, 3) image and an (H, W) heatmap of the same "
                         f"H and W; got image {np.shape(image)} and heatmap {h.shape}")
    # Blend in float so the weights add up exactly, then round back to bytes.
    blended = (1.0 - alpha) * img.astype(np.float64) + alpha * viridis(h).astype(np.float64)
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)

"""How far a model's confidence can be believed: temperature scaling fitted on
validation, the expected calibration error (ECE), reliability bins and the
coverage-accuracy curve.

Confidence is the largest class probability of an image. A calibrated model is right
on 80% of the images it is 80% sure of. Temperature scaling (Guo et al., 2017) divides
the log-probabilities by one number T fitted on validation (T > 1 softens an
over-confident model); it never changes the predicted class, so accuracy is unchanged.
Everything here is numpy (and scipy's scalar minimiser) and returns plain Python values.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from backend.params import InvalidParameterError

N_BINS = 15  # equal-width confidence bins, as in Guo et al.
TEMPERATURE_BOUNDS = (0.05, 20.0)
# Confidence thresholds of the coverage-accuracy curve.
COVERAGE_THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.0, 1.0, 0.05))
_EPS = 1e-12  # probabilities of exactly 0 (a meta-model's argmax output) stay finite in log


def apply_temperature(probs: Any, temperature: float) -> np.ndarray:
    """`probs` (N, C) rescaled by a temperature: softmax(log p / T), rows summing to 1."""
    p = _probs(probs, "apply_temperature")
    temperature = _temperature(temperature)
    if temperature == 1.0 or not len(p):
        return p
    logits = np.log(np.clip(p, _EPS, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    out = np.exp(logits)
    return out / out.sum(axis=1, keepdims=True)


def negative_log_likelihood(probs: Any, labels: Any) -> float | None:
    """Mean -log p(true class); None without images."""
    p = _probs(probs, "negative_log_likelihood")
    y = _labels(labels, p, "negative_log_likelihood")
    if not len(y):
        return None
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], _EPS, 1.0))))


def fit_temperature(probs: Any, labels: Any) -> float:
    """The temperature minimising the negative log-likelihood of (validation) `probs`;
    1.0 (no change) without images or when every image is one class's."""
    from scipy.optimize import minimize_scalar

    p = _probs(probs, "fit_temperature")
    y = _labels(labels, p, "fit_temperature")
    if not len(y):
        return 1.0
    logp = np.log(np.clip(p, _EPS, 1.0))
    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        z = logp / math.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[rows, y]))

    low, high = (math.log(b) for b in TEMPERATURE_BOUNDS)
    found = minimize_scalar(nll, bounds=(low, high), method="bounded",
                            options={"xatol": 1e-4})
    best = float(math.exp(found.x))
    # Keep 1.0 unless scaling really lowers the loss (a flat loss leaves T arbitrary).
    return round(best, 4) if nll(found.x) < nll(0.0) - 1e-9 else 1.0


def reliability_bins(probs: Any, labels: Any, n_bins: int = N_BINS) -> list[dict[str, Any]]:
    """One dict per equal-width confidence bin (lo, hi]: lo, hi, n, mean confidence and
    accuracy of its images (None for an empty bin)."""
    p = _probs(probs, "reliability_bins")
    y = _labels(labels, p, "reliability_bins")
    confidence, hit = _confidence_and_hits(p, y)
    which = _bin_of(confidence, n_bins)
    counts = np.bincount(which, minlength=n_bins)
    conf_sum = np.bincount(which, weights=confidence, minlength=n_bins)
    hit_sum = np.bincount(which, weights=hit, minlength=n_bins)
    return [{"lo": round(b / n_bins, 6), "hi": round((b + 1) / n_bins, 6), "n": int(counts[b]),
             "confidence": float(conf_sum[b] / counts[b]) if counts[b] else None,
             "accuracy": float(hit_sum[b] / counts[b]) if counts[b] else None}
            for b in range(n_bins)]


def expected_calibration_error(probs: Any, labels: Any, n_bins: int = N_BINS) -> float | None:
    """ECE: the bins' |accuracy - mean confidence|, weighted by their share of images."""
    bins = reliability_bins(probs, labels, n_bins)
    total = sum(b["n"] for b in bins)
    if not total:
        return None
    return float(sum(b["n"] * abs(b["accuracy"] - b["confidence"]) for b in bins if b["n"])
                 / total)


def coverage_curve(probs: Any, labels: Any,
                   thresholds: Sequence[float] = COVERAGE_THRESHOLDS) -> list[dict[str, Any]]:
    """If the model answered only when its confidence is at least each threshold: the
    share of images it answers (coverage), how many (n) and its accuracy on them."""
    p = _probs(probs, "coverage_curve")
    y = _labels(labels, p, "coverage_curve")
    confidence, hit = _confidence_and_hits(p, y)
    out = []
    for threshold in thresholds:
        answered = confidence >= threshold
        n = int(answered.sum())
        out.append({"threshold": float(threshold), "n": n,
                    "coverage": float(n / len(y)) if len(y) else None,
                    "accuracy": float(hit[answered].mean()) if n else None})
    return out


def calibration_summary(probs: Any, labels: Any, temperature: float = 1.0,
                        n_bins: int = N_BINS) -> dict[str, Any]:
    """ECE and reliability bins of `probs` before and after the temperature, and the
    coverage-accuracy curve of the temperature-scaled confidences."""
    p = _probs(probs, "calibration_summary")
    scaled = apply_temperature(p, temperature)
    return {"temperature": float(temperature), "n_bins": int(n_bins), "n": int(len(p)),
            "ece_before": expected_calibration_error(p, labels, n_bins),
            "ece_after": expected_calibration_error(scaled, labels, n_bins),
            "bins_before": reliability_bins(p, labels, n_bins),
            "bins_after": reliability_bins(scaled, labels, n_bins),
            "coverage": coverage_curve(scaled, labels)}


def fit_summary(val_probs: Any, val_labels: Any) -> dict[str, Any]:
    """The temperature fitted on validation predictions, with the validation loss and
    ECE before and after it: what a run stores as its calibration."""
    temperature = fit_temperature(val_probs, val_labels)
    scaled = apply_temperature(val_probs, temperature)
    return {"temperature": temperature, "fitted_on": "val", "n": int(len(np.asarray(val_labels))),
            "nll_before": negative_log_likelihood(val_probs, val_labels),
            "nll_after": negative_log_likelihood(scaled, val_labels),
            "ece_before": expected_calibration_error(val_probs, val_labels),
            "ece_after": expected_calibration_error(scaled, val_labels)}


def _confidence_and_hits(p: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if not len(y):
        return np.zeros(0), np.zeros(0)
    return p.max(axis=1), (p.argmax(axis=1) == y).astype(np.float64)


def _bin_of(confidence: np.ndarray, n_bins: int) -> np.ndarray:
    """The (lo, hi] bin of each confidence; 0 goes to the first bin."""
    return np.clip(np.ceil(confidence * n_bins).astype(np.int64) - 1, 0, n_bins - 1)


def _probs(probs: Any, func: str) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or (p.size and not np.isfinite(p).all()):
        raise InvalidParameterError("probs", func, "a finite (N, C) array of probabilities",
                                    f"array of shape {p.shape}")
    return p


def _labels(labels: Any, p: np.ndarray, func: str) -> np.ndarray:
    y = np.asarray(labels).astype(np.int64).reshape(-1)
    if len(y) != len(p) or (len(y) and (y.min() < 0 or y.max() >= p.shape[1])):
        raise InvalidParameterError("labels", func,
                                    f"{len(p)} class indices in [0, {p.shape[1] - 1}]",
                                    f"{len(y)} labels")
    return y


def _temperature(value: Any) -> float:
    t = float(value)
    if not math.isfinite(t) or t <= 0:
        raise InvalidParameterError("temperature", "apply_temperature", "a positive number",
                                    value)
    return t

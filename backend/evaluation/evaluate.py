"""Evaluate predicted probabilities: the metrics dict of a run and the per-image table
that the dashboard shows."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from backend.data.labelled_images import GROUP_PREFIX
from backend.evaluation.calibration import calibration_summary
from backend.evaluation.groups import group_results
from backend.evaluation.intervals import balanced_accuracy_interval, mean_interval
from backend.evaluation.metrics import classification_metrics, per_group_accuracy
from backend.params import InvalidParameterError

# Manifest columns copied into the predictions table when present (and group_* columns).
_ROW_COLUMNS = ("source_path", "crop_path", "age", "gender")


def evaluate_probs(y_true: Sequence[int], probs: np.ndarray, n_classes: int,
                   genders: Sequence[str] | None = None,
                   grey_probs: np.ndarray | None = None, temperature: float = 1.0,
                   groups: Mapping[str, Sequence] | None = None) -> dict:
    """classification_metrics of argmax(probs), plus `per_gender_accuracy` and
    `greyscale_accuracy` (None when genders / greyscale predictions are not given), and:

    - intervals: `accuracy_ci95`, `one_off_ci95`, `balanced_accuracy_ci95`,
      `per_class_ci95` and `per_class_n` (seeded percentile bootstrap, 1,000 resamples);
    - who it works for: `per_group` and `max_gap` (groups.group_results) over gender
      and every attribute of `groups` ({attribute: one label per image});
    - calibration: `ece` of `probs` as they are, `ece_calibrated` after `temperature`
      (the run's, fitted on validation), and `calibration` (calibration_summary: both
      reliability diagrams' bins and the coverage-accuracy curve).
    """
    probs = _check_probs(probs, n_classes, len(y_true), "probs")
    y_pred = probs.argmax(axis=1)
    result = classification_metrics(y_true, y_pred, n_classes)
    result["per_gender_accuracy"] = (per_group_accuracy(y_true, y_pred, genders)
                                     if genders is not None else None)
    grey = None
    if grey_probs is not None:
        # Same images converted to grey: how much the model leans on colour.
        grey_probs = _check_probs(grey_probs, n_classes, len(y_true), "grey_probs")
        grey = float(np.mean(grey_probs.argmax(axis=1) == np.asarray(y_true))) if len(y_true) else None
    result["greyscale_accuracy"] = grey
    result.update(_intervals(np.asarray(y_true, dtype=np.int64), y_pred, n_classes))
    attributes = {**({"gender": genders} if genders is not None else {}), **(groups or {})}
    result["per_group"], result["max_gap"] = group_results(y_true, y_pred, attributes)
    calibration = calibration_summary(probs, y_true, temperature)
    result.update({"ece": calibration["ece_before"], "ece_calibrated": calibration["ece_after"],
                   "temperature": float(temperature), "calibration": calibration})
    return result


def _intervals(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict:
    """The 95% intervals of the headline numbers and of each class's accuracy."""
    hits = (y_true == y_pred).astype(np.float64)
    near = (np.abs(y_true - y_pred) <= 1).astype(np.float64)
    return {"accuracy_ci95": mean_interval(hits), "one_off_ci95": mean_interval(near),
            "balanced_accuracy_ci95": balanced_accuracy_interval(y_true, hits, n_classes),
            "per_class_ci95": [mean_interval(hits[y_true == c]) for c in range(n_classes)],
            "per_class_n": np.bincount(y_true, minlength=n_classes)[:n_classes].tolist()}


def predictions_frame(rows: pd.DataFrame | Sequence[int], y_true: Sequence[int],
                      probs: np.ndarray) -> pd.DataFrame:
    """One row per image: manifest row index, source path (and crop path, age, gender and
    group_* labels when `rows` is a manifest slice), true and predicted class,
    prob_0..prob_{k-1}."""
    probs = np.asarray(probs, dtype=np.float32)
    if isinstance(rows, pd.DataFrame):
        frame = pd.DataFrame({"row": rows.index.to_numpy()})
        groups = tuple(c for c in rows.columns if str(c).startswith(GROUP_PREFIX))
        for column in (*_ROW_COLUMNS, *groups):
            if column in rows.columns:
                frame[column] = rows[column].to_numpy()
    else:
        frame = pd.DataFrame({"row": np.asarray(rows, dtype=np.int64), "source_path": ""})
    if not len(frame) == len(y_true) == len(probs):
        raise InvalidParameterError("probs", "predictions_frame", "one row per entry of rows and y_true",
                                    f"lengths {len(frame)}, {len(y_true)}, {len(probs)}")
    frame["true"] = np.asarray(y_true, dtype=np.int64)
    frame["pred"] = probs.argmax(axis=1) if len(probs) else np.zeros(0, dtype=np.int64)
    for k in range(probs.shape[1] if probs.ndim == 2 else 0):
        frame[f"prob_{k}"] = probs[:, k]
    return frame


def _check_probs(probs: np.ndarray, n_classes: int, n_rows: int, param: str) -> np.ndarray:
    """Probabilities as an (n_rows, n_classes) float array."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.shape != (n_rows, n_classes):
        raise InvalidParameterError(param, "evaluate_probs", f"an array of shape ({n_rows}, {n_classes})",
                                    f"shape {probs.shape}")
    return probs

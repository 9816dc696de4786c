"""Evaluate predicted probabilities: the metrics dict of a run and the per-image table
that the dashboard shows."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from backend.evaluation.calibration import calibration_summary
from backend.evaluation.metrics import classification_metrics, per_group_accuracy
from backend.params import InvalidParameterError

# Manifest columns copied into the predictions table when present.
_ROW_COLUMNS = ("source_path", "crop_path", "age", "gender")


def evaluate_probs(y_true: Sequence[int], probs: np.ndarray, n_classes: int,
                   genders: Sequence[str] | None = None,
                   grey_probs: np.ndarray | None = None, temperature: float = 1.0) -> dict:
    """classification_metrics of argmax(probs), plus `per_gender_accuracy` and
    `greyscale_accuracy` (None when genders / greyscale predictions are not given), and
    the calibration: `ece` of `probs` as they are, `ece_calibrated` after `temperature`
    (the run's, fitted on validation), and `calibration` (calibration_summary: both
    reliability diagrams' bins and the coverage-accuracy curve)."""
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
    calibration = calibration_summary(probs, y_true, temperature)
    result.update({"ece": calibration["ece_before"], "ece_calibrated": calibration["ece_after"],
                   "temperature": float(temperature), "calibration": calibration})
    return result


def predictions_frame(rows: pd.DataFrame | Sequence[int], y_true: Sequence[int],
                      probs: np.ndarray) -> pd.DataFrame:
    """One row per image: manifest row index, source path (and crop path, age, gender
    when `rows` is a manifest slice), true and predicted class, prob_0..prob_{k-1}."""
    probs = np.asarray(probs, dtype=np.float32)
    if isinstance(rows, pd.DataFrame):
        frame = pd.DataFrame({"row": rows.index.to_numpy()})
        for column in _ROW_COLUMNS:
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

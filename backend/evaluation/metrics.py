"""Classification metrics of the paper (section 4) plus a few that survive imbalance.

Everything here is numpy on integer labels and returns plain Python values, so the
result can go straight into metrics.json. A class with no true samples gets None
where a per-class value would divide by zero.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from backend.params import InvalidParameterError, check_int


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> dict:
    """Accuracy, one-off accuracy, per-class and balanced accuracy, confusion matrices,
    macro F1 and quadratic-weighted kappa of predicted class indices."""
    n_classes = check_int(n_classes, param="n_classes", func="classification_metrics", low=1)
    y_true = _check_labels(y_true, n_classes, "y_true")
    y_pred = _check_labels(y_pred, n_classes, "y_pred")
    if len(y_true) != len(y_pred):
        raise InvalidParameterError("y_pred", "classification_metrics",
                                    f"as long as y_true ({len(y_true)})", f"length {len(y_pred)}")
    cm = confusion_matrix(y_true, y_pred, n_classes)
    row_sums = cm.sum(axis=1)
    # Per-class accuracy is recall: undefined (None) for a class with no true sample.
    per_class = [float(cm[c, c] / row_sums[c]) if row_sums[c] else None for c in range(n_classes)]
    present = [acc for acc in per_class if acc is not None]
    n = int(len(y_true))
    return {
        "n": n,
        "accuracy": float(np.mean(y_true == y_pred)) if n else None,
        # The paper's near-miss measure: off by at most one neighbouring age group.
        "one_off_accuracy": float(np.mean(np.abs(y_true - y_pred) <= 1)) if n else None,
        "per_class_accuracy": per_class,
        "balanced_accuracy": float(np.mean(present)) if present else None,
        "confusion_matrix": cm.tolist(),
        # Row-normalised like the paper's right-hand matrices; an empty row stays zeros.
        "confusion_matrix_normalized": np.divide(
            cm, row_sums[:, None], out=np.zeros(cm.shape), where=row_sums[:, None] > 0).tolist(),
        "macro_f1": macro_f1(cm),
        "qwk": quadratic_weighted_kappa(cm),
    }


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts, rows = true class, columns = predicted class."""
    flat = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes).astype(np.int64)


def macro_f1(cm: np.ndarray) -> float | None:
    """Mean F1 over the classes that occur as truth or prediction (scikit-learn's
    default label set), so an absent class neither counts as 0 nor as 1."""
    tp = np.diag(cm).astype(float)
    true_counts, pred_counts = cm.sum(axis=1), cm.sum(axis=0)
    present = (true_counts + pred_counts) > 0
    if not present.any():
        return None
    # F1 = 2 tp / (true + predicted); never 0/0 on a present class.
    f1 = 2 * tp[present] / (true_counts[present] + pred_counts[present])
    return float(f1.mean())


def quadratic_weighted_kappa(cm: np.ndarray) -> float | None:
    """Cohen's kappa with quadratic weights: ordinal agreement, 1 = perfect, 0 = chance.

    None when it is undefined (no samples, one class, or chance disagreement of 0).
    """
    n_classes = cm.shape[0]
    total = cm.sum()
    if total == 0 or n_classes < 2:
        return None
    idx = np.arange(n_classes)
    # Squared distance between classes, scaled to [0, 1].
    weights = (idx[:, None] - idx[None, :]) ** 2 / (n_classes - 1) ** 2
    expected = np.outer(cm.sum(axis=1), cm.sum(axis=0)) / total
    chance = float((weights * expected).sum())
    if chance == 0:
        return None
    return float(1 - (weights * cm).sum() / chance)


def per_group_accuracy(y_true: Sequence[int], y_pred: Sequence[int],
                       groups: Sequence[str]) -> dict[str, float]:
    """Accuracy per group value (e.g. gender 'M'/'F'); an empty group name is 'unknown'."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    groups = np.asarray(["unknown" if g in ("", None) else str(g) for g in groups])
    if not len(y_true) == len(y_pred) == len(groups):
        raise InvalidParameterError("groups", "per_group_accuracy", "as long as y_true and y_pred",
                                    f"lengths {len(y_true)}, {len(y_pred)}, {len(groups)}")
    return {str(g): float(np.mean(y_true[groups == g] == y_pred[groups == g]))
            for g in sorted(set(groups.tolist()))}


def _check_labels(labels: Sequence[int], n_classes: int, param: str) -> np.ndarray:
    """Labels as a 1-D int64 array inside [0, n_classes)."""
    array = np.asarray(labels)
    if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise InvalidParameterError(param, "classification_metrics", "a 1-D sequence of integers",
                                    f"array of shape {array.shape} and dtype {array.dtype}")
    array = array.astype(np.int64)
    if array.size and (array.min() < 0 or array.max() >= n_classes):
        raise InvalidParameterError(param, "classification_metrics",
                                    f"class indices in [0, {n_classes - 1}]",
                                    f"values in [{array.min()}, {array.max()}]")
    return array

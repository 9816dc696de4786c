"""Who the model works for: accuracy per group of people (gender, race, any labelled
attribute), each with its n and a bootstrap interval, and the largest gap between the
groups of an attribute with its own interval."""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from backend.evaluation.intervals import N_RESAMPLES, SEED, difference_interval, mean_interval

log = logging.getLogger(__name__)

UNKNOWN = "unknown"  # an image whose attribute is not labelled
MIN_GAP_N = 20  # groups smaller than this are shown but not ranked for the largest gap
MAX_GROUPS = 30  # an attribute with more values (an id column, say) is not a grouping


def group_name(value: Any) -> str:
    """A group label as text: missing and empty values are 'unknown'."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return UNKNOWN
    text = str(value).strip()
    return text or UNKNOWN


def group_results(y_true: Any, y_pred: Any, groups: Mapping[str, Sequence[Any]], *,
                  n_resamples: int = N_RESAMPLES, seed: int = SEED
                  ) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, dict[str, Any]]]:
    """(per_group, max_gap) of predictions on labelled images.

    per_group: {attribute: {group: {accuracy, one_off_accuracy, n, ci95, one_off_ci95,
    balanced_accuracy}}}, every group of every attribute, 'unknown' included;
    balanced_accuracy is the mean of the group's per-class accuracies (its age mix out).
    max_gap: {attribute: {gap, ci95, worst, best, n_worst, n_best}}, the best minus the
    worst accuracy among the attribute's known groups of at least MIN_GAP_N images, its
    interval from resampling each of the two groups on its own; an attribute with fewer
    than two such groups has none.
    """
    y_true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.int64).reshape(-1)
    hits = (y_true == y_pred).astype(np.float64)
    near = (np.abs(y_true - y_pred) <= 1).astype(np.float64)
    per_group: dict[str, dict[str, dict[str, Any]]] = {}
    max_gap: dict[str, dict[str, Any]] = {}
    for attribute, values in groups.items():
        names = np.array([group_name(v) for v in values], dtype=object)
        if len(names) != len(y_true):
            raise ValueError(f"group attribute {attribute!r} has {len(names)} values for "
                             f"{len(y_true)} images")
        kinds = sorted(set(names.tolist()))
        if len(kinds) > MAX_GROUPS:
            log.warning("attribute %r has %d values, more than %d: not reported as groups",
                        attribute, len(kinds), MAX_GROUPS)
            continue
        if kinds == [UNKNOWN]:
            continue  # nothing labelled: no groups to tell apart
        per_group[attribute] = {
            name: _one_group(hits[names == name], near[names == name], y_true[names == name],
                             n_resamples, seed)
            for name in kinds}
        gap = _largest_gap(per_group[attribute], hits, names, n_resamples, seed)
        if gap is not None:
            max_gap[attribute] = gap
    return per_group, max_gap


def _one_group(hits: np.ndarray, near: np.ndarray, y_true: np.ndarray, n_resamples: int,
               seed: int) -> dict[str, Any]:
    classes = np.unique(y_true)
    return {"accuracy": float(hits.mean()), "one_off_accuracy": float(near.mean()),
            "n": int(len(hits)),
            # Groups differ in age mix: the mean of the group's per-class accuracies
            # says how it fares with that mix taken out.
            "balanced_accuracy": float(np.mean([hits[y_true == c].mean() for c in classes])),
            "ci95": mean_interval(hits, n_resamples=n_resamples, seed=seed),
            "one_off_ci95": mean_interval(near, n_resamples=n_resamples, seed=seed)}


def _largest_gap(results: dict[str, dict[str, Any]], hits: np.ndarray, names: np.ndarray,
                 n_resamples: int, seed: int) -> dict[str, Any] | None:
    ranked = sorted((r["accuracy"], name) for name, r in results.items()
                    if name != UNKNOWN and r["n"] >= MIN_GAP_N)
    if len(ranked) < 2:
        return None
    (low, worst), (high, best) = ranked[0], ranked[-1]
    return {"gap": float(high - low), "worst": worst, "best": best,
            "n_worst": results[worst]["n"], "n_best": results[best]["n"],
            "ci95": difference_interval(hits[names == worst], hits[names == best],
                                        n_resamples=n_resamples, seed=seed)}


def weighted_accuracy(per_group: Mapping[str, Mapping[str, Any]]) -> float | None:
    """The groups' accuracies weighted by their n: the overall accuracy of the images."""
    total = sum(g["n"] for g in per_group.values())
    if not total:
        return None
    return sum(g["accuracy"] * g["n"] for g in per_group.values()) / total

"""Is run B really better than run A, or is it noise? Paired comparison of runs scored
on the same faces, from their per-face predictions tables (predictions.csv)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from backend.evaluation.intervals import (N_RESAMPLES, SEED, mcnemar_exact,
                                          paired_difference_interval)

BETTER, WORSE, UNCLEAR = "better", "worse", "no clear difference"


class DifferentFacesError(ValueError):
    """Runs scored on different faces cannot be compared pair by pair."""


def verdict(interval: list[float] | None) -> str:
    """'better' or 'worse' only when the interval of the difference excludes 0."""
    if interval and interval[0] > 0:
        return BETTER
    if interval and interval[1] < 0:
        return WORSE
    return UNCLEAR


def face_keys(frame: pd.DataFrame) -> pd.Series:
    """What names each face of a predictions table: its source file when every row has
    its own, else the source file with the prepared-dataset row."""
    if "source_path" in frame.columns:
        paths = frame["source_path"].fillna("").astype(str)
        if (paths != "").all() and paths.is_unique:
            return paths
        if "row" in frame.columns:
            return paths + "#" + frame["row"].astype(str)
    return frame["row"].astype(str)


def aligned_hits(frames: Mapping[Any, pd.DataFrame]) -> tuple[np.ndarray, dict[Any, np.ndarray]]:
    """(true classes, {run: 1 where right}) of runs whose tables hold the same faces with
    the same true class, put in the first run's order; DifferentFacesError otherwise."""
    items = list(frames.items())
    first_id, first = items[0]
    keys = face_keys(first)
    truth = pd.Series(first["true"].to_numpy(), index=keys.to_numpy())
    hits = {first_id: (first["true"] == first["pred"]).to_numpy()}
    for run_id, frame in items[1:]:
        other = face_keys(frame)
        common = len(set(keys) & set(other))
        if len(other) != len(keys) or common != len(keys):
            raise DifferentFacesError(
                f"runs {first_id} and {run_id} were scored on different faces ({len(keys)} and "
                f"{len(other)} faces, {common} in common); compare runs evaluated on the same "
                "faces: the test split of one prepared dataset, or the same external set")
        indexed = frame.set_axis(other.to_numpy())
        indexed = indexed.loc[keys.to_numpy()]
        if not np.array_equal(indexed["true"].to_numpy(), truth.to_numpy()):
            raise DifferentFacesError(
                f"runs {first_id} and {run_id} give the same faces different true classes "
                "(different age-group schemes); compare runs on one class scheme")
        hits[run_id] = (indexed["true"] == indexed["pred"]).to_numpy()
    return truth.to_numpy(), hits


def compare_runs(frames: Mapping[Any, pd.DataFrame], *, n_resamples: int = N_RESAMPLES,
                 seed: int = SEED) -> dict[str, Any]:
    """The first run of `frames` is the baseline; for every other run, on the same faces:
    the difference in accuracy (run - baseline) with its paired 95% bootstrap interval,
    McNemar's exact p-value, and the verdict ('better' only when the interval is above 0).
    """
    if len(frames) < 2:
        raise ValueError(f"compare needs a baseline and at least one other run; got "
                         f"{len(frames)}")
    truth, hits = aligned_hits(frames)
    baseline, *others = hits
    base = hits[baseline]
    pairs = []
    for run_id in others:
        interval = paired_difference_interval(base, hits[run_id], n_resamples=n_resamples,
                                              seed=seed)
        test = mcnemar_exact(base, hits[run_id])
        pairs.append({"run": run_id, "n": int(len(truth)),
                      "accuracy": float(hits[run_id].mean()) if len(truth) else None,
                      "baseline_accuracy": float(base.mean()) if len(truth) else None,
                      "accuracy_diff": float(hits[run_id].mean() - base.mean())
                      if len(truth) else None,
                      "ci95": interval, "p_value": test["p_value"],
                      "only_baseline_right": test["only_a"], "only_run_right": test["only_b"],
                      "verdict": verdict(interval)})
    return {"baseline": baseline, "n": int(len(truth)), "pairs": pairs}

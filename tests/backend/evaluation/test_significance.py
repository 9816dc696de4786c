"""Comparing runs on the same faces: alignment, the refusal of different faces, verdicts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backend.evaluation.significance import (DifferentFacesError, compare_runs, verdict)


def _frame(paths, true, pred):
    return pd.DataFrame({"row": range(len(paths)), "source_path": paths, "true": true,
                         "pred": pred})


def _pair(seed=0, n=500, better_by=60):
    rng = np.random.default_rng(seed)
    true = rng.integers(0, 5, n)
    pred_a = np.where(rng.random(n) < 0.6, true, (true + 1) % 5)
    pred_b = pred_a.copy()
    wrong = np.flatnonzero(pred_a != true)[:better_by]
    pred_b[wrong] = true[wrong]
    paths = [f"/f/{i}.jpg" for i in range(n)]
    return _frame(paths, true, pred_a), _frame(paths, true, pred_b)


def test_a_clearly_better_run_is_better_and_the_same_run_is_not():
    """Check that fixing 60 of the baseline's mistakes is 'better' with the difference,
    interval above 0 and a small p, while a copy of the baseline is no clear difference."""
    a, b = _pair()
    out = compare_runs({1: a, 2: b, 3: a.copy()})
    better, same = out["pairs"]
    assert out["baseline"] == 1 and better["run"] == 2 and better["n"] == 500
    assert better["accuracy_diff"] == pytest.approx(60 / 500)
    assert better["ci95"][0] > 0 and better["p_value"] < 1e-6 and better["verdict"] == "better"
    assert same["accuracy_diff"] == 0 and same["verdict"] == "no clear difference"
    assert same["p_value"] == 1.0


def test_faces_in_another_order_are_aligned_by_their_file():
    """Check that a run whose table lists the same faces shuffled compares face by face."""
    a, b = _pair()
    shuffled = b.sample(frac=1, random_state=0)
    assert compare_runs({1: a, 2: shuffled})["pairs"][0]["accuracy_diff"] == \
        pytest.approx(60 / 500)


def test_runs_on_different_faces_are_refused_clearly():
    """Check that runs scored on other faces raise naming both runs and the overlap."""
    a, b = _pair()
    b["source_path"] = [f"/g/{i}.jpg" for i in range(len(b))]
    with pytest.raises(DifferentFacesError, match=r"runs 1 and 2 .*different faces.*0 in common"):
        compare_runs({1: a, 2: b})


def test_verdict_needs_the_interval_to_exclude_zero():
    """Check 'better' above 0, 'worse' below, and no clear difference across 0."""
    assert verdict([0.01, 0.05]) == "better"
    assert verdict([-0.05, -0.01]) == "worse"
    assert verdict([-0.01, 0.03]) == "no clear difference"
    assert verdict(None) == "no clear difference"

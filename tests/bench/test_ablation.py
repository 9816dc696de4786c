"""Tests of the ablation's scoring, meta refits and table (no member training here)."""
import numpy as np
import pytest

from backend.evaluation.priors import TargetPrior
from bench.ablation import meta_probs, render, row, scores


def _probs(labels: np.ndarray, hit: float, seed: int) -> np.ndarray:
    """Probabilities that put most weight on the true class for a share `hit` of rows."""
    rng = np.random.default_rng(seed)
    out = rng.random((len(labels), 3)).astype(np.float32)
    right = rng.random(len(labels)) < hit
    out[right, labels[right]] += 2
    return out / out.sum(axis=1, keepdims=True)


def test_scores_give_accuracy_balanced_accuracy_and_one_off():
    """Check the three scores on a hand-made case: one of two class-0 rows wrong by one."""
    labels = np.array([0, 0, 1, 2])
    probs = np.eye(3, dtype=np.float32)[[0, 1, 1, 2]]
    out = scores(probs, labels, 3)
    assert out["accuracy"] == 0.75 and out["one_off_accuracy"] == 1.0
    assert out["balanced_accuracy"] == pytest.approx((0.5 + 1 + 1) / 3)


def test_meta_probs_fit_on_validation_and_predict_every_split():
    """Check that the refit meta-model gives probabilities on val, test and the natural set
    and reports its cross-validated validation accuracy."""
    labels = {s: np.arange(60) % 3 for s in ("val", "test", "natural")}
    members = [{s: _probs(labels[s], 0.8, i) for s in labels} for i in range(2)]
    out, cv, seconds = meta_probs(members, labels["val"], trials=1, seed=0)
    assert {s: p.shape for s, p in out.items()} == {s: (60, 3) for s in labels}
    assert 0 <= cv <= 1 and seconds > 0


def test_row_applies_the_prior_to_both_sets():
    """Check that a row under a prior scores the corrected probabilities: a prior that
    favours class 1 turns both 60/40 answers into class 1."""
    labels = {"test": np.array([1, 1]), "natural": np.array([1, 1])}
    probs = {s: np.array([[0.6, 0.4], [0.6, 0.4]], np.float32) for s in labels}
    prior = TargetPrior("x", (0.2, 0.8), (0.5, 0.5))
    plain = row("a", probs, labels, 2, 60.0)
    fixed = row("b", probs, labels, 2, 60.0, prior=prior)
    assert (plain["natural"]["accuracy"], plain["test"]["accuracy"]) == (0.0, 0.0)
    assert (fixed["natural"]["accuracy"], fixed["test"]["accuracy"]) == (1.0, 1.0)


def test_render_lists_every_step_and_the_reruns():
    """Check that the table has one line per step with its wall time, and the sentences."""
    step = {"name": "+ TTA", "wall_s": 600, "note": "", "val_cv_accuracy": 0.7,
            "test": {"accuracy": 0.7, "balanced_accuracy": 0.69, "one_off_accuracy": 0.99},
            "natural": {"accuracy": 0.8, "balanced_accuracy": 0.7, "one_off_accuracy": 0.995}}
    text = "\n".join(render({"rows": [step], "natural_n": 5000, "validation": {"m": 0.71},
                             "val_n": 780, "rerun": {"sentence": "Rerun: fine."}}))
    assert "| + TTA | 70.0% | 69.0% | 99.0% | 80.0% | 99.5% | 10.0 min |  |" in text
    assert "| m | 71.0% |" in text and "Rerun: fine." in text

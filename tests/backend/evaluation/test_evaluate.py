"""evaluate_probs and the dashboard's predictions table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backend.evaluation.evaluate import evaluate_probs, predictions_frame
from backend.params import InvalidParameterError

PROBS = np.array([[.7, .2, .1], [.1, .8, .1], [.5, .4, .1], [.1, .1, .8]])
Y_TRUE = [0, 1, 1, 2]


def test_evaluate_probs_adds_gender_and_greyscale():
    """Check that per-gender and greyscale accuracies use the argmax of each probability set."""
    grey = np.array([[.1, .8, .1], [.1, .8, .1], [.1, .8, .1], [.1, .8, .1]])
    result = evaluate_probs(Y_TRUE, PROBS, 3, genders=["M", "F", "F", "M"], grey_probs=grey)
    assert result["accuracy"] == pytest.approx(0.75)
    assert result["per_gender_accuracy"] == {"F": 0.5, "M": 1.0}
    assert result["greyscale_accuracy"] == pytest.approx(0.5)


def test_evaluate_probs_rejects_wrong_width():
    """Check that probabilities with the wrong number of classes name the parameter and shape."""
    with pytest.raises(InvalidParameterError, match=r"'probs'.*\(4, 5\)"):
        evaluate_probs(Y_TRUE, PROBS, 5)


def test_predictions_frame_columns_from_manifest_rows():
    """Check that the table keeps manifest row indices and paths and adds true, pred, prob_k."""
    rows = pd.DataFrame({"source_path": list("abcd"), "age": [5, 30, 31, 70]}, index=[10, 11, 12, 13])
    frame = predictions_frame(rows, Y_TRUE, PROBS)
    assert list(frame.columns) == ["row", "source_path", "age", "true", "pred", "prob_0", "prob_1", "prob_2"]
    assert frame["row"].tolist() == [10, 11, 12, 13]
    assert frame["pred"].tolist() == [0, 1, 0, 2]


def test_evaluate_probs_gives_intervals_groups_and_calibration():
    """Check that the metrics carry a 95% interval on accuracy, one-off, balanced and
    per-class accuracy, per-group results over gender and the given groups, and the ECE."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    probs = rng.dirichlet(np.ones(3), 200)
    probs[np.arange(100), y[:100]] += 2  # right on about the first half
    probs /= probs.sum(axis=1, keepdims=True)
    genders = np.where(np.arange(200) % 2, "M", "F")
    result = evaluate_probs(y, probs, 3, genders=genders,
                            groups={"race": np.where(np.arange(200) < 100, "A", "B")})
    for key, interval in (("accuracy", "accuracy_ci95"), ("one_off_accuracy", "one_off_ci95"),
                          ("balanced_accuracy", "balanced_accuracy_ci95")):
        low, high = result[interval]
        assert low <= result[key] <= high
    assert len(result["per_class_ci95"]) == 3 and sum(result["per_class_n"]) == 200
    assert set(result["per_group"]) == {"gender", "race"}
    assert result["max_gap"]["race"]["worst"] == "B"
    assert 0 <= result["ece"] <= 1 and result["calibration"]["temperature"] == 1.0

"""Metrics against confusion matrices worked out by hand, an empty class included."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from backend.evaluation.metrics import classification_metrics, per_group_accuracy
from backend.params import InvalidParameterError

# Four classes, class 2 never true (it is predicted once).
Y_TRUE = [0, 0, 0, 1, 1, 3, 3, 3]
Y_PRED = [0, 0, 1, 1, 3, 3, 2, 0]


@pytest.fixture
def metrics() -> dict:
    return classification_metrics(Y_TRUE, Y_PRED, n_classes=4)


def test_confusion_matrix_counts(metrics):
    """Check that the confusion matrix has true classes as rows and an all-zero empty row."""
    assert metrics["confusion_matrix"] == [[2, 1, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0], [1, 0, 1, 1]]


def test_normalized_confusion_matrix(metrics):
    """Check that rows are divided by their totals and the empty class's row stays zeros."""
    expected = [[2 / 3, 1 / 3, 0, 0], [0, .5, 0, .5], [0, 0, 0, 0], [1 / 3, 0, 1 / 3, 1 / 3]]
    np.testing.assert_allclose(metrics["confusion_matrix_normalized"], expected)


def test_accuracy_and_one_off(metrics):
    """Check that accuracy is 4/8 and one-off accuracy counts |pred - true| <= 1 (6/8)."""
    assert metrics["accuracy"] == pytest.approx(0.5)
    assert metrics["one_off_accuracy"] == pytest.approx(0.75)
    assert metrics["n"] == 8


def test_per_class_accuracy_has_none_for_empty_class(metrics):
    """Check that per-class accuracy is recall per row, None for the empty class."""
    assert metrics["per_class_accuracy"][2] is None
    np.testing.assert_allclose([metrics["per_class_accuracy"][i] for i in (0, 1, 3)], [2 / 3, .5, 1 / 3])


def test_balanced_accuracy_skips_empty_class(metrics):
    """Check that balanced accuracy averages only the three non-empty classes."""
    assert metrics["balanced_accuracy"] == pytest.approx((2 / 3 + 1 / 2 + 1 / 3) / 3)


def test_macro_f1_by_hand(metrics):
    """Check macro F1 over classes seen as truth or prediction: (2/3 + 1/2 + 0 + 2/5) / 4."""
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 0 + 2 / 5) / 4)


def test_qwk_matches_scikit_learn(metrics):
    """Check that the quadratic-weighted kappa equals scikit-learn's on the same labels."""
    expected = cohen_kappa_score(Y_TRUE, Y_PRED, labels=[0, 1, 2, 3], weights="quadratic")
    assert metrics["qwk"] == pytest.approx(expected)


def test_perfect_predictions_give_kappa_one():
    """Check that identical labels give accuracy 1 and kappa 1."""
    result = classification_metrics([0, 1, 2, 2], [0, 1, 2, 2], n_classes=3)
    assert (result["accuracy"], result["qwk"]) == (1.0, pytest.approx(1.0))


def test_label_out_of_range_names_parameter():
    """Check that a predicted class >= n_classes raises an error naming y_pred and the range."""
    with pytest.raises(InvalidParameterError, match=r"'y_pred'.*\[0, 2\]"):
        classification_metrics([0, 1], [0, 3], n_classes=3)


def test_per_group_accuracy_names_unknown():
    """Check that accuracy is computed per gender and a blank gender is 'unknown'."""
    result = per_group_accuracy([0, 1, 1, 2], [0, 0, 1, 2], ["M", "M", "F", ""])
    assert result == {"F": 1.0, "M": 0.5, "unknown": 1.0}

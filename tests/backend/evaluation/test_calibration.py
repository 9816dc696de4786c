"""Temperature scaling, ECE, reliability bins and the coverage-accuracy curve."""
from __future__ import annotations

import numpy as np
import pytest

from backend.evaluation.calibration import (apply_temperature, calibration_summary,
                                            coverage_curve, expected_calibration_error,
                                            fit_summary, fit_temperature, reliability_bins)
from backend.params import InvalidParameterError


def _two_class(confidences, correct):
    """Probabilities of two classes whose top class has `confidences`, right where `correct`."""
    conf = np.asarray(confidences, dtype=float)
    probs = np.stack([conf, 1 - conf], axis=1)  # class 0 is always predicted
    labels = np.where(np.asarray(correct), 0, 1)
    return probs, labels


def test_ece_of_a_hand_computed_case():
    """Check the ECE on two bins worked out by hand: 4 images at 0.9 (3 right) and 6 at
    0.6 (3 right): (4 |0.75 - 0.9| + 6 |0.5 - 0.6|) / 10 = 0.12."""
    probs, labels = _two_class([0.9] * 4 + [0.6] * 6,
                               [1, 1, 1, 0] + [1, 1, 1, 0, 0, 0])
    assert expected_calibration_error(probs, labels) == pytest.approx(0.12)


def test_ece_is_zero_when_confidence_matches_accuracy_and_the_gap_when_certain():
    """Check that 80%-sure images right 8 times in 10 have ECE 0, and certain images right
    half the time have ECE 0.5."""
    probs, labels = _two_class([0.8] * 10, [1] * 8 + [0] * 2)
    assert expected_calibration_error(probs, labels) == pytest.approx(0.0)
    probs, labels = _two_class([1.0] * 10, [1] * 5 + [0] * 5)
    assert expected_calibration_error(probs, labels) == pytest.approx(0.5)


def test_reliability_bins_are_fifteen_equal_bins_that_hold_every_image():
    """Check that the bins are 15 of width 1/15 whose counts add up to the images, and an
    empty bin has no confidence or accuracy."""
    probs, labels = _two_class([0.55, 0.9, 0.9, 1.0], [1, 1, 0, 1])
    bins = reliability_bins(probs, labels)
    assert len(bins) == 15 and bins[0]["lo"] == 0 and bins[-1]["hi"] == 1
    assert sum(b["n"] for b in bins) == 4
    top = bins[-1]
    assert top["n"] == 1 and top["accuracy"] == 1.0 and top["confidence"] == 1.0
    assert bins[0]["n"] == 0 and bins[0]["accuracy"] is None


def test_temperature_fit_recovers_the_temperature_that_made_the_labels():
    """Check that labels drawn from softmax(z / 2) make the fit on softmax(z) (an
    over-confident model) find a temperature near 2, and lower the ECE."""
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 4, (4000, 5))
    true_p = np.exp(logits / 2) / np.exp(logits / 2).sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(5, p=p) for p in true_p])
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    t = fit_temperature(probs, labels)
    assert 1.8 < t < 2.2
    assert expected_calibration_error(apply_temperature(probs, t), labels) < \
        expected_calibration_error(probs, labels) / 2


def test_temperature_keeps_the_predicted_class_and_rows_summing_to_one():
    """Check that scaling changes confidences but never the argmax."""
    probs = np.random.default_rng(1).dirichlet(np.ones(5), size=50)
    scaled = apply_temperature(probs, 3.0)
    np.testing.assert_array_equal(scaled.argmax(axis=1), probs.argmax(axis=1))
    np.testing.assert_allclose(scaled.sum(axis=1), 1.0)
    assert scaled.max(axis=1).mean() < probs.max(axis=1).mean()


def test_temperature_fit_without_images_is_one():
    """Check that an empty validation set leaves the temperature at 1."""
    assert fit_temperature(np.zeros((0, 5)), np.zeros(0, int)) == 1.0


def test_temperature_must_be_positive():
    """Check that a zero temperature is refused naming the parameter."""
    with pytest.raises(InvalidParameterError, match="temperature"):
        apply_temperature(np.full((2, 2), 0.5), 0)


def test_coverage_curve_starts_at_everyone_and_keeps_the_surest():
    """Check that threshold 0 answers every image at the overall accuracy, and a higher
    threshold answers fewer images, here only the right ones."""
    probs, labels = _two_class([0.95, 0.9, 0.6, 0.55], [1, 1, 0, 0])
    curve = {round(c["threshold"], 2): c for c in coverage_curve(probs, labels)}
    assert curve[0.0]["coverage"] == 1.0 and curve[0.0]["accuracy"] == 0.5
    assert curve[0.85]["n"] == 2 and curve[0.85]["accuracy"] == 1.0


def test_calibration_summary_and_fit_summary_hold_before_and_after():
    """Check that the summary carries both ECEs, both sets of bins and the curve, and the
    fit summary the temperature and the validation loss it lowered."""
    rng = np.random.default_rng(2)
    logits = rng.normal(0, 5, (500, 3))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, 3, 500)
    fit = fit_summary(probs, labels)
    assert fit["temperature"] > 1 and fit["nll_after"] < fit["nll_before"]
    summary = calibration_summary(probs, labels, fit["temperature"])
    assert summary["ece_after"] < summary["ece_before"]
    assert len(summary["bins_before"]) == len(summary["bins_after"]) == 15
    assert summary["coverage"][0]["coverage"] == 1.0

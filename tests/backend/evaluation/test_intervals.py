"""Bootstrap intervals and McNemar's test, against scipy and hand-computed tables."""
from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import stats

from backend.evaluation.intervals import (balanced_accuracy_interval, difference_interval,
                                          half_width, mcnemar_exact, mean_interval,
                                          paired_difference_interval)

SAMPLE = np.random.default_rng(42).random(300) < 0.7  # a fixed sample of hits


def test_accuracy_interval_agrees_with_scipy_bootstrap_percentile():
    """Check that the interval of right/wrong answers (resampled through their counts)
    agrees with scipy.stats.bootstrap's percentile interval on the same fixed sample,
    both with 1,000 resamples, within their Monte Carlo noise (half a point)."""
    ours = mean_interval(SAMPLE, seed=7)
    theirs = stats.bootstrap((SAMPLE.astype(float),), np.mean, n_resamples=1000,
                             method="percentile", rng=np.random.default_rng(7))
    assert ours == pytest.approx([theirs.confidence_interval.low,
                                  theirs.confidence_interval.high], abs=0.005)


def test_interval_of_many_valued_data_equals_scipy_draw_for_draw():
    """Check that values of many kinds are resampled by index exactly as scipy draws
    them: the same seed gives the same interval."""
    sample = np.random.default_rng(1).normal(size=200)
    theirs = stats.bootstrap((sample,), np.mean, n_resamples=1000, method="percentile",
                             rng=np.random.default_rng(7))
    assert mean_interval(sample, seed=7) == pytest.approx(
        [theirs.confidence_interval.low, theirs.confidence_interval.high], abs=1e-12)


def test_balanced_accuracy_interval_agrees_with_scipy_bootstrap():
    """Check the balanced-accuracy interval against scipy.stats.bootstrap resampling
    (class, hit) pairs with the mean per-class recall as its statistic."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 400)
    hits = rng.random(400) < np.array([0.9, 0.6, 0.4])[y]

    def balanced(yy, hh, axis=-1):
        return np.mean([np.sum(hh * (yy == c), axis=axis) / np.sum(yy == c, axis=axis)
                        for c in range(3)], axis=0)

    theirs = stats.bootstrap((y, hits.astype(float)), balanced, paired=True,
                             n_resamples=1000, method="percentile",
                             rng=np.random.default_rng(0))
    assert balanced_accuracy_interval(y, hits, 3) == pytest.approx(
        [theirs.confidence_interval.low, theirs.confidence_interval.high], abs=0.01)


def test_mean_interval_is_seeded_and_holds_the_estimate():
    """Check that the same seed gives the same interval, and it surrounds the mean."""
    assert mean_interval(SAMPLE) == mean_interval(SAMPLE)
    low, high = mean_interval(SAMPLE)
    assert low < SAMPLE.mean() < high and 0.05 < high - low < 0.15


def test_intervals_of_five_thousand_faces_take_under_a_second():
    """Check that the accuracy and balanced-accuracy intervals of n=5,000 each take < 1 s."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 5000)
    hits = rng.random(5000) < 0.7
    for compute in (lambda: mean_interval(hits),
                    lambda: balanced_accuracy_interval(y, hits, 5)):
        start = time.perf_counter()
        compute()
        assert time.perf_counter() - start < 1.0


def test_balanced_accuracy_interval_surrounds_the_mean_recall():
    """Check that the balanced-accuracy interval holds the mean per-class recall of a
    sample whose classes differ in recall and size."""
    rng = np.random.default_rng(3)
    y = np.repeat([0, 1, 2], [400, 100, 50])
    hits = rng.random(len(y)) < np.array([0.9, 0.6, 0.3])[y]
    balanced = np.mean([hits[y == c].mean() for c in range(3)])
    low, high = balanced_accuracy_interval(y, hits, 3)
    assert low < balanced < high and abs(hits.mean() - balanced) > 0.1


def test_empty_sample_has_no_interval():
    """Check that no images give no interval rather than an error."""
    assert mean_interval([]) is None and half_width(None) is None


def test_paired_interval_is_narrower_than_an_unpaired_one():
    """Check that two models right on mostly the same faces differ by a tight paired
    interval: pairing cancels what the faces share."""
    rng = np.random.default_rng(5)
    a = rng.random(800) < 0.7
    b = a.copy()
    flip = rng.choice(800, 40, replace=False)
    b[flip] = True  # b also gets right some faces a missed
    paired = paired_difference_interval(a, b)
    unpaired = difference_interval(a, b)
    assert paired[0] > 0 and half_width(paired) < half_width(unpaired)


def test_mcnemar_matches_a_hand_computed_table():
    """Check McNemar's exact p on a table worked out by hand: 10 faces only A gets
    right and 2 only B gets right give p = 2 x P(X <= 2), X ~ Bin(12, 1/2)
    = 2 x (1 + 12 + 66) / 4096 = 0.03857."""
    a = np.array([1] * 10 + [0] * 2 + [1] * 30 + [0] * 8, dtype=bool)
    b = np.array([0] * 10 + [1] * 2 + [1] * 30 + [0] * 8, dtype=bool)
    result = mcnemar_exact(a, b)
    assert (result["only_a"], result["only_b"]) == (10, 2)
    assert result["p_value"] == pytest.approx(2 * 79 / 4096)


def test_mcnemar_of_identical_answers_is_one():
    """Check that two models right on exactly the same faces have p = 1."""
    a = SAMPLE
    assert mcnemar_exact(a, a)["p_value"] == 1.0


def test_paired_samples_must_be_as_long_as_each_other():
    """Check that pairing samples of different lengths is refused with both lengths."""
    with pytest.raises(ValueError, match="3 and 2"):
        mcnemar_exact([1, 0, 1], [1, 0])

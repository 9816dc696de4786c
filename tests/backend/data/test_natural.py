"""Tests of the natural-distribution sampler."""
import numpy as np

from backend.data.natural import natural_sample, reserve_natural


def test_sample_matches_the_real_class_frequencies():
    """Check that the sample's class mix equals the given frequencies, limited by the scarcest class."""
    labels = np.array([0] * 50 + [1] * 500 + [2] * 10)
    chosen = natural_sample(labels, np.array([0.2, 0.7, 0.1]), seed=0)
    assert np.bincount(labels[chosen]).tolist() == [20, 70, 10]


def test_sample_is_reproducible_and_has_no_repeats():
    """Check that one seed gives one sample, with every index at most once."""
    labels = np.repeat([0, 1], 40)
    a = natural_sample(labels, np.array([1, 1]), seed=3)
    assert np.array_equal(a, natural_sample(labels, np.array([1, 1]), seed=3))
    assert len(np.unique(a)) == len(a) == 80


def test_reserved_natural_set_is_the_sample_of_test_then_unused_faces():
    """Check that reserve_natural draws natural_sample from the test faces followed by the
    unused ones, at the class mix of all faces, and gives back every other unused face."""
    labels = np.array([0] * 30 + [1] * 60 + [2] * 10)
    test, unused = np.arange(0, 100, 10), np.setdiff1d(np.arange(100), np.arange(0, 100, 5))
    natural, extra = reserve_natural(labels, test, unused, 3, seed=1)
    pool = np.concatenate([test, unused])
    np.testing.assert_array_equal(natural, pool[natural_sample(labels[pool], [30, 60, 10], 1)])
    np.testing.assert_array_equal(extra, np.setdiff1d(unused, natural))

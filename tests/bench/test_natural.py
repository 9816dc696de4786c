"""Tests of the natural-distribution test-set sampler."""
import numpy as np

from bench.natural import natural_sample


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

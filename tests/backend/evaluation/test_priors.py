"""Tests for the prior-shift correction."""
import numpy as np
import pytest

from backend.evaluation.priors import prior_shift
from backend.params import InvalidParameterError


def test_equal_priors_leave_the_probabilities_unchanged():
    """Check that moving from a prior to the same prior (as counts) changes nothing."""
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    assert prior_shift(probs, [2, 2, 2], [1, 1, 1]) == pytest.approx(probs)


def test_a_common_target_class_wins_a_close_call():
    """Check that a 51/49 call flips to the class that is nine times commoner in the target."""
    out = prior_shift([[0.51, 0.49]], [0.5, 0.5], [0.1, 0.9])
    assert out.argmax(axis=1).tolist() == [1]
    assert out.sum(axis=1) == pytest.approx([1.0])


def test_posterior_follows_bayes_rule():
    """Check one row against likelihood x prior worked by hand."""
    # Training prior (0.25, 0.75) gave posterior (0.5, 0.5): likelihoods are 2 : 2/3.
    out = prior_shift([[0.5, 0.5]], [0.25, 0.75], [0.5, 0.5])
    assert out[0] == pytest.approx([0.75, 0.25])


def test_class_without_training_weight_is_refused():
    """Check that a zero training prior is an error naming train_prior."""
    with pytest.raises(InvalidParameterError, match="'train_prior' parameter of prior_shift"):
        prior_shift([[0.5, 0.5]], [0, 1], [0.5, 0.5])


def test_prior_of_the_wrong_length_is_refused():
    """Check that a target prior with the wrong number of classes is an error naming it."""
    with pytest.raises(InvalidParameterError, match="'target_prior'.*3 non-negative"):
        prior_shift([[0.2, 0.3, 0.5]], [1, 1, 1], [1, 1])

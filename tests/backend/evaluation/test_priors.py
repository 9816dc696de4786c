"""Tests for the prior-shift correction."""
import numpy as np
import pytest

from backend.evaluation.priors import (check_target_prior, evaluate_under_prior, mix_accuracy,
                                       prior_shift, target_prior)
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


@pytest.mark.parametrize("value, expected", [
    ("none", "none"), ("source", "source"), (" source ", "source"),
    ("1,3", [0.25, 0.75]), ("0.2, 0.8, 0", [0.2, 0.8, 0.0]), ([2, 2], [0.5, 0.5])])
def test_target_prior_accepts_names_and_normalises_weights(value, expected):
    """Check that 'none', 'source' and weight lists (string or list) are accepted, weights
    normalised to sum to 1."""
    assert check_target_prior(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", ["sorce", "None", "", "1", "1,-1", "0,0", "a,b", "1,,2",
                                   "nan,1", "inf,1", 3, None, [True, False]])
def test_target_prior_refuses_anything_else(value):
    """Check that names other than none/source, negative, non-finite, all-zero or single
    weights are refused naming the parameter, the function and what is allowed."""
    with pytest.raises(InvalidParameterError) as info:
        check_target_prior(value, func="the 'evaluate' job")
    assert str(info.value).startswith(
        "The 'target_prior' parameter of the 'evaluate' job must be 'none', 'source', or "
        "comma-separated non-negative weights")


def test_weights_for_another_number_of_classes_are_refused():
    """Check that three weights for a five-class run are refused naming the run's classes."""
    labels = ["1-19", "20-39", "40-59", "60-79", "80-99"]
    with pytest.raises(InvalidParameterError, match=r"5 weights, one per class of the run's "
                       r"scheme \(1-19, 20-39, 40-59, 60-79, 80-99\). Got '3 weights \(0.2,0.3,0.5\)'"):
        target_prior("0.2,0.3,0.5", [8] * 5, labels=labels)


def test_source_prior_takes_the_source_mix_and_the_train_split_mix():
    """Check that 'source' normalises the source counts and the train split counts."""
    prior = target_prior("source", [10, 10, 12], [10, 30, 60])
    assert prior.name == "source"
    assert prior.weights == pytest.approx((0.1, 0.3, 0.6))
    assert prior.train_weights == pytest.approx((10 / 32, 10 / 32, 12 / 32))


def test_a_class_missing_from_the_train_split_is_refused():
    """Check that a train split without class 1 cannot be corrected, naming train_prior."""
    with pytest.raises(InvalidParameterError, match="'train_prior'.*positive count"):
        target_prior("source", [5, 0, 5], [1, 1, 1])


@pytest.mark.parametrize("target, scope", [
    ("none", "test"), ("source", "test+prior:source"), ("1,3,1", "test+prior:0.2,0.6,0.2")])
def test_scope_names_the_target_prior(target, scope):
    """Check that metrics under a target prior go to a scope naming it, and 'none' to the
    plain split."""
    assert target_prior(target, [1, 1, 1], [1, 2, 3]).scope("test") == scope


def test_a_long_weight_list_is_named_by_a_digest():
    """Check that forty weights give a short scope name, the same for the same weights."""
    weights = ",".join(str(i + 1) for i in range(40))
    first = target_prior(weights, [1] * 40).scope("test")
    assert first.startswith("test+prior:weights-") and len(first) < 40
    assert target_prior(weights, [1] * 40).scope("test") == first


def test_none_keeps_the_probabilities_as_trained():
    """Check that the 'none' prior returns the probabilities unchanged."""
    probs = np.array([[0.6, 0.4], [0.2, 0.8]], dtype=np.float32)
    assert np.array_equal(target_prior("none", [1, 1]).apply(probs), probs)


def test_mix_accuracy_weights_each_class_recall_by_its_share():
    """Check that recalls 1.0 and 0.5 under a 90/10 mix give 0.95."""
    value, _ = mix_accuracy([0, 0, 1, 1], [0, 0, 1, 0], [0.9, 0.1])
    assert value == pytest.approx(0.95)


def test_mix_accuracy_interval_comes_from_the_per_class_variances():
    """Check the 95% interval against 1.96 x sqrt(sum_c w_c^2 r_c (1 - r_c) / n_c) by hand."""
    # Class 0 is always right (no variance); class 1 is right 4 times in 8.
    value, interval = mix_accuracy([0, 0] + [1] * 8, [0, 0] + [1, 0] * 4, [0.5, 0.5])
    half = 1.96 * (0.5 ** 2 * 0.5 * 0.5 / 8) ** 0.5
    assert value == pytest.approx(0.75) and interval == pytest.approx([0.75 - half, 0.75 + half])


def test_mix_accuracy_leaves_out_a_class_without_images():
    """Check that a class with no test image drops out and the others' shares are
    renormalised."""
    value, _ = mix_accuracy([0, 0, 1], [0, 1, 1], [0.25, 0.25, 0.5])
    assert value == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)


def test_evaluation_under_a_prior_adds_the_population_accuracies():
    """Check that a 'source' evaluation reports corrected and as-trained population
    accuracies and the prior it used; the as-trained model misses the common class here."""
    probs = np.array([[0.55, 0.45]] * 4, dtype=np.float32)
    y_true = np.array([1, 1, 1, 0])
    prior = target_prior("source", [1, 1], [1, 9])
    metrics, fixed = evaluate_under_prior(y_true, probs, 2, prior)
    assert fixed.argmax(axis=1).tolist() == [1, 1, 1, 1]
    assert metrics["accuracy"] == 0.75 and metrics["target_prior"]["name"] == "source"
    assert metrics["population_accuracy"] == pytest.approx(0.9)
    assert metrics["as_trained_population_accuracy"] == pytest.approx(0.1)

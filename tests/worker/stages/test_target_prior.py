"""The class mix a run's predictions are corrected to, read from its dataset's record."""
from __future__ import annotations

import pytest

from backend.params import InvalidParameterError
from storage import datasets, runs
from worker.stages.target_prior import run_target_prior

EDGES, LABELS = [1, 20, 40, 100], ["1-19", "20-39", "40-99"]
TRAIN = {"0": 8, "1": 8, "2": 9}


def _run(app, summary: dict, config: dict | None = None):
    """A run on a recorded dataset whose summary is `summary`."""
    source = datasets.get_or_create_source(app.db, "utkface", "/data/utkface")
    dataset = datasets.create_dataset(app.db, source.id, params={}, summary=summary,
                                      class_scheme={"edges": EDGES, "labels": LABELS},
                                      n_images=30)
    return runs.create_run(app.db, dataset.id, "train", "member", config=config or {})


def test_source_reads_the_recorded_source_and_train_counts(app):
    """Check that 'source' takes the dataset's source counts as the target and its train
    split's counts as the training prior."""
    run = _run(app, {"splits": {"train": TRAIN},
                     "source_class_counts": {"0": 10, "1": 60, "2": 30}})
    prior = run_target_prior(app.db, run, "source", func="predict")
    assert prior.name == "source" and prior.weights == pytest.approx((0.1, 0.6, 0.3))
    assert prior.train_weights == pytest.approx((0.32, 0.32, 0.36))


def test_source_on_a_dataset_prepared_before_the_counts_says_how_to_fix_it(app):
    """Check that a dataset without recorded source counts gives an error naming it and
    telling to re-run preprocess or give the weights."""
    run = _run(app, {"splits": {"train": TRAIN}})
    with pytest.raises(ValueError) as info:
        run_target_prior(app.db, run, "source", func="predict")
    message = str(info.value)
    assert f"dataset {run.dataset_id}" in message and "prepared before" in message
    assert "Re-run `agerec preprocess`" in message and "--target-prior W1,W2" in message


def test_weights_work_on_a_dataset_prepared_before_the_counts(app):
    """Check that explicit weights need no recorded source counts."""
    run = _run(app, {"splits": {"train": TRAIN}})
    prior = run_target_prior(app.db, run, "2,1,1", func="predict")
    assert prior.weights == pytest.approx((0.5, 0.25, 0.25))


def test_wrong_number_of_weights_names_the_runs_classes(app):
    """Check that five weights for a three-class run are refused listing its classes."""
    run = _run(app, {"splits": {"train": TRAIN}})
    with pytest.raises(InvalidParameterError, match=r"3 weights, one per class of the run's "
                       r"scheme \(1-19, 20-39, 40-99\)"):
        run_target_prior(app.db, run, "1,1,1,1,1", func="predict")


def test_balanced_class_weights_make_the_training_prior_even(app):
    """Check that a member trained with balanced class weights, and an ensemble of such
    members, divide out an even training prior, not the skewed train split's."""
    summary = {"splits": {"train": {"0": 10, "1": 80, "2": 10}},
               "source_class_counts": {"0": 10, "1": 60, "2": 30}}
    member = _run(app, summary, {"class_weights": "balanced"})
    ensemble = runs.create_run(app.db, member.dataset_id, "ensemble", "meta",
                               members=[member.id, member.id])
    for run in (member, ensemble):
        prior = run_target_prior(app.db, run, "source", func="predict")
        assert prior.train_weights == pytest.approx((1 / 3, 1 / 3, 1 / 3))

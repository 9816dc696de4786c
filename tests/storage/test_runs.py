"""Tests for storage.runs."""
from __future__ import annotations

import math

import pytest

from storage.errors import ArtifactPathError, DatasetNotFound, JobNotFound, RunNotFound
from storage.jobs import create_job
from storage.runs import (CALIBRATION_SCOPE, count_runs, create_run, get_metrics, get_run,
                          get_temperature, list_runs, record_calibration, record_metrics,
                          set_run_status)


def test_run_round_trip(db, dataset, agerec_home):
    """Check that every field of a created run comes back from get_run."""
    job = create_job(db, "train")
    run = create_run(db, dataset.id, "train", "vgg16", config={"lr": 1e-4, "epochs": 5},
                     dir=agerec_home / "runs" / "vgg", job_id=job.id)
    loaded = get_run(db, run.id)
    assert loaded == run
    assert (loaded.dataset_id, loaded.kind, loaded.name, loaded.config, loaded.dir) == \
        (dataset.id, "train", "vgg16", {"lr": 1e-4, "epochs": 5}, "runs/vgg")
    assert (loaded.job_id, loaded.status, loaded.members) == (job.id, "running", ())


def test_run_dir_defaults_to_runs_id(db, dataset):
    """Check that a run created without dir lives at runs/<id>."""
    run = create_run(db, dataset.id, "train", "resnet50")
    assert run.dir == f"runs/{run.id}"


def test_run_dir_outside_home_is_refused(db, dataset, tmp_path):
    """Check that a run folder outside AGEREC_HOME raises ArtifactPathError."""
    with pytest.raises(ArtifactPathError):
        create_run(db, dataset.id, "train", "vgg16", dir=tmp_path / "out")


def test_ensemble_members(db, dataset):
    """Check that an ensemble keeps its member run ids in order."""
    first, second = (create_run(db, dataset.id, "train", name) for name in ("vgg16", "resnet50"))
    ensemble = create_run(db, dataset.id, "ensemble", "soft_voting",
                          members=[second.id, first.id])
    assert get_run(db, ensemble.id).members == (second.id, first.id)


def test_ensemble_with_missing_member(db, dataset):
    """Check that an ensemble naming a missing run raises RunNotFound."""
    with pytest.raises(RunNotFound, match="run 77 does not exist"):
        create_run(db, dataset.id, "ensemble", "stacking", members=[77])


def test_create_run_missing_dataset_or_job(db, dataset):
    """Check that a run of a missing dataset or job raises the matching not-found error."""
    with pytest.raises(DatasetNotFound, match="dataset 40 "):
        create_run(db, 40, "train", "vgg16")
    with pytest.raises(JobNotFound, match="job 41 "):
        create_run(db, dataset.id, "train", "vgg16", job_id=41)


def test_create_run_unknown_kind(db, dataset):
    """Check that an unknown run kind is a ValueError naming 'train' and 'ensemble'."""
    with pytest.raises(ValueError, match="'train', 'ensemble'.*'finetune'"):
        create_run(db, dataset.id, "finetune", "vgg16")


def test_get_run_missing(db):
    """Check that a missing run raises RunNotFound naming its id."""
    with pytest.raises(RunNotFound, match="run 6 does not exist"):
        get_run(db, 6)


def test_list_and_count_runs(db, dataset):
    """Check that list_runs filters by dataset and kind, pages newest first, and counts match."""
    from storage.datasets import create_dataset

    other = create_dataset(db, dataset.source.id, params={}, summary={}, class_scheme={},
                           n_images=1)
    a = create_run(db, dataset.id, "train", "vgg16")
    b = create_run(db, other.id, "train", "vgg16")
    c = create_run(db, dataset.id, "ensemble", "voting", members=[a.id])
    assert [run.id for run in list_runs(db)] == [c.id, b.id, a.id]
    assert [run.id for run in list_runs(db, dataset_id=dataset.id)] == [c.id, a.id]
    assert [run.id for run in list_runs(db, kind="train", limit=1)] == [b.id]
    assert [run.id for run in list_runs(db, limit=1, offset=2)] == [a.id]
    assert (count_runs(db), count_runs(db, dataset_id=dataset.id, kind="train")) == (3, 1)


def test_set_run_status(db, dataset):
    """Check that set_run_status stores a valid status and rejects an unknown one."""
    run = create_run(db, dataset.id, "train", "vgg16")
    assert set_run_status(db, run.id, "succeeded").status == "succeeded"
    with pytest.raises(ValueError, match="'succeeded'.*'done'"):
        set_run_status(db, run.id, "done")
    assert get_run(db, run.id).status == "succeeded"


def test_set_run_status_missing(db):
    """Check that setting the status of a missing run raises RunNotFound."""
    with pytest.raises(RunNotFound, match="run 3 "):
        set_run_status(db, 3, "failed")


def test_record_metrics_numbers_and_json(db, dataset):
    """Check that numbers come back as floats and lists/dicts as JSON, per scope."""
    run = create_run(db, dataset.id, "train", "vgg16")
    record_metrics(db, run.id, "test", {"accuracy": 0.81, "n": 120,
                                        "confusion": [[5, 1], [2, 7]],
                                        "per_class": {"0-12": 0.9}})
    record_metrics(db, run.id, "external:fgnet", {"accuracy": 0.5})
    assert get_metrics(db, run.id, "test") == {"accuracy": 0.81, "n": 120.0,
                                               "confusion": [[5, 1], [2, 7]],
                                               "per_class": {"0-12": 0.9}}
    assert get_metrics(db, run.id) == {"test": get_metrics(db, run.id, "test"),
                                       "external:fgnet": {"accuracy": 0.5}}


def test_record_metrics_upserts(db, dataset):
    """Check that recording a metric again replaces its value, also switching number/JSON."""
    run = create_run(db, dataset.id, "train", "vgg16")
    record_metrics(db, run.id, "test", {"accuracy": 0.5, "f1": [0.1, 0.2]})
    record_metrics(db, run.id, "test", {"accuracy": 0.75, "f1": 0.3})
    assert get_metrics(db, run.id, "test") == {"accuracy": 0.75, "f1": 0.3}


def test_record_metrics_nan_becomes_none(db, dataset):
    """Check that NaN is stored as None on every backend."""
    run = create_run(db, dataset.id, "train", "vgg16")
    record_metrics(db, run.id, "test", {"auc": math.nan})
    assert get_metrics(db, run.id, "test") == {"auc": None}


def test_record_metrics_converts_array_like(db, dataset):
    """Check that objects with tolist() (numpy arrays and scalars) are stored as plain values."""
    class ArrayLike:
        def __init__(self, value):
            self.value = value

        def tolist(self):
            return self.value

    run = create_run(db, dataset.id, "train", "vgg16")
    record_metrics(db, run.id, "test", {"cm": ArrayLike([[1, 0], [0, 1]]),
                                        "acc": ArrayLike(0.9)})
    assert get_metrics(db, run.id, "test") == {"cm": [[1, 0], [0, 1]], "acc": 0.9}


def test_metrics_of_missing_run(db):
    """Check that recording or reading metrics of a missing run raises RunNotFound."""
    with pytest.raises(RunNotFound, match="run 9 "):
        record_metrics(db, 9, "test", {"accuracy": 1.0})
    with pytest.raises(RunNotFound, match="run 9 "):
        get_metrics(db, 9)


def test_get_metrics_of_unknown_scope_is_empty(db, dataset):
    """Check that an unrecorded scope gives an empty dict."""
    run = create_run(db, dataset.id, "train", "vgg16")
    record_metrics(db, run.id, "test", {"accuracy": 1.0})
    assert get_metrics(db, run.id, "natural") == {}


def test_calibration_is_kept_with_the_run(db, dataset):
    """Check that a run has no temperature until one is recorded, then gives it back, with
    what the fit measured in its calibration scope."""
    run = create_run(db, dataset.id, "train", "vgg16")
    assert get_temperature(db, run.id) is None
    record_calibration(db, run.id, {"temperature": 1.7, "fitted_on": "val", "ece_before": 0.2})
    assert get_temperature(db, run.id) == 1.7
    assert get_metrics(db, run.id, scope=CALIBRATION_SCOPE)["fitted_on"] == "val"


def test_calibration_without_a_positive_temperature_is_refused(db, dataset):
    """Check that a temperature of 0 (or none) is refused, naming the key."""
    run = create_run(db, dataset.id, "train", "vgg16")
    for fit in ({"temperature": 0.0}, {"ece_before": 0.1}):
        with pytest.raises(ValueError, match="temperature"):
            record_calibration(db, run.id, fit)

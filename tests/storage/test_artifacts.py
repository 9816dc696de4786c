"""Tests for storage.artifacts."""
from __future__ import annotations

import pytest

from storage.artifacts import add_artifact, find_predictions, list_artifacts
from storage.errors import ArtifactPathError, DatasetNotFound, JobNotFound, RunNotFound
from storage.jobs import create_job
from storage.runs import create_run


def test_artifact_round_trip_relative_to_home(db, dataset, agerec_home):
    """Check that an absolute path under home is stored relative, with kind, owner and meta."""
    run = create_run(db, dataset.id, "train", "vgg16")
    artifact = add_artifact(db, "weights", agerec_home / "runs" / str(run.id) / "best.h5",
                            run_id=run.id, meta={"epoch": 4})
    assert list_artifacts(db, run_id=run.id) == [artifact]
    assert (artifact.kind, artifact.path, artifact.meta) == \
        ("weights", f"runs/{run.id}/best.h5", {"epoch": 4})
    assert db.paths.resolve(artifact.path) == agerec_home / "runs" / str(run.id) / "best.h5"


def test_artifact_outside_home_is_refused(db, dataset, tmp_path):
    """Check that an absolute path outside home raises ArtifactPathError and stores nothing."""
    with pytest.raises(ArtifactPathError, match="outside"):
        add_artifact(db, "gradcam", tmp_path / "elsewhere.png", dataset_id=dataset.id)
    assert list_artifacts(db) == []


def test_artifact_dotdot_escape_is_refused(db):
    """Check that a relative path climbing out of home is refused."""
    with pytest.raises(ArtifactPathError):
        add_artifact(db, "history", "runs/../../history.json")


def test_artifact_owners_must_exist(db):
    """Check that a missing run, dataset or job owner raises its not-found error."""
    with pytest.raises(RunNotFound, match="run 5 "):
        add_artifact(db, "weights", "runs/5/w.h5", run_id=5)
    with pytest.raises(DatasetNotFound, match="dataset 6 "):
        add_artifact(db, "summary", "datasets/6/summary.json", dataset_id=6)
    with pytest.raises(JobNotFound, match="job 7 "):
        add_artifact(db, "log", "jobs/7/log.txt", job_id=7)


def test_list_artifacts_filters(db, dataset):
    """Check that list_artifacts combines owner and kind filters."""
    run = create_run(db, dataset.id, "train", "vgg16")
    job = create_job(db, "train")
    weights = add_artifact(db, "weights", "runs/1/w.h5", run_id=run.id, job_id=job.id)
    history = add_artifact(db, "history", "runs/1/history.json", run_id=run.id)
    crops = add_artifact(db, "crops", "datasets/1/images.npy", dataset_id=dataset.id)
    assert list_artifacts(db, run_id=run.id) == [weights, history]
    assert list_artifacts(db, run_id=run.id, kind="history") == [history]
    assert list_artifacts(db, job_id=job.id) == [weights]
    assert list_artifacts(db, dataset_id=dataset.id) == [crops]



def test_find_predictions_takes_the_newest_table_of_the_scope(db, dataset, agerec_home):
    """Check that a run's predictions table is found by its scope (the newest of it),
    and a scope never evaluated gives None."""
    run = create_run(db, dataset.id, "train", "vgg16")
    folder = agerec_home / "runs" / str(run.id)
    add_artifact(db, "predictions", folder / "old.csv", run_id=run.id, meta={"split": "test"})
    newest = add_artifact(db, "predictions", folder / "predictions.csv", run_id=run.id,
                          meta={"split": "test", "scope": "test"})
    prior = add_artifact(db, "predictions", folder / "p.csv", run_id=run.id,
                         meta={"split": "test", "scope": "test+prior:source"})
    assert find_predictions(db, run.id) == newest
    assert find_predictions(db, run.id, "test+prior:source") == prior
    assert find_predictions(db, run.id, "external:csv") is None

"""Tests for storage.records."""
from __future__ import annotations

import dataclasses

import pytest

from storage.jobs import create_job, get_job


def test_records_are_frozen(db):
    """Check that a returned record cannot be reassigned."""
    job = create_job(db, "train")
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.status = "running"


def test_records_do_not_share_state_with_the_database(db):
    """Check that mutating a record's JSON field changes neither the row nor later reads."""
    job = create_job(db, "train", {"backbones": ["vgg16"]})
    job.params["backbones"].append("resnet50")
    assert get_job(db, job.id).params == {"backbones": ["vgg16"]}


def test_job_finished_property(db):
    """Check that Job.finished is False while queued and True once cancelled."""
    from storage.jobs import request_cancel

    job = create_job(db, "train")
    assert not job.finished
    assert request_cancel(db, job.id).finished

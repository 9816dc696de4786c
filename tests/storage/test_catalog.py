"""Tests for storage.catalog: runs as they are listed, hidden and chosen by default."""
from __future__ import annotations

import pytest

from storage.catalog import default_entry, default_selection, get_entry, list_entries
from storage.errors import RunNotFound
from storage.jobs import create_job
from storage.runs import create_run, record_metrics, set_run_status


def _train(db, dataset, backbone, preset, *, status="succeeded", accuracy=0.6, n=100,
           weights="imagenet", via_job=False, departures=None):
    """A finished train run; its preset in its config, or only in its job's parameters."""
    config = {"backbone": backbone, "weights": weights, "image_size": 128, "epochs": 3,
              **({} if departures is None else {"preset_departures": departures})}
    job = create_job(db, "train", {"preset": preset}) if via_job else None
    run = create_run(db, dataset.id, "train", backbone, status=status,
                     config=config if via_job else {**config, "preset": preset},
                     job_id=job.id if job else None)
    record_metrics(db, run.id, "test", {"accuracy": accuracy, "one_off_accuracy": 0.9, "n": n})
    return run


def _ensemble(db, dataset, members, *, status="succeeded", departures=None):
    run = create_run(db, dataset.id, "ensemble", "meta", status=status,
                     members=[m.id for m in members],
                     config=None if departures is None else {"preset_departures": departures})
    record_metrics(db, run.id, "test", {"accuracy": 0.7, "n": 100})
    return run


def test_label_says_name_preset_test_faces_accuracy_and_status(db, dataset):
    """Check that an ensemble's label names its members, preset, n, accuracy and status."""
    a, b = _train(db, dataset, "efficientnet_lite0", "cpu"), _train(db, dataset, "dlib_face", "cpu")
    ens = _ensemble(db, dataset, [a, b])
    assert get_entry(db, ens.id).label == (f"#{ens.id} meta ensemble of efficientnet_lite0 + "
                                           "dlib_face · preset cpu · 100 test faces · 70.0% · "
                                           "succeeded")


def test_preset_comes_from_the_job_when_the_config_lacks_it(db, dataset):
    """Check that a run recorded before presets were stored takes its job's preset."""
    run = _train(db, dataset, "vgg19", "paper", via_job=True)
    assert get_entry(db, run.id).preset == "paper"


def test_an_ensemble_departs_from_its_preset_where_any_member_does(db, dataset):
    """Check that an ensemble lists the fields it or any member changed from their
    preset, and has unknown departures (None) when its own or one member's are unknown."""
    a = _train(db, dataset, "vgg19", "paper", departures=[])
    b = _train(db, dataset, "resnet152v2", "paper", departures=["saliency"])
    assert get_entry(db, a.id).departures == ()
    assert get_entry(db, _ensemble(db, dataset, [a, b], departures=["trials"]).id
                     ).departures == ("saliency", "trials")
    assert get_entry(db, _ensemble(db, dataset, [a, b]).id).departures is None
    unknown = _train(db, dataset, "resnet152v2", "paper")
    assert get_entry(db, _ensemble(db, dataset, [a, unknown], departures=[]).id
                     ).departures is None


def test_smoke_failed_and_cancelled_runs_are_hidden_unless_asked(db, dataset):
    """Check that the list leaves out smoke, failed and cancelled runs, and shows them
    all when asked."""
    real = _train(db, dataset, "vgg19", "cpu")
    smoke = _train(db, dataset, "vgg19", "smoke")
    failed = _train(db, dataset, "vgg19", "cpu", status="failed")
    cancelled = _train(db, dataset, "vgg19", "cpu", status="cancelled")
    assert [e.id for e in list_entries(db)] == [real.id]
    assert [e.id for e in list_entries(db, include_hidden=True)] == \
        [cancelled.id, failed.id, smoke.id, real.id]


def test_default_is_the_newest_finished_real_ensemble_not_a_newer_smoke_one(db, dataset):
    """Check that a smoke ensemble newer than a real one does not become the default."""
    real = _ensemble(db, dataset, [_train(db, dataset, "efficientnet_lite0", "cpu"),
                                   _train(db, dataset, "dlib_face", "cpu")])
    _ensemble(db, dataset, [_train(db, dataset, "efficientnet_lite0", "smoke"),
                            _train(db, dataset, "dlib_face", "smoke")])
    _train(db, dataset, "vgg19", "cpu")  # newer, but not an ensemble
    entries = list_entries(db, include_hidden=True)
    assert default_entry(entries).id == real.id


def test_compare_opens_on_the_default_ensemble_and_its_members(db, dataset):
    """Check that the default selection is the ensemble followed by its members."""
    a, b = _train(db, dataset, "efficientnet_lite0", "cpu"), _train(db, dataset, "dlib_face", "cpu")
    ens = _ensemble(db, dataset, [a, b])
    assert default_selection(list_entries(db)) == [ens.id, a.id, b.id]


def test_without_an_ensemble_the_default_is_the_newest_finished_real_run(db, dataset):
    """Check that without any ensemble the newest succeeded non-smoke run is chosen."""
    real = _train(db, dataset, "vgg19", "cpu")
    running = _train(db, dataset, "vgg19", "cpu")
    set_run_status(db, running.id, "running")
    assert default_entry(list_entries(db, include_hidden=True)).id == real.id


def test_an_unknown_run_id_is_refused(db, dataset):
    """Check that get_entry of a missing id raises RunNotFound."""
    with pytest.raises(RunNotFound):
        get_entry(db, 999)

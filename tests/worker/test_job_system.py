"""The job system end to end: a real worker process (Celery on Redis, or the local
runner), real SQLite, real images. Each test runs in both modes."""
from __future__ import annotations

import threading

import pytest

from storage import jobs as stored
from storage import runs
from tests.csv_source import make_csv_source, make_noise_source
from tests.worker.conftest import wait_for
from worker import job_control
from worker.stages.preprocess import run_preprocess
from worker.stages.stage_context import StageContext

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _finished(app, job_id):
    job = stored.get_job(app.db, job_id)
    return job if job.finished else None


def test_twenty_jobs_at_once_all_finish_while_a_reader_polls(mode, app, tmp_path):
    """Check that 20 jobs submitted at once all succeed, a polling reader never sees
    'database is locked', and each job's last progress update is kept."""
    _, start_worker = mode
    csv = make_csv_source(tmp_path / "src", n=20)
    start_worker()
    submitted = [job_control.submit(app, "preprocess", {"source": "csv", "path": str(csv),
                                                 "detector": "none", "image_size": 32,
                                                 "seed": i}) for i in range(20)]
    errors, stop = [], threading.Event()

    def poll():
        while not stop.is_set():
            try:
                stored.list_jobs(app.db, limit=None)
            except Exception as exc:  # any error here is a failure of the storage layer
                errors.append(repr(exc))

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        wait_for(lambda: all(_finished(app, j.id) for j in submitted), 600, "20 jobs to finish")
    finally:
        stop.set()
        reader.join()
    done = [stored.get_job(app.db, j.id) for j in submitted]
    assert [j.status for j in done] == ["succeeded"] * 20
    assert errors == []
    for job in done:
        assert job.progress["stage"] == "write"
        assert job.progress["current"] == job.progress["total"] == job.outputs["n_images"]


def test_cancelling_a_running_training_stops_it_within_ten_seconds(mode, app, tmp_path):
    """Check that cancel stops a training mid-run, marks it cancelled and keeps a checkpoint."""
    _, start_worker = mode
    csv = make_csv_source(tmp_path / "src", n=60)
    prepared = run_preprocess(StageContext(app=app), {"source": "csv", "path": str(csv),
                                                     "detector": "none", "image_size": 32})
    start_worker()
    job = job_control.submit(app, "train", {"dataset_id": prepared["dataset_id"],
                                     "backbone": "efficientnet_lite0", "preset": "smoke",
                                     "epochs": 500, "patience": 500})
    wait_for(lambda: "epoch 2" in (stored.get_job(app.db, job.id).progress.get("stage") or ""),
             300, "the training's second epoch")
    job_control.cancel(app, job.id)
    cancelled = wait_for(lambda: _finished(app, job.id), 10, "the cancelled status")
    assert cancelled.status == "cancelled"
    run_dir = app.paths.resolve(f"runs/{cancelled.outputs['run_ids'][0]}")
    assert (run_dir / "state.json").exists() and (run_dir / "last.keras").exists()


def test_killed_worker_leaves_job_failed_as_worker_lost_and_retry_succeeds(mode, app, tmp_path):
    """Check that kill -9 mid-job ends in 'failed: worker lost' after the heartbeat
    timeout, and that a retry on a fresh worker succeeds."""
    _, start_worker = mode
    manifest = make_noise_source(tmp_path / "noise", 24, faces=20)  # the faces: some are kept
    worker = start_worker()
    job = job_control.submit(app, "preprocess", {"source": "csv", "path": str(manifest),
                                          "detector": "cnn"})
    wait_for(lambda: stored.get_job(app.db, job.id).progress.get("stage") == "detect", 120,
             "face detection to start")
    worker.kill9()
    wait_for(lambda: stored.reap_lost(app.db, app.settings.heartbeat_timeout)
             or _finished(app, job.id), 30, "the job to be reaped")
    lost = stored.get_job(app.db, job.id)
    assert lost.status == "failed" and lost.error.startswith("worker lost")
    start_worker()
    job_control.retry(app, job.id)
    done = wait_for(lambda: _finished(app, job.id), 300, "the retried job")
    assert (done.status, done.attempts) == ("succeeded", 2)
    assert done.outputs["skipped"] == {"no_face": 24}


@pytest.mark.shared_data
def test_smoke_pipeline_succeeds_with_a_row_for_every_stage(mode, app, shared_data):
    """Check that a smoke pipeline on real UTKFace faces succeeds, with one child job
    per stage, each succeeded and linked to its outputs, its members and ensemble
    recording no departure from the preset."""
    _, start_worker = mode
    start_worker()
    job = job_control.submit(app, "pipeline", {"source": "utkface", "path": str(shared_data / "utkface"),
                                        "preset": "smoke"})
    done = wait_for(lambda: _finished(app, job.id), 840, "the smoke pipeline")
    assert done.status == "succeeded", done.error
    children = stored.children(app.db, job.id)
    assert [c.kind for c in children] == ["preprocess", "train", "train", "ensemble",
                                          "evaluate", "gradcam"]
    assert all(c.status == "succeeded" and c.parent_id == job.id for c in children)
    assert done.outputs["final_run_id"] in done.outputs["run_ids"]
    assert 0.0 <= done.outputs["accuracy"] <= 1.0
    members = [runs.get_run(app.db, c.outputs["run_id"]) for c in children if c.kind == "train"]
    assert [(m.config["preset"], m.config["preset_departures"]) for m in members] == \
        [("smoke", [])] * 2
    assert runs.get_run(app.db, done.outputs["final_run_id"]).config["preset_departures"] == []

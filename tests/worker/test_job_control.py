"""Submitting and retrying jobs through `agerec jobs`: a job that can never run, or
cannot be sent, is refused or failed at once and never left queued."""
from __future__ import annotations

import socket
import threading

import pytest

from storage import datasets, jobs as stored
from tests.conftest import closed_port
from tests.worker.commands.test_cli import run_json
from worker.context import AppContext

PASSWORD = "s3cret-pw"


@pytest.fixture
def silent_broker():
    """A localhost port that accepts connections and never answers (a hung broker)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for conn in accepted:
        conn.close()
    server.close()


def _submit_preprocess(capsys, tmp_path) -> tuple[int, dict]:
    (tmp_path / "faces").mkdir(exist_ok=True)
    return run_json(capsys, "jobs", "submit", "preprocess", "--source", "utkface",
                    "--path", str(tmp_path / "faces"), "--detector", "none")


@pytest.fixture
def celery_cache():
    """The process-wide Celery app is made again for this test's broker URL."""
    from worker.celery_app import celery_app

    celery_app.cache_clear()
    yield
    celery_app.cache_clear()


def test_submit_to_an_unreachable_broker_fails_the_job_naming_the_masked_broker(
        agerec_home, tmp_path, capsys, monkeypatch, celery_cache):
    """Check that a submit whose broker refuses connections exits 2, records the job as
    failed (never queued, so no local runner can run it), and names the broker's URL
    with its password masked, not 'the result store backend'."""
    port = closed_port()
    monkeypatch.setenv("AGEREC_BROKER_URL", f"redis://:{PASSWORD}@127.0.0.1:{port}/0")
    code, out = _submit_preprocess(capsys, tmp_path)
    assert code == 2
    assert f"broker at redis://:**@127.0.0.1:{port}/0" in out["error"]
    assert PASSWORD not in out["error"] and "result store" not in out["error"]
    (job,) = stored.list_jobs(AppContext().db)
    assert job.status == "failed" and f"127.0.0.1:{port}" in job.error
    assert PASSWORD not in job.error


@pytest.mark.timeout(60)
def test_submit_to_a_silent_broker_fails_instead_of_hanging(
        agerec_home, tmp_path, capsys, monkeypatch, celery_cache, silent_broker):
    """Check that a broker that accepts the connection and never answers fails the
    submit (exit 2, job failed) instead of blocking it forever."""
    monkeypatch.setenv("AGEREC_BROKER_URL", f"redis://127.0.0.1:{silent_broker}/0")
    code, out = _submit_preprocess(capsys, tmp_path)
    assert code == 2 and "broker" in out["error"]
    assert [j.status for j in stored.list_jobs(AppContext().db)] == ["failed"]


@pytest.fixture
def dataset_id(agerec_home) -> int:
    """A recorded dataset (its files are not needed: such jobs never run here)."""
    db = AppContext().db
    source = datasets.get_or_create_source(db, "utkface", "/data/utkface")
    return datasets.create_dataset(db, source.id, params={}, summary={}, class_scheme={},
                                   n_images=10).id


@pytest.mark.parametrize("argv, named", [
    (["train", "--dataset-id", "99", "--backbone", "vgg19"], "dataset 99 does not exist"),
    (["ensemble", "--runs", "7", "8"], "run 7 does not exist"),
    (["evaluate", "--run-id", "5"], "run 5 does not exist"),
    (["gradcam", "--runs", "4"], "run 4 does not exist"),
])
def test_submit_refuses_ids_that_do_not_exist(argv, named, agerec_home, capsys, monkeypatch):
    """Check that a job naming a dataset or run that does not exist is refused at
    submit time: exit 2 naming the parameter and the id, and no job row."""
    monkeypatch.setattr("worker.job_control._dispatch", lambda app, job: None)
    code, out = run_json(capsys, "jobs", "submit", *argv)
    assert code == 2
    assert named in out["error"] and f"'{argv[1][2:].replace('-', '_')}'" in out["error"]
    assert stored.list_jobs(AppContext().db) == []


def test_submit_refuses_a_weights_file_that_does_not_exist(dataset_id, tmp_path, capsys,
                                                           monkeypatch):
    """Check that a training whose weights file is missing is refused at submit time,
    naming the file, with no job row."""
    monkeypatch.setattr("worker.job_control._dispatch", lambda app, job: None)
    missing = tmp_path / "missing.weights.h5"
    code, out = run_json(capsys, "jobs", "submit", "train", "--dataset-id", str(dataset_id),
                         "--backbone", "vgg19", "--weights", str(missing))
    assert code == 2 and "'weights'" in out["error"] and str(missing) in out["error"]
    assert stored.list_jobs(AppContext().db) == []


def test_submit_accepts_a_weights_file_that_exists(dataset_id, tmp_path, capsys, monkeypatch):
    """Check that an existing weights file is accepted and recorded as an absolute path."""
    monkeypatch.setattr("worker.job_control._dispatch", lambda app, job: None)
    weights = tmp_path / "mine.weights.h5"
    weights.write_bytes(b"\0")
    code, out = run_json(capsys, "jobs", "submit", "train", "--dataset-id", str(dataset_id),
                         "--backbone", "vgg19", "--weights", str(weights))
    assert code == 0 and out["params"]["weights"] == str(weights.resolve())


def test_retry_refuses_a_job_that_succeeded(agerec_home, capsys, monkeypatch):
    """Check that `agerec jobs retry` of a succeeded job exits 2 saying which jobs can be
    retried, and leaves the job as it was."""
    db = AppContext().db
    job = stored.create_job(db, "preprocess", {"source": "utkface", "path": "/data"})
    stored.mark_running(db, job.id, "w")
    stored.finish_job(db, job.id, "succeeded")
    monkeypatch.setattr("worker.job_control._dispatch", lambda app, job: None)
    code, out = run_json(capsys, "jobs", "retry", str(job.id))
    assert code == 2 and "only a failed or cancelled job can be retried" in out["error"]
    assert stored.get_job(db, job.id).status == "succeeded"

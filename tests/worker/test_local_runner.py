"""The local runner's lifetime, tried on real processes: it outlives its owner only
while jobs wait, and `agerec worker --stop` stops it without leaving a job running."""
from __future__ import annotations

import subprocess
import sys

import pytest

from storage import jobs as stored
from storage.settings import Settings
from tests.conftest import REPO, kill_all, wait_for, wait_gone
from tests.csv_source import make_csv_source, make_noise_source
from tests.worker.conftest import WorkerProcess
from worker.cli import main
from worker.jobspecs import validate_params
from worker.local_runner import is_running, runner_pid

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"),
                                                   reason="reads Linux's /proc")]


def _queue(app, csv) -> int:
    """A queued preprocess job for the local runner (recorded, not dispatched)."""
    params = validate_params("preprocess", {"source": "csv", "path": str(csv),
                                            "detector": "none", "image_size": 32})
    return stored.create_job(app.db, "preprocess", params).id


def test_a_runner_whose_owner_is_gone_runs_the_waiting_job_then_exits(app, job_env, tmp_path):
    """Check that a runner started for a process that has exited still runs the job
    waiting for it, and then exits instead of idling on."""
    job_id = _queue(app, make_csv_source(tmp_path / "src", n=20))
    owner = subprocess.Popen([sys.executable, "-c", "pass"])
    owner.wait(timeout=30)
    runner = subprocess.Popen([sys.executable, "-m", "worker.local_runner", "--owner",
                               str(owner.pid)], cwd=REPO, env=job_env)
    try:
        runner.wait(timeout=120)
        assert stored.get_job(app.db, job_id).status == "succeeded"
    finally:
        kill_all([runner.pid])
        runner.wait(timeout=10)


def test_a_runner_serves_while_its_owner_lives(app, job_env):
    """Check that an idle runner whose owner is alive keeps serving."""
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    runner = subprocess.Popen([sys.executable, "-m", "worker.local_runner", "--owner",
                               str(owner.pid)], cwd=REPO, env=job_env)
    try:
        wait_for(lambda: is_running(Settings.from_env()), 60, "the runner to start")
        with pytest.raises(subprocess.TimeoutExpired):
            runner.wait(timeout=3)
        owner.kill()
        owner.wait(timeout=10)
        assert runner.wait(timeout=30) == 0
    finally:
        kill_all([owner.pid, runner.pid])
        owner.wait(timeout=10)
        runner.wait(timeout=10)


def test_a_runner_reports_its_machines_gpus(app, job_env):
    """Check that a starting runner records how many GPUs it sees (none here: CUDA is
    told to see none), so the dashboard knows without TensorFlow."""
    from storage.machine import gpu_present, machines

    owner = subprocess.Popen([sys.executable, "-c", "pass"])
    owner.wait(timeout=30)
    runner = subprocess.Popen([sys.executable, "-m", "worker.local_runner", "--owner",
                               str(owner.pid)], cwd=REPO,
                              env={**job_env, "CUDA_VISIBLE_DEVICES": "-1"})
    try:
        runner.wait(timeout=120)
    finally:
        kill_all([runner.pid])
        runner.wait(timeout=10)
    home = Settings.from_env().home
    assert [m["gpus"] for m in machines(home)] == [0] and gpu_present(home) is False


def test_worker_stop_stops_an_idle_local_runner(app, job_env, tmp_path, capsys):
    """Check that `agerec worker --stop` ends the home's local runner (read from the pid
    in its lock file) and says so."""
    worker = WorkerProcess(job_env, tmp_path / "worker.log").start()
    try:
        pid = wait_for(lambda: runner_pid(Settings.from_env()), 60, "the runner to start")
        assert main(["worker", "--stop"]) == 0
        assert f"stopped the local runner (pid {pid})" in capsys.readouterr().err
        assert worker.proc.wait(timeout=30) == 0
        assert not is_running(Settings.from_env())
    finally:
        worker.kill9()


def test_worker_stop_without_a_runner_says_so(app, capsys):
    """Check that --stop with no runner running exits 0 and says there was none."""
    assert main(["worker", "--stop"]) == 0
    assert "no local runner is running" in capsys.readouterr().err


def test_stopping_a_runner_fails_the_job_it_was_running(app, job_env, tmp_path):
    """Check that a job running when its runner is stopped ends failed, naming the stop,
    instead of staying 'running'."""
    manifest = make_noise_source(tmp_path / "noise", 16)
    job_id = stored.create_job(app.db, "preprocess", validate_params("preprocess", {
        "source": "csv", "path": str(manifest), "detector": "cnn", "workers": 2})).id
    worker = WorkerProcess(job_env, tmp_path / "worker.log").start()
    try:
        wait_for(lambda: stored.get_job(app.db, job_id).progress.get("stage") == "detect", 120,
                 "face detection to start")
        assert main(["worker", "--stop"]) == 0
        assert worker.proc.wait(timeout=60) == 0
        job = stored.get_job(app.db, job_id)
        assert job.status == "failed" and "local runner was stopped by SIGTERM" in job.error
    finally:
        worker.kill9()
        wait_gone([worker.proc.pid], 10)


def niceness(pid: int) -> int:
    """A process's nice value, from /proc/<pid>/stat."""
    from pathlib import Path

    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_a_runner_runs_its_jobs_below_the_try_service_s_priority(app, job_env):
    """Check that the local runner lowers its CPU priority to JOB_NICENESS, so a training
    yields the cores to the dashboard and the try-it service."""
    from worker.local_runner import JOB_NICENESS

    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    runner = subprocess.Popen([sys.executable, "-m", "worker.local_runner", "--owner",
                               str(owner.pid)], cwd=REPO, env=job_env)
    try:
        wait_for(lambda: is_running(Settings.from_env()), 60, "the runner to start")
        assert niceness(runner.pid) >= JOB_NICENESS > niceness(owner.pid)
    finally:
        kill_all([owner.pid, runner.pid])
        owner.wait(timeout=10)
        runner.wait(timeout=10)

"""Celery tasks under real redelivery: a task whose worker process is killed each time
(as the OOM killer would) is redelivered, counted, and given up after
AGEREC_MAX_ATTEMPTS starts instead of forever."""
from __future__ import annotations

import os
import signal
import sys

import pytest

from storage import jobs as stored
from tests.conftest import parent_pid, wait_for
from tests.csv_source import make_noise_source
from worker import job_control
from worker.context import AppContext

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(300),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]


def test_a_task_killed_on_every_start_gives_up_after_max_attempts(celery_workers, monkeypatch,
                                                                  tmp_path):
    """Check that killing the worker process of a running task twice (the broker
    redelivers it each time) counts two attempts, and the next delivery fails the job
    with 'gave up after 2 attempts' instead of running it a third time."""
    monkeypatch.setenv("AGEREC_MAX_ATTEMPTS", "2")
    (worker,) = celery_workers(1)
    app = AppContext()  # made now, so that it sends to the broker
    job = job_control.submit(app, "preprocess", {"source": "csv", "detector": "cnn",
                                          "path": str(make_noise_source(tmp_path / "noise", 24))})
    for attempt in (1, 2):
        running = wait_for(lambda: (lambda j: j if j.status == "running" and j.attempts == attempt
                                    and j.progress.get("stage") == "detect" else None)(
            stored.get_job(app.db, job.id)), 120, f"attempt {attempt} to be detecting")
        child = int(running.worker.rsplit(":", 1)[1])
        assert parent_pid(child) == worker.proc.pid  # a process of our worker, nobody else's
        os.kill(child, signal.SIGKILL)
    done = wait_for(lambda: (lambda j: j if j.finished else None)(
        stored.get_job(app.db, job.id)), 120, "the job to be given up")
    assert (done.status, done.attempts) == ("failed", 2)
    assert done.error.startswith("gave up after 2 attempts")

"""Celery tasks under real redelivery: a task whose worker process is killed each time
(as the OOM killer would) is redelivered, counted, and given up after
AGEREC_MAX_ATTEMPTS starts instead of forever."""
from __future__ import annotations

import os
import signal
import sys

import numpy as np
import pytest
from PIL import Image

from storage import jobs as stored
from tests.conftest import wait_for
from worker import jobs
from worker.context import AppContext

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(300),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]


def _noise_manifest(folder, n: int) -> str:
    """A CSV of faceless photos that keep the CNN detector busy for seconds."""
    rng = np.random.default_rng(2)
    folder.mkdir()
    lines = ["path,age,gender"]
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (360, 360, 3), dtype=np.uint8)).save(
            folder / f"{i}.jpg")
        lines.append(f"{i}.jpg,{20 + i},{'MF'[i % 2]}")
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    return str(folder / "manifest.csv")


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def test_a_task_killed_on_every_start_gives_up_after_max_attempts(celery_workers, monkeypatch,
                                                                  tmp_path):
    """Check that killing the worker process of a running task twice (the broker
    redelivers it each time) counts two attempts, and the next delivery fails the job
    with 'gave up after 2 attempts' instead of running it a third time."""
    monkeypatch.setenv("AGEREC_MAX_ATTEMPTS", "2")
    (worker,) = celery_workers(1)
    app = AppContext()  # made now, so that it sends to the broker
    job = jobs.submit(app, "preprocess", {"source": "csv", "detector": "cnn",
                                          "path": _noise_manifest(tmp_path / "noise", 24)})
    for attempt in (1, 2):
        running = wait_for(lambda: (lambda j: j if j.status == "running" and j.attempts == attempt
                                    and j.progress.get("stage") == "detect" else None)(
            stored.get_job(app.db, job.id)), 120, f"attempt {attempt} to be detecting")
        child = int(running.worker.rsplit(":", 1)[1])
        assert _parent(child) == worker.proc.pid  # a process of our worker, nobody else's
        os.kill(child, signal.SIGKILL)
    done = wait_for(lambda: (lambda j: j if j.finished else None)(
        stored.get_job(app.db, job.id)), 120, "the job to be given up")
    assert (done.status, done.attempts) == ("failed", 2)
    assert done.error.startswith("gave up after 2 attempts")

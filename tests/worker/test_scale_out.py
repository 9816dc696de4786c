"""Scale-out, proven: two `agerec worker` processes on one Redis and one PostgreSQL
share the jobs, each job runs exactly once, and killing one worker mid-job loses only
that job (failed as "worker lost", so it can be retried)."""
from __future__ import annotations

import sys

import pytest

from storage import datasets, jobs as stored
from tests.conftest import parent_pid, wait_for
from tests.storage.conftest import postgres_db, postgres_url  # noqa: F401 (fixtures)
from tests.csv_source import make_csv_source, make_noise_source
from worker import job_control
from worker.context import AppContext

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow,
              pytest.mark.timeout(300),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]

N_JOBS = 30
SLOW = 6  # the job (by position) that runs for seconds, so it can be caught mid-run


def test_two_workers_share_thirty_jobs_and_a_killed_one_loses_only_its_job(
        postgres_url, postgres_db, celery_workers, monkeypatch, tmp_path):  # noqa: F811
    """Check that 30 jobs sent to two Celery workers (concurrency 1 each, PostgreSQL)
    each run exactly once and on both workers, and that SIGKILL of the worker running
    one of them mid-job ends that job as 'worker lost' while the other 29 succeed."""
    monkeypatch.setenv("AGEREC_DATABASE_URL", postgres_url)
    workers = {w.proc.pid: w for w in celery_workers(2)}
    app = AppContext()
    csv = make_csv_source(tmp_path / "src", n=40, size=32)  # enough to keep some per class
    quick = {"source": "csv", "path": str(csv), "detector": "none", "image_size": 32}
    slow = {"source": "csv", "path": str(make_noise_source(tmp_path / "noise", 8)),
            "detector": "cnn", "image_size": 32}
    submitted = [job_control.submit(app, "preprocess", slow if i == SLOW else {**quick, "seed": i})
                 for i in range(N_JOBS)]
    victim_id = submitted[SLOW].id
    # Kill the worker that runs the slow job while it detects faces.
    running = wait_for(lambda: (lambda j: j if j.progress.get("stage") == "detect" else None)(
        stored.get_job(app.db, victim_id)), 120, "the slow job to be detecting")
    child = int(running.worker.rsplit(":", 1)[1])
    killed = workers[parent_pid(child)]  # KeyError if it were not one of our two workers
    killed.kill9()
    assert stored.get_job(app.db, victim_id).status == "running"  # killed mid-job
    done = wait_for(lambda: (lambda js: js if all(j.finished for j in js) else None)(
        [stored.get_job(app.db, j.id) for j in submitted]), 180, "every job to end")
    victim = done[SLOW]
    others = [j for j in done if j.id != victim_id]
    assert victim.status == "failed" and victim.error.startswith("worker lost")
    assert [(j.status, j.attempts) for j in others] == [("succeeded", 1)] * (N_JOBS - 1)
    # Each job made its own dataset, once; the killed worker's process and the other
    # worker's process both ran some of them.
    made = sorted(d.job_id for d in datasets.list_datasets(app.db))
    assert made == sorted(j.id for j in others)
    ran = {j.worker for j in others}
    assert running.worker in ran and len(ran) == 2

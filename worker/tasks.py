"""Thin named Celery tasks: each takes only a job id and runs it through `execute`.
TensorFlow is imported inside the stages, never at worker start."""
from __future__ import annotations

import threading
import time

from celery.signals import worker_ready

from worker.celery_app import celery_app
from worker.context import AppContext
from worker.jobspecs import JOB_KINDS

app = celery_app()


def _make_task(kind: str):
    @app.task(name=kind, bind=True, acks_late=True)
    def run_job(self, job_id: int) -> dict:
        from worker.execute import execute

        job = execute(AppContext(), int(job_id), task_id=self.request.id)
        return {"id": job.id, "status": job.status}

    return run_job


TASKS = {kind: _make_task(kind) for kind in JOB_KINDS}


@worker_ready.connect
def _start_reaper(**_) -> None:
    """Each worker also fails jobs whose own worker died (kill -9, out of memory)."""
    threading.Thread(target=_reap_forever, name="agerec-reaper", daemon=True).start()


def _reap_forever() -> None:
    from worker.jobs import reap_lost

    ctx = AppContext()
    while True:
        try:
            reap_lost(ctx)
        except Exception:  # the database may be briefly unavailable; try again later
            pass
        time.sleep(max(1.0, ctx.settings.heartbeat_seconds))

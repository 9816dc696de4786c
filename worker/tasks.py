"""Thin named Celery tasks: each takes only a job id and runs it through `execute`.
TensorFlow is imported inside the stages, never at worker start."""
from __future__ import annotations

import logging
import threading
import time

from celery import Celery
from celery.signals import worker_ready

from storage.jobs import reap_lost
from worker.context import AppContext
from worker.execute import execute
from worker.jobspecs import JOB_KINDS

log = logging.getLogger(__name__)


def run_job(job_id: int, task_id: str | None = None) -> None:
    """What every task does: run the job to its end (a finished job is left as it is)."""
    execute(AppContext(), int(job_id), task_id=task_id)


def register_tasks(app: Celery) -> None:
    """One task per job kind, named by the kind, so a job is sent by name."""
    for kind in JOB_KINDS:
        def task(self, job_id: int) -> None:
            run_job(job_id, task_id=self.request.id)

        app.task(name=kind, bind=True, shared=False)(task)  # this app only


@worker_ready.connect
def _start_reaper(**_) -> None:
    """Each worker also fails jobs whose own worker died (kill -9, out of memory)."""
    threading.Thread(target=_reap_forever, name="agerec-reaper", daemon=True).start()


def _reap_forever() -> None:
    ctx = AppContext()
    while True:
        try:
            for job in reap_lost(ctx.db, ctx.settings.heartbeat_timeout):
                log.warning("job %s failed: %s", job.id, job.error)
        except Exception:  # the database may be briefly unavailable; try again later
            log.warning("reaper: could not check for lost jobs; trying again later",
                        exc_info=True)
        time.sleep(max(1.0, ctx.settings.heartbeat_seconds))

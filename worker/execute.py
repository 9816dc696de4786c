"""Run one job to its end, whoever calls: a Celery task, the local runner, or a
pipeline running its children. Idempotent: a finished job is left as it is."""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback as tb
from typing import Any

from storage import jobs
from storage.errors import JobStateError
from storage.records import Job
from worker.context import AppContext
from worker.stages.by_kind import STAGES
from worker.stages.stage_context import JobCancelled, StageContext

log = logging.getLogger(__name__)


class JobReporter:
    """Progress and cancel checks for one job, throttled so the database stays calm."""

    def __init__(self, app: AppContext, job: Job, min_interval: float = 1.0):
        self.app, self.job_id, self.parent_id = app, job.id, job.parent_id
        self.min_interval = min_interval
        self._last_write = 0.0
        self._last_check = 0.0
        self._pending: tuple[int, int, str] | None = None
        self._last_stage: str | None = None
        self.cancelled = False

    def progress(self, current: int, total: int, stage: str) -> None:
        """Record {current, total, stage}: every stage change and the end, else at most 1/s."""
        self._pending = (int(current), int(total), str(stage))
        if stage != self._last_stage:
            # The log tail tells, in order, which stages a job went through and when.
            self.log(f"{time.strftime('%H:%M:%S')} {stage}")
        now = time.monotonic()
        if stage != self._last_stage or current >= total or now - self._last_write >= self.min_interval:
            self.flush()

    def flush(self) -> None:
        if self._pending is None:
            return
        current, total, stage = self._pending
        jobs.update_progress(self.app.db, self.job_id, current, total, stage)
        self._pending, self._last_stage, self._last_write = None, stage, time.monotonic()

    def should_stop(self) -> bool:
        """True once this job (or its pipeline) was asked to cancel; reads at most 1/s."""
        now = time.monotonic()
        if not self.cancelled and now - self._last_check >= self.min_interval:
            self._last_check = now
            ids = [self.job_id] + ([self.parent_id] if self.parent_id else [])
            self.cancelled = any(jobs.get_job(self.app.db, i).cancel_requested for i in ids)
        return self.cancelled

    def log(self, text: str) -> None:
        jobs.append_log(self.app.db, self.job_id, text if text.endswith("\n") else text + "\n")


class Heartbeat(threading.Thread):
    """Refresh the job's heartbeat while it runs; a dead process stops refreshing it."""

    def __init__(self, app: AppContext, job_id: int):
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.app, self.job_id = app, job_id
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(self.app.settings.heartbeat_seconds):
            try:
                jobs.heartbeat(self.app.db, self.job_id)
            except Exception:  # a missed beat is not fatal; the next one may land
                log.warning("job %s: heartbeat not recorded; trying again in %.1f s",
                            self.job_id, self.app.settings.heartbeat_seconds, exc_info=True)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def execute(app: AppContext, job_id: int, *, task_id: str | None = None) -> Job:
    """Run a queued job's stage and record how it ended."""
    job = jobs.get_job(app.db, job_id)
    if job.finished:
        return job  # a redelivered message for a job already done
    try:
        job = jobs.mark_running(app.db, job_id, worker=worker_name(), task_id=task_id,
                                max_attempts=app.settings.max_attempts)
    except JobStateError:
        return jobs.get_job(app.db, job_id)
    if job.finished:
        return job  # given up: it started max_attempts times and never ended
    reporter = JobReporter(app, job)
    beat = Heartbeat(app, job_id)
    beat.start()
    try:
        if reporter.should_stop():
            raise JobCancelled(f"job {job_id} was cancelled before it started")
        stage = StageContext(app=app, job_id=job_id, progress=reporter.progress,
                             cancel=reporter.should_stop, log=reporter.log,
                             run_child=lambda child_id: execute(app, child_id))
        outputs: dict[str, Any] = STAGES[job.kind](stage, job.params) or {}
        reporter.flush()
        jobs.set_outputs(app.db, job_id, **outputs)
        return jobs.finish_job(app.db, job_id, "succeeded")
    except BaseException as exc:  # record every ending, then let fatal signals through
        reporter.flush()
        if reporter.cancelled or isinstance(exc, JobCancelled):
            return jobs.finish_job(app.db, job_id, "cancelled", error=str(exc) or "cancelled")
        finished = jobs.finish_job(app.db, job_id, "failed", error=_one_line(exc),
                                   traceback="".join(tb.format_exception(exc)))
        if not isinstance(exc, Exception):
            raise
        return finished
    finally:
        beat.stop_event.set()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}"

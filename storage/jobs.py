"""Jobs: creation, status changes, progress, logs, cancellation, retries and lost workers."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from types import EllipsisType
from typing import Any

from sqlalchemy import func, select

from storage.db import Database, check_choice, get_row
from storage.errors import JobNotFound, JobStateError
from storage.records import Job
from storage.tables import FINISHED_STATUSES, JOB_STATUSES, JobRow, utcnow

LOG_TAIL_CHARS = 4000
RETRYABLE_STATUSES = ("failed", "cancelled")
# progress key: seconds spent by the job's earlier attempts (retries and redeliveries)
EARLIER_ATTEMPTS = "earlier_attempts_s"


def create_job(db: Database, kind: str, params: dict[str, Any] | None = None,
               parent_id: int | None = None, task_id: str | None = None) -> Job:
    """Record a queued job, not yet attempted. `task_id` names the broker message that
    will carry it: a job with one is the broker's, and no local runner takes it."""
    with db.transaction() as session:
        if parent_id is not None:
            get_row(session, JobRow, parent_id, JobNotFound)
        row = JobRow(kind=kind, params=dict(params or {}), status="queued", progress={},
                     outputs={}, log_tail="", parent_id=parent_id, cancel_requested=False,
                     task_id=task_id, attempts=0, attempts_before_retry=0)
        session.add(row)
        session.flush()
        return Job.from_row(row)


def get_job(db: Database, job_id: int) -> Job:
    """The job with this id; JobNotFound otherwise."""
    with db.transaction(write=False) as session:
        return Job.from_row(get_row(session, JobRow, job_id, JobNotFound))


def list_jobs(db: Database, limit: int | None = 50, offset: int = 0,
              status: str | Iterable[str] | None = None,
              parent_id: int | None | EllipsisType = ...) -> list[Job]:
    """Jobs newest first; parent_id=... any job, None top-level jobs only, an id its children."""
    query = _filtered(select(JobRow), status, parent_id)
    query = query.order_by(JobRow.id.desc()).offset(offset).limit(limit)
    with db.transaction(write=False) as session:
        return [Job.from_row(row) for row in session.scalars(query)]


def count_jobs(db: Database, status: str | Iterable[str] | None = None,
               parent_id: int | None | EllipsisType = ...) -> int:
    """How many jobs list_jobs would return without a limit."""
    query = _filtered(select(func.count(JobRow.id)), status, parent_id)
    with db.transaction(write=False) as session:
        return int(session.scalar(query))


def children(db: Database, job_id: int) -> list[Job]:
    """The child jobs of a job, oldest first; JobNotFound if the parent does not exist."""
    with db.transaction(write=False) as session:
        get_row(session, JobRow, job_id, JobNotFound)
        query = select(JobRow).where(JobRow.parent_id == job_id).order_by(JobRow.id)
        return [Job.from_row(row) for row in session.scalars(query)]


def mark_running(db: Database, job_id: int, worker: str | None = None,
                 task_id: str | None = None, max_attempts: int | None = None) -> Job:
    """Move a queued job to running and count the attempt; JobStateError if it already
    finished (or was cancelled).

    A start of a job that is still 'running' is a broker's redelivery after its worker
    died, and counts too. Once `max_attempts` starts were made since the job was last
    queued, the job is failed instead, so a task killed every time (out of memory) is not
    run forever; the failed job is returned.
    """
    with db.transaction() as session:
        row = _locked(session, job_id)
        if row.status in FINISHED_STATUSES:
            raise JobStateError(f"job {job_id} is {row.status}; it cannot start running")
        now = utcnow()
        made = row.attempts - row.attempts_before_retry
        if max_attempts is not None and made >= max_attempts:
            row.status, row.finished_at, row.heartbeat_at = "failed", now, now
            row.error = (f"gave up after {made} attempts: each one ended without an outcome "
                         f"(its worker was killed, out of memory?); retry it to try again")
            return Job.from_row(row)
        if row.status == "running" and row.started_at is not None:
            # A redelivery: the attempt that died ran until its last heartbeat.
            _add_earlier_attempt(row, (row.heartbeat_at or now) - row.started_at)
        row.attempts += 1
        row.status, row.started_at, row.heartbeat_at = "running", now, now
        row.worker = worker
        row.task_id = task_id if task_id is not None else row.task_id
        return Job.from_row(row)


def update_progress(db: Database, job_id: int, current: int | float | None = None,
                    total: int | float | None = None, stage: str | None = None) -> Job:
    """Merge the given progress fields (None keeps the old value) and refresh the heartbeat."""
    with db.transaction() as session:
        row = _locked(session, job_id)
        given = {"current": current, "total": total, "stage": stage}
        row.progress = {**(row.progress or {}),
                        **{key: value for key, value in given.items() if value is not None}}
        row.heartbeat_at = utcnow()
        return Job.from_row(row)


def heartbeat(db: Database, job_id: int) -> Job:
    """Record that the job's worker is alive now."""
    with db.transaction() as session:
        row = _locked(session, job_id)
        row.heartbeat_at = utcnow()
        return Job.from_row(row)


def append_log(db: Database, job_id: int, text: str) -> Job:
    """Append to the job's log, keeping only its last LOG_TAIL_CHARS characters."""
    with db.transaction() as session:
        row = _locked(session, job_id)
        row.log_tail = ((row.log_tail or "") + text)[-LOG_TAIL_CHARS:]
        return Job.from_row(row)


def finish_job(db: Database, job_id: int, status: str, error: str | None = None,
               traceback: str | None = None) -> Job:
    """Record the job's final status ('succeeded', 'failed' or 'cancelled')."""
    check_choice(status, FINISHED_STATUSES, "a finished job's status")
    with db.transaction() as session:
        row = _locked(session, job_id)
        now = utcnow()
        row.status, row.finished_at, row.heartbeat_at = status, now, now
        row.error, row.traceback = error, traceback
        return Job.from_row(row)


def set_outputs(db: Database, job_id: int, **outputs: Any) -> Job:
    """Merge `outputs` into the job's outputs (each given key replaces the old value)."""
    with db.transaction() as session:
        row = _locked(session, job_id)
        row.outputs = {**(row.outputs or {}), **outputs}
        return Job.from_row(row)


def request_cancel(db: Database, job_id: int) -> Job:
    """Ask a job to stop: a queued job is cancelled at once, a running one is flagged."""
    with db.transaction() as session:
        row = _locked(session, job_id)
        if row.status in FINISHED_STATUSES:
            return Job.from_row(row)
        row.cancel_requested = True
        if row.status == "queued":
            row.status, row.finished_at = "cancelled", utcnow()
        return Job.from_row(row)


def reset_for_retry(db: Database, job_id: int, task_id: str | None = None) -> Job:
    """Queue a failed or cancelled job again, with a fresh allowance of attempts: clears
    error, progress and timings. `task_id` as in create_job. A job that succeeded (or has
    not finished) is refused with JobStateError."""
    with db.transaction() as session:
        row = _locked(session, job_id)
        if row.status not in RETRYABLE_STATUSES:
            raise JobStateError(f"job {job_id} is {row.status}; only a failed or cancelled "
                                f"job can be retried")
        if row.started_at is not None:
            _add_earlier_attempt(row, (row.finished_at or row.heartbeat_at or utcnow())
                                 - row.started_at)
        earlier = (row.progress or {}).get(EARLIER_ATTEMPTS)
        row.status, row.error, row.traceback = "queued", None, None
        row.progress = {EARLIER_ATTEMPTS: earlier} if earlier else {}
        row.started_at = row.finished_at = row.heartbeat_at = None
        row.worker, row.task_id = None, task_id
        row.cancel_requested = False
        row.attempts_before_retry = row.attempts
        return Job.from_row(row)


def _add_earlier_attempt(row: JobRow, spent) -> None:
    """Add an ended attempt's duration to the job's progress, so its elapsed time counts
    every attempt (started_at holds only the last one's start)."""
    progress = dict(row.progress or {})
    progress[EARLIER_ATTEMPTS] = (float(progress.get(EARLIER_ATTEMPTS) or 0.0)
                                  + max(0.0, spent.total_seconds()))
    row.progress = progress


def oldest_local_job(db: Database) -> Job | None:
    """The oldest queued top-level job sent to no broker: the local runner's next job
    (a pipeline runs its own children)."""
    query = (select(JobRow).where(JobRow.status == "queued", JobRow.parent_id.is_(None),
                                  JobRow.task_id.is_(None))
             .order_by(JobRow.id).limit(1))
    with db.transaction(write=False) as session:
        row = session.scalars(query).first()
        return Job.from_row(row) if row is not None else None


def find_stale_running(db: Database, older_than_seconds: float) -> list[Job]:
    """Running jobs whose last heartbeat (or start) is older than `older_than_seconds`."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    last_seen = func.coalesce(JobRow.heartbeat_at, JobRow.started_at, JobRow.created_at)
    query = (select(JobRow).where(JobRow.status == "running", last_seen < cutoff)
             .order_by(JobRow.id))
    with db.transaction(write=False) as session:
        return [Job.from_row(row) for row in session.scalars(query)]


def mark_lost(db: Database, job_id: int, reason: str = "worker lost") -> Job:
    """Fail a job whose worker vanished; a job no longer running is left as it is."""
    with db.transaction() as session:
        row = _locked(session, job_id)
        if row.status == "running":
            row.status, row.finished_at, row.error = "failed", utcnow(), reason
        return Job.from_row(row)


def reap_lost(db: Database, timeout_seconds: float) -> list[Job]:
    """Fail every running job whose heartbeat has been silent for `timeout_seconds`:
    its worker died (kill -9, the OOM killer), so nobody else will end it."""
    lost = []
    for job in find_stale_running(db, timeout_seconds):
        lost.append(mark_lost(db, job.id, reason=(
            f"worker lost: no heartbeat from {job.worker or 'its worker'} for more than "
            f"{timeout_seconds:.0f} s")))
    return lost


def _locked(session, job_id: int) -> JobRow:
    """The job row, locked against concurrent writers; JobNotFound otherwise."""
    return get_row(session, JobRow, job_id, JobNotFound, for_update=True)


def _filtered(query, status, parent_id):
    """`query` restricted to the given statuses and parent."""
    if status is not None:
        statuses = (status,) if isinstance(status, str) else tuple(status)
        for value in statuses:
            check_choice(value, JOB_STATUSES, "job status")
        query = query.where(JobRow.status.in_(statuses))
    if parent_id is None:
        query = query.where(JobRow.parent_id.is_(None))
    elif parent_id is not ...:
        query = query.where(JobRow.parent_id == parent_id)
    return query

"""Submit, cancel and retry jobs by name. The dashboard and the command line call
these; they never import TensorFlow."""
from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from kombu.utils.url import maybe_sanitize_url

from storage import jobs
from storage.records import Job
from worker.celery_app import celery_app
from worker.context import AppContext
from worker.jobspecs import check_references, validate_params
from worker.local_runner import ensure_local_runner


class DispatchError(RuntimeError):
    """The job could not be handed to the broker; it was recorded as failed."""


def submit(app: AppContext, kind: str, params: dict[str, Any], *, dispatch: bool = True) -> Job:
    """Validate `params` (every dataset and run they name must exist), record a queued
    job and hand it to whoever runs jobs. DispatchError when the broker cannot take it."""
    clean = validate_params(kind, params)
    check_references(app.db, kind, clean)
    job = jobs.create_job(app.db, kind, clean, task_id=_new_task_id(app) if dispatch else None)
    if dispatch:
        _dispatch(app, job)
    return job


def cancel(app: AppContext, job_id: int) -> Job:
    """Cancel a job and its children: queued ones at once, running ones cooperatively."""
    for child in jobs.children(app.db, job_id):
        if not child.finished:
            cancel(app, child.id)
    job = jobs.request_cancel(app.db, job_id)
    if job.status == "cancelled" and job.task_id and app.settings.broker_url:
        celery_app().control.revoke(job.task_id)
    return job


def retry(app: AppContext, job_id: int) -> Job:
    """Queue a failed or cancelled job again (a job that succeeded is refused); a
    training resumes from its checkpoint. A pipeline's step is run by its pipeline."""
    top_level = jobs.get_job(app.db, job_id).parent_id is None
    job = jobs.reset_for_retry(app.db, job_id, task_id=_new_task_id(app) if top_level else None)
    if top_level:
        _dispatch(app, job)
    return job


def _new_task_id(app: AppContext) -> str | None:
    """The broker message id of a job's next attempt; None where the local runner runs jobs."""
    return f"agerec-{uuid.uuid4().hex}" if app.settings.broker_url else None


def _dispatch(app: AppContext, job: Job) -> None:
    """Send by name to Celery, or make sure the embedded local runner is up. A job the
    broker does not take is recorded as failed, and DispatchError says why."""
    url = app.settings.broker_url
    if not url:
        ensure_local_runner(app.settings)
        return
    try:
        celery_app().send_task(job.kind, args=[job.id], task_id=job.task_id,
                               queue=app.settings.queue, ignore_result=True)
    except Exception as exc:  # whatever the cause, the job was not sent: never leave it queued
        error = (f"could not send the job to the broker at {maybe_sanitize_url(url)}: "
                 f"{_without_password(str(exc), url)}")
        jobs.finish_job(app.db, job.id, "failed", error=error)
        raise DispatchError(f"job {job.id} failed: {error}") from exc


def _without_password(text: str, url: str) -> str:
    """`text` (an error message) with the URL's password masked wherever it appears."""
    password = urlsplit(url).password
    return text.replace(password, "**") if password else text

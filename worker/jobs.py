"""Submit, cancel and retry jobs by name. The dashboard and the command line call
these; they never import TensorFlow."""
from __future__ import annotations

from typing import Any

from storage import jobs
from storage.records import Job
from worker.celery_app import celery_app
from worker.context import AppContext
from worker.jobspecs import validate_params
from worker.local_runner import ensure_local_runner


def task_id_for(job: Job) -> str:
    """The broker task id of a job's current attempt (stable, so it can be revoked)."""
    return f"agerec-job-{job.id}-{job.attempts}"


def submit(app: AppContext, kind: str, params: dict[str, Any], *, dispatch: bool = True) -> Job:
    """Validate `params`, record a queued job and hand it to whoever runs jobs."""
    job = jobs.create_job(app.db, kind, validate_params(kind, params))
    if dispatch:
        _dispatch(app, job)
    return job


def cancel(app: AppContext, job_id: int) -> Job:
    """Cancel a job and its children: queued ones at once, running ones cooperatively."""
    for child in jobs.children(app.db, job_id):
        if not child.finished:
            cancel(app, child.id)
    job = jobs.request_cancel(app.db, job_id)
    if job.status == "cancelled" and app.settings.broker_url:
        celery_app().control.revoke(task_id_for(job))
    return job


def retry(app: AppContext, job_id: int) -> Job:
    """Queue a failed or cancelled job again; a training resumes from its checkpoint."""
    job = jobs.reset_for_retry(app.db, job_id)
    if job.parent_id is None:
        _dispatch(app, job)
    return job


def _dispatch(app: AppContext, job: Job) -> None:
    """Send by name to Celery, or make sure the embedded local runner is up."""
    if app.settings.broker_url:
        celery_app().send_task(job.kind, args=[job.id], task_id=task_id_for(job),
                               queue=app.settings.queue, ignore_result=True)
    else:
        ensure_local_runner(app.settings)

"""The Celery app, made by one factory from settings. Tasks are thin: they take a job id."""
from __future__ import annotations

from functools import lru_cache

from celery import Celery

from storage.settings import Settings
from worker.tasks import register_tasks

# Longer than the longest job (a paper-preset ResNet run on a slow GPU), so Redis
# never hands an unacknowledged, still-running task to a second worker.
VISIBILITY_TIMEOUT_SECONDS = 7 * 24 * 3600
# A broker that refuses, or accepts and then stays silent, fails a submit within
# seconds (the job is then recorded as failed) instead of hanging it. Redis answers
# every command a worker sends within its 1 s BRPOP timeout, so workers are unaffected.
BROKER_TIMEOUT_SECONDS = 2.0
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5,
                        "interval_max": 0.5}


def make_celery(settings: Settings) -> Celery:
    """A Celery app on settings.broker_url with one task per job kind.

    There is no result backend: a job's outcome is its row in storage, which every
    reader (command line, dashboard) reads instead.
    """
    if not settings.broker_url:
        raise ValueError("AGEREC_BROKER_URL is not set: jobs run in the local runner instead "
                         "(set it to a Redis URL such as redis://localhost:6379/0 to use Celery)")
    app = Celery("agerec", broker=settings.broker_url)
    app.conf.update(
        task_acks_late=True,  # a task is acknowledged only when it ends...
        task_reject_on_worker_lost=True,  # ...and requeued if its worker process dies
        task_ignore_result=True,  # outcomes live in the jobs table, never in Celery
        worker_prefetch_multiplier=1,  # never hold a second job while one runs
        worker_concurrency=1,  # one training at a time per worker (per GPU)
        task_default_queue=settings.queue,  # one queue per deployment (AGEREC_QUEUE)
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS,
                                  "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
                                  "socket_timeout": BROKER_TIMEOUT_SECONDS},
        task_publish_retry_policy=PUBLISH_RETRY_POLICY,
        task_serializer="json", accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,  # the agerec command line configures logging
    )
    register_tasks(app)
    return app


@lru_cache(maxsize=1)
def celery_app() -> Celery:
    """The process-wide Celery app for the current settings."""
    return make_celery(Settings.from_env())

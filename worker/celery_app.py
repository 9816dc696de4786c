"""The Celery app, configured from settings. Tasks are thin: they take a job id."""
from __future__ import annotations

from functools import lru_cache

from celery import Celery

from storage.settings import Settings

# Longer than the longest job (a paper-preset ResNet run on a slow GPU), so Redis
# never hands an unacknowledged, still-running task to a second worker.
VISIBILITY_TIMEOUT_SECONDS = 7 * 24 * 3600


def make_celery(settings: Settings) -> Celery:
    """A Celery app on settings.broker_url with results beside it."""
    if not settings.broker_url:
        raise ValueError("AGEREC_BROKER_URL is not set: jobs run in the local runner instead "
                         "(set it to a Redis URL such as redis://localhost:6379/0 to use Celery)")
    app = Celery("agerec", broker=settings.broker_url, backend=settings.broker_url,
                 include=["worker.tasks"])
    transport = {"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS}
    app.conf.update(
        task_acks_late=True,  # a task is acknowledged only when it ends...
        task_reject_on_worker_lost=True,  # ...and requeued if its worker process dies
        worker_prefetch_multiplier=1,  # never hold a second job while one runs
        worker_concurrency=1,  # one training at a time per worker (per GPU)
        task_default_queue=settings.queue,  # one queue per deployment (AGEREC_QUEUE)
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        task_serializer="json", result_serializer="json", accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        result_expires=7 * 24 * 3600,
    )
    return app


@lru_cache(maxsize=1)
def celery_app() -> Celery:
    """The process-wide Celery app for the current settings."""
    return make_celery(Settings.from_env())

"""The Celery app's factory: one task per job kind, acknowledged late, results ignored."""
from __future__ import annotations

from storage.settings import Settings
from worker.celery_app import make_celery
from worker.jobspecs import JOB_KINDS


def _app():
    settings = Settings.from_env({"AGEREC_HOME": "/tmp/agerec-unused",
                                  "AGEREC_BROKER_URL": "redis://127.0.0.1:6379/11"})
    return make_celery(settings)


def test_every_job_kind_is_a_task_of_its_own_name():
    """Check that the factory registers one task per job kind, named by the kind."""
    assert set(JOB_KINDS) <= set(_app().tasks)


def test_every_task_is_acknowledged_late_and_keeps_no_result():
    """Check that each job task acks late (requeued if its worker dies) and ignores its
    result, from the one app-wide setting."""
    app = _app()
    assert all(app.tasks[kind].acks_late and app.tasks[kind].ignore_result for kind in JOB_KINDS)
    assert app.conf.result_backend is None

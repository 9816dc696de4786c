"""Tests for storage.jobs."""
from __future__ import annotations

from datetime import timedelta

import pytest

from storage.errors import JobNotFound, JobStateError
from storage.jobs import (EARLIER_ATTEMPTS, LOG_TAIL_CHARS, append_log, children, count_jobs, create_job,
                          find_stale_running, finish_job, get_job, heartbeat, list_jobs,
                          mark_lost, mark_running, oldest_local_job, reap_lost, request_cancel,
                          reset_for_retry, set_outputs, update_progress)
from storage.tables import JobRow, utcnow


def _age_heartbeat(db, job_id: int, seconds: float) -> None:
    """Pretend the job's last heartbeat was `seconds` ago."""
    with db.transaction() as session:
        session.get(JobRow, job_id).heartbeat_at = utcnow() - timedelta(seconds=seconds)


def test_create_job_round_trip(db):
    """Check that a new job is queued with its params, empty progress and no attempt yet."""
    job = create_job(db, "train", {"backbones": ["vgg16", "resnet50"], "epochs": 3})
    loaded = get_job(db, job.id)
    assert loaded == job
    assert (loaded.kind, loaded.status, loaded.params) == \
        ("train", "queued", {"backbones": ["vgg16", "resnet50"], "epochs": 3})
    assert (loaded.progress, loaded.outputs, loaded.log_tail, loaded.attempts) == ({}, {}, "", 0)
    assert loaded.started_at is None and loaded.finished_at is None and not loaded.cancel_requested
    assert loaded.created_at.utcoffset() == timedelta(0)


def test_get_job_missing(db):
    """Check that a missing job raises JobNotFound naming its id."""
    with pytest.raises(JobNotFound, match="job 31 does not exist"):
        get_job(db, 31)


def test_updates_on_missing_job_raise_job_not_found(db):
    """Check that every job mutation on a missing id raises JobNotFound."""
    for call in (lambda: mark_running(db, 8, "w"), lambda: update_progress(db, 8, 1),
                 lambda: heartbeat(db, 8), lambda: append_log(db, 8, "x"),
                 lambda: finish_job(db, 8, "failed"), lambda: set_outputs(db, 8, a=1),
                 lambda: request_cancel(db, 8), lambda: reset_for_retry(db, 8),
                 lambda: mark_lost(db, 8), lambda: children(db, 8)):
        with pytest.raises(JobNotFound, match="job 8 "):
            call()


def test_create_child_of_missing_parent(db):
    """Check that a child job of a missing parent raises JobNotFound."""
    with pytest.raises(JobNotFound, match="job 3 "):
        create_job(db, "train", parent_id=3)


def test_children_and_parent_filter(db):
    """Check that children() and list_jobs(parent_id=...) select by parent."""
    parent = create_job(db, "sweep")
    kids = [create_job(db, "train", parent_id=parent.id) for _ in range(2)]
    other = create_job(db, "preprocess")
    assert [job.id for job in children(db, parent.id)] == [kid.id for kid in kids]
    assert [job.id for job in list_jobs(db, parent_id=parent.id)] == [kids[1].id, kids[0].id]
    assert [job.id for job in list_jobs(db, parent_id=None)] == [other.id, parent.id]
    assert len(list_jobs(db)) == 4


def test_list_jobs_status_limit_offset(db):
    """Check that list_jobs filters by status and pages newest first."""
    jobs = [create_job(db, "train") for _ in range(4)]
    mark_running(db, jobs[1].id, "w")
    assert [job.id for job in list_jobs(db, status="running")] == [jobs[1].id]
    assert [job.id for job in list_jobs(db, status=["queued"], limit=2, offset=1)] == \
        [jobs[2].id, jobs[0].id]
    assert count_jobs(db, status="queued") == 3 and count_jobs(db) == 4


def test_oldest_local_job_skips_children_and_jobs_sent_to_a_broker(db):
    """Check that the local runner's next job is the oldest queued top-level job without
    a broker task id, so it never runs a job that a Celery worker will run."""
    parent = create_job(db, "pipeline")
    create_job(db, "train", parent_id=parent.id)
    mark_running(db, parent.id, "w")
    create_job(db, "train", task_id="agerec-abc")
    mine = create_job(db, "train")
    create_job(db, "train")
    assert oldest_local_job(db).id == mine.id


def test_oldest_local_job_is_none_when_nothing_is_queued(db):
    """Check that without a queued local job there is no next job."""
    create_job(db, "train", task_id="agerec-abc")
    assert oldest_local_job(db) is None


def test_list_jobs_unknown_status(db):
    """Check that filtering by an unknown status is a ValueError naming the allowed ones."""
    with pytest.raises(ValueError, match="'queued', 'running'.*'done'"):
        list_jobs(db, status="done")


def test_mark_running(db):
    """Check that mark_running records status, worker, task id, start and heartbeat."""
    job = create_job(db, "train")
    running = mark_running(db, job.id, worker="w1@host", task_id="celery-1")
    assert (running.status, running.worker, running.task_id) == ("running", "w1@host", "celery-1")
    assert running.started_at is not None and running.heartbeat_at == running.started_at


def test_mark_running_refuses_finished_job(db):
    """Check that a cancelled job cannot be started."""
    job = create_job(db, "train")
    request_cancel(db, job.id)
    with pytest.raises(JobStateError, match=f"job {job.id} is cancelled"):
        mark_running(db, job.id, "w")


def test_mark_running_counts_every_start_a_redelivery_included(db):
    """Check that each start counts an attempt, also a second start of a job still
    'running' (a broker redelivering it after its worker died)."""
    job = create_job(db, "train")
    mark_running(db, job.id, "w1")
    assert mark_running(db, job.id, "w2").attempts == 2


def test_mark_running_gives_up_after_max_attempts(db):
    """Check that the start after max_attempts starts fails the job with 'gave up after
    3 attempts' instead of running it again."""
    job = create_job(db, "train")
    for _ in range(3):
        mark_running(db, job.id, "w", max_attempts=3)
    given_up = mark_running(db, job.id, "w", max_attempts=3)
    assert (given_up.status, given_up.attempts) == ("failed", 3)
    assert given_up.error.startswith("gave up after 3 attempts")


def test_a_retried_job_gets_max_attempts_afresh(db):
    """Check that a job given up and then retried by hand may start again."""
    job = create_job(db, "train")
    for _ in range(2):
        mark_running(db, job.id, "w", max_attempts=2)
    assert mark_running(db, job.id, "w", max_attempts=2).status == "failed"
    reset_for_retry(db, job.id)
    again = mark_running(db, job.id, "w", max_attempts=2)
    assert (again.status, again.attempts) == ("running", 3)


def test_update_progress_merges_and_beats(db):
    """Check that progress fields left as None keep their values and the heartbeat moves."""
    job = mark_running(db, create_job(db, "train").id, "w")
    update_progress(db, job.id, 0, 50, "crop faces")
    updated = update_progress(db, job.id, 20)
    assert updated.progress == {"current": 20, "total": 50, "stage": "crop faces"}
    assert updated.heartbeat_at > job.heartbeat_at


def test_heartbeat_moves_forward(db):
    """Check that heartbeat() sets a later heartbeat time."""
    job = mark_running(db, create_job(db, "train").id, "w")
    assert heartbeat(db, job.id).heartbeat_at > job.heartbeat_at


def test_append_log_keeps_tail(db):
    """Check that the log keeps only its last LOG_TAIL_CHARS characters."""
    job = create_job(db, "train")
    append_log(db, job.id, "a" * (LOG_TAIL_CHARS - 2))
    tail = append_log(db, job.id, "bcde\n").log_tail
    assert len(tail) == LOG_TAIL_CHARS and tail.endswith("aabcde\n") and tail.startswith("a")


def test_append_log_concatenates(db):
    """Check that short log lines are appended in order."""
    job = create_job(db, "train")
    append_log(db, job.id, "one\n")
    assert append_log(db, job.id, "two\n").log_tail == "one\ntwo\n"


def test_finish_job_records_error(db):
    """Check that finish_job stores status, error, traceback and finish time."""
    job = mark_running(db, create_job(db, "train").id, "w")
    done = finish_job(db, job.id, "failed", error="OOM", traceback="Traceback ...")
    assert (done.status, done.error, done.traceback) == ("failed", "OOM", "Traceback ...")
    assert done.finished_at is not None and done.finished


def test_finish_job_rejects_unknown_status(db):
    """Check that a non-final status is a ValueError listing the allowed ones."""
    job = create_job(db, "train")
    with pytest.raises(ValueError, match="'succeeded', 'failed', 'cancelled'.*'running'"):
        finish_job(db, job.id, "running")
    assert get_job(db, job.id).status == "queued"


def test_set_outputs_merges(db):
    """Check that set_outputs adds keys and replaces only the keys given."""
    job = create_job(db, "train")
    set_outputs(db, job.id, dataset_ids=[1], run_ids=[1])
    assert set_outputs(db, job.id, run_ids=[1, 2]).outputs == {"dataset_ids": [1],
                                                               "run_ids": [1, 2]}


def test_request_cancel_queued_job_cancels_it(db):
    """Check that cancelling a queued job finishes it as cancelled at once."""
    job = request_cancel(db, create_job(db, "train").id)
    assert (job.status, job.cancel_requested) == ("cancelled", True)
    assert job.finished_at is not None


def test_request_cancel_running_job_only_flags_it(db):
    """Check that cancelling a running job sets the flag and leaves it running."""
    job = mark_running(db, create_job(db, "train").id, "w")
    flagged = request_cancel(db, job.id)
    assert (flagged.status, flagged.cancel_requested) == ("running", True)


def test_request_cancel_finished_job_changes_nothing(db):
    """Check that cancelling a succeeded job leaves it untouched."""
    job = create_job(db, "train")
    done = finish_job(db, job.id, "succeeded")
    assert request_cancel(db, job.id) == done


def test_reset_for_retry(db):
    """Check that a retry re-queues the job, clears its traces and keeps the attempts made."""
    job = mark_running(db, create_job(db, "train", {"epochs": 2}).id, "w", "t1")
    update_progress(db, job.id, 3, 10, "fit")
    request_cancel(db, job.id)
    finish_job(db, job.id, "failed", error="boom", traceback="tb")
    retried = reset_for_retry(db, job.id)
    assert (retried.status, retried.error, retried.traceback) == ("queued", None, None)
    assert set(retried.progress) <= {EARLIER_ATTEMPTS}
    assert retried.started_at is None and retried.finished_at is None
    assert retried.heartbeat_at is None and retried.worker is None and retried.task_id is None
    assert (retried.attempts, retried.cancel_requested, retried.params) == (1, False, {"epochs": 2})


def _started_ago(db, job_id: int, seconds: float) -> None:
    """Pretend the job's last attempt started `seconds` ago and beat until now."""
    with db.transaction() as session:
        row = session.get(JobRow, job_id)
        row.started_at, row.heartbeat_at = utcnow() - timedelta(seconds=seconds), utcnow()


def test_a_retry_keeps_the_time_of_the_attempt_before(db):
    """Check that a job that ran 60 s, failed and was retried carries those 60 s, and a
    second failed attempt of 30 s adds to them."""
    job = mark_running(db, create_job(db, "train").id)
    _started_ago(db, job.id, 60)
    finish_job(db, job.id, "failed", error="boom")
    assert reset_for_retry(db, job.id).progress[EARLIER_ATTEMPTS] == pytest.approx(60, abs=2)
    mark_running(db, job.id)
    _started_ago(db, job.id, 30)
    finish_job(db, job.id, "cancelled")
    assert reset_for_retry(db, job.id).progress[EARLIER_ATTEMPTS] == pytest.approx(90, abs=3)


def test_a_redelivery_keeps_the_time_of_the_attempt_that_died(db):
    """Check that a running job started again (its worker died) carries the dead
    attempt's time up to its last heartbeat."""
    job = mark_running(db, create_job(db, "train").id)
    _started_ago(db, job.id, 45)
    again = mark_running(db, job.id)
    assert again.progress[EARLIER_ATTEMPTS] == pytest.approx(45, abs=2)


def test_reset_for_retry_refuses_running_job(db):
    """Check that a running job cannot be reset."""
    job = mark_running(db, create_job(db, "train").id, "w")
    with pytest.raises(JobStateError, match="running"):
        reset_for_retry(db, job.id)


def test_reset_for_retry_refuses_a_succeeded_job(db):
    """Check that a job that succeeded is not queued again, with an error saying which
    jobs can be retried."""
    job = mark_running(db, create_job(db, "train").id, "w")
    finish_job(db, job.id, "succeeded")
    with pytest.raises(JobStateError, match="succeeded; only a failed or cancelled job"):
        reset_for_retry(db, job.id)
    assert get_job(db, job.id).status == "succeeded"


def test_find_stale_running(db):
    """Check that only running jobs with an old heartbeat are stale."""
    stale = mark_running(db, create_job(db, "train").id, "w")
    fresh = mark_running(db, create_job(db, "train").id, "w")
    queued = create_job(db, "train")
    _age_heartbeat(db, stale.id, 600)
    _age_heartbeat(db, queued.id, 600)
    assert [job.id for job in find_stale_running(db, 300)] == [stale.id]
    assert {job.id for job in find_stale_running(db, 0)} == {stale.id, fresh.id}


def test_mark_lost_fails_running_job(db):
    """Check that a lost running job is failed with the reason."""
    job = mark_running(db, create_job(db, "train").id, "w")
    lost = mark_lost(db, job.id, reason="no heartbeat for 300 s")
    assert (lost.status, lost.error) == ("failed", "no heartbeat for 300 s")
    assert lost.finished_at is not None


def test_mark_lost_leaves_finished_job(db):
    """Check that a job which finished meanwhile is not overwritten by mark_lost."""
    job = create_job(db, "train")
    done = finish_job(db, job.id, "succeeded")
    assert mark_lost(db, job.id) == done


def test_reap_lost_fails_only_silent_running_jobs_naming_the_worker(db):
    """Check that reap_lost fails a running job silent for longer than the timeout, with
    'worker lost' and the worker's name, and leaves a fresh one running."""
    stale = mark_running(db, create_job(db, "train").id, "host:123")
    fresh = mark_running(db, create_job(db, "train").id, "host:456")
    _age_heartbeat(db, stale.id, 600)
    lost = reap_lost(db, 300)
    assert [job.id for job in lost] == [stale.id]
    assert lost[0].status == "failed"
    assert lost[0].error == "worker lost: no heartbeat from host:123 for more than 300 s"
    assert get_job(db, fresh.id).status == "running"

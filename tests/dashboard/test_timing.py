"""Job timings."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dashboard import timing

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)


def job(**kw):
    base = {"status": "running", "started_at": NOW - timedelta(seconds=100), "finished_at": None,
            "heartbeat_at": NOW - timedelta(seconds=4), "progress": {"current": 1, "total": 5}}
    return {**base, **kw}


def test_eta_follows_the_pace_so_far():
    """Check that 1 of 5 steps in 100 s leaves 400 s."""
    assert timing.eta_s(job(), NOW) == 400


def test_no_eta_without_progress():
    """Check that a job with no reported total has no ETA."""
    assert timing.eta_s(job(progress={}), NOW) is None


def test_no_eta_once_finished():
    """Check that a finished job has no ETA."""
    assert timing.eta_s(job(status="succeeded", finished_at=NOW), NOW) is None


def test_elapsed_stops_at_the_end():
    """Check that a finished job's elapsed time runs from start to finish."""
    assert timing.elapsed_s(job(finished_at=NOW - timedelta(seconds=40)), NOW) == 60


def test_heartbeat_age():
    """Check the heartbeat age in seconds."""
    assert timing.heartbeat_age_s(job(), NOW) == 4


def test_human_durations():
    """Check durations in words for seconds, minutes, hours and unknown."""
    assert [timing.human(s) for s in (12, 187, 7500, None)] == ["12 s", "3 min 07 s",
                                                                 "2 h 05 min", "—"]


def test_elapsed_counts_every_attempt():
    """Check that 100 s of this attempt plus 250 s of earlier ones read as 350 s, while
    the ETA follows this attempt's pace only."""
    retried = job(progress={"current": 1, "total": 5, "earlier_attempts_s": 250.0})
    assert timing.elapsed_s(retried, NOW) == 350 and timing.eta_s(retried, NOW) == 400


def test_a_queued_retry_shows_the_time_already_spent():
    """Check that a job queued again after a 250 s attempt has elapsed 250 s, not none."""
    queued = job(status="queued", started_at=None, progress={"earlier_attempts_s": 250.0})
    assert timing.elapsed_s(queued, NOW) == 250

"""Tests for storage.tables."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from storage.jobs import get_job
from storage.tables import JobRow


def _job_at(db, when: datetime) -> datetime:
    """Store a job created at `when` and return created_at as read back."""
    with db.transaction() as session:
        row = JobRow(kind="train", params={}, progress={}, outputs={}, log_tail="",
                     created_at=when)
        session.add(row)
        session.flush()
        job_id = row.id
    return get_job(db, job_id).created_at


def test_timestamps_read_back_in_utc(db):
    """Check that an aware non-UTC timestamp is stored and read back as the same UTC instant."""
    paris = datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    read = _job_at(db, paris)
    assert read == paris and read.tzinfo == timezone.utc and read.hour == 12


def test_naive_timestamps_are_taken_as_utc(db):
    """Check that a naive timestamp is stored as UTC."""
    read = _job_at(db, datetime(2024, 5, 1, 12, 0))
    assert read == datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)

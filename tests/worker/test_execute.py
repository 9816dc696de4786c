"""The heartbeat of a running job (the rest of execute runs in test_job_system.py)."""
from __future__ import annotations

import logging
import time

from worker.context import AppContext
from worker.execute import Heartbeat


def test_a_heartbeat_that_cannot_be_recorded_is_logged(agerec_home, monkeypatch, caplog):
    """Check that a failed heartbeat write is logged as a warning naming the job, and the
    thread keeps beating instead of dying or staying silent."""
    monkeypatch.setenv("AGEREC_HEARTBEAT_SECONDS", "0.05")
    beat = Heartbeat(AppContext(), job_id=404)  # no such job: every write fails
    with caplog.at_level(logging.WARNING, logger="worker.execute"):
        beat.start()
        deadline = time.monotonic() + 10
        while len(caplog.records) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        beat.stop_event.set()
        beat.join(5)
    assert len(caplog.records) >= 2
    assert "job 404: heartbeat not recorded" in caplog.records[0].getMessage()

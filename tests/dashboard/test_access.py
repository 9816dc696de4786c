"""Read-only mode and dispatch."""
from __future__ import annotations

from dashboard import access


def test_read_only_from_environment(monkeypatch):
    """Check that AGEREC_READ_ONLY=1 turns read-only mode on."""
    monkeypatch.setenv("AGEREC_READ_ONLY", "1")
    assert access.read_only()


def test_dispatch_is_on_by_default(monkeypatch):
    """Check that jobs are dispatched unless AGEREC_DASHBOARD_DISPATCH says otherwise."""
    monkeypatch.delenv("AGEREC_DASHBOARD_DISPATCH")
    assert access.dispatch_jobs()


def test_dispatch_can_be_switched_off(monkeypatch):
    """Check that AGEREC_DASHBOARD_DISPATCH=0 only queues jobs."""
    monkeypatch.setenv("AGEREC_DASHBOARD_DISPATCH", "0")
    assert not access.dispatch_jobs()

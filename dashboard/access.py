"""Who may do what: read-only mode, job dispatch, and which folders images may come from."""
from __future__ import annotations

from storage.settings import Settings


def settings() -> Settings:
    """The settings of this request, read fresh from the environment (cheap)."""
    return Settings.from_env()


def read_only() -> bool:
    """Whether launch, cancel and retry controls are hidden (AGEREC_READ_ONLY=1)."""
    return settings().read_only


def dispatch_jobs() -> bool:
    """Whether a submitted job is handed to a runner at once (AGEREC_DASHBOARD_DISPATCH,
    default 1); 0 only queues it, for a separately started `agerec worker` (and tests)."""
    return settings().dashboard_dispatch

"""The context a stage runs in: where to record, how to report, when to stop."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from worker.context import AppContext


def _no_progress(current: int, total: int, stage: str) -> None:
    return None


def _never() -> bool:
    return False


@dataclass
class StageContext:
    """One execution of one stage: the app, its job row (if any) and its hooks."""

    app: AppContext
    job_id: int | None = None  # the job row that records this execution, if any
    progress: Callable[[int, int, str], None] = field(default=_no_progress)
    cancel: Callable[[], bool] = field(default=_never)
    log: Callable[[str], None] = field(default=lambda text: None)

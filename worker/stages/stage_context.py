"""The context a stage runs in: where to record, how to report, when to stop, and how
to run a child job. `worker.execute` fills in the hooks; a stage never imports it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from storage.records import Job
from worker.context import AppContext


class JobCancelled(RuntimeError):
    """A stage noticed that its job was asked to stop."""


def _no_progress(current: int, total: int, stage: str) -> None:
    return None


def _never() -> bool:
    return False


def _no_log(text: str) -> None:
    return None


def _no_children(job_id: int) -> Job:
    raise ValueError(f"child job {job_id} needs the job system: this stage runs outside it "
                     f"(submit the parent with `agerec jobs submit`)")


@dataclass
class StageContext:
    """One execution of one stage: the app, its job row (if any) and its hooks."""

    app: AppContext
    job_id: int | None = None  # the job row that records this execution, if any
    progress: Callable[[int, int, str], None] = field(default=_no_progress)
    cancel: Callable[[], bool] = field(default=_never)
    log: Callable[[str], None] = field(default=_no_log)
    # Runs a queued child job to its end and returns it; set by worker.execute.
    run_child: Callable[[int], Job] = field(default=_no_children)

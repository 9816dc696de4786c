"""The context a stage runs in: where to record, how to report, when to stop, and how
to run a child job. `worker.execute` fills in the hooks; a stage never imports it.
Also how a stage's run ends: its status follows the way its block exits."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from storage import runs
from storage.records import Job, Run
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


@contextmanager
def ending_run(ctx: StageContext, run: Run) -> Iterator[None]:
    """Record how the block ends as the run's status: succeeded, else cancelled or
    failed, so no failure (an unreadable dataset, an empty split) leaves it running."""
    try:
        yield
    except BaseException as exc:
        stopped = isinstance(exc, (JobCancelled, KeyboardInterrupt)) or ctx.cancel()
        runs.set_run_status(ctx.app.db, run.id, "cancelled" if stopped else "failed")
        raise
    runs.set_run_status(ctx.app.db, run.id, "succeeded")

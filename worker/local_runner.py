"""The embedded job runner for machines without Redis: one process, one job at a
time, started on demand so the dashboard never blocks on a job.

Its lock file under AGEREC_HOME holds its pid: `agerec worker --stop` reads it. A
runner started by a dashboard (or any other process: its owner) serves while that
owner lives or while jobs are waiting, so it never outlives a closed dashboard."""
from __future__ import annotations

import argparse
import fcntl
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from backend.hardware import gpu_count
from backend.processes import is_alive
from storage import jobs
from storage.errors import JobStateError
from storage.machine import record_machine
from storage.settings import Settings
from worker.console import configure_logging
from worker.context import AppContext
from worker.execute import execute

log = logging.getLogger(__name__)
STOP_WAIT_SECONDS = 30.0  # how long `agerec worker --stop` waits before it kills
# Jobs run at this CPU niceness: a training yields the cores to the dashboard and the
# try-it service whenever they need them, and takes them all when they are idle.
JOB_NICENESS = 10


class RunnerStopped(SystemExit):
    """The runner was asked to stop (SIGTERM); the job it was running is failed."""


def lock_path(settings: Settings) -> Path:
    return settings.home / "local-runner.lock"


def runner_pid(settings: Settings) -> int | None:
    """The pid the running local runner wrote into its lock file, if any."""
    text = lock_path(settings).read_text().strip() if lock_path(settings).exists() else ""
    return int(text) if text.isdigit() and is_running(settings) else None


def is_running(settings: Settings) -> bool:
    """Whether some process holds the local runner's lock."""
    settings.ensure_home()
    with open(lock_path(settings), "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def ensure_local_runner(settings: Settings) -> bool:
    """Start a detached local runner, owned by this process, unless one is already
    running; True if started."""
    if is_running(settings):
        return False
    log_dir = settings.ensure_home() / "logs"
    log_dir.mkdir(exist_ok=True)
    with open(log_dir / "local-runner.log", "ab") as log_file:
        subprocess.Popen([sys.executable, "-m", "worker.local_runner", "--owner", str(os.getpid())],
                         stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, env=os.environ.copy())
    return True


def stop_local_runner(settings: Settings, wait: float = STOP_WAIT_SECONDS) -> int | None:
    """Stop the running local runner: SIGTERM (its job is failed and can be retried),
    then SIGKILL if it has not exited within `wait` seconds. Its pid, or None if no
    runner was running."""
    pid = runner_pid(settings)
    if pid is None:
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while is_running(settings):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)  # its job is then reaped as "worker lost"
            break
        time.sleep(0.2)
    return pid


def report_machine(settings: Settings) -> None:
    """Record how many GPUs this worker sees, for the dashboard's defaults."""
    try:
        record_machine(settings.home, gpu_count())
    except OSError as exc:  # a read-only home still runs jobs
        log.warning("could not record this machine's GPUs under %s: %s", settings.home, exc)


def serve(app: AppContext, *, idle_exit: float | None = None, owner: int | None = None,
          poll: float = 0.5) -> None:
    """Run queued jobs one at a time until idle for `idle_exit` seconds (None: never),
    or until the `owner` process is gone and no job waits."""
    handle = _lock(app.settings)
    if handle is None:
        log.warning("a local runner is already running (lock %s held)", lock_path(app.settings))
        return
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
    report_machine(app.settings)
    try:
        _serve_locked(app, handle, idle_exit, owner, poll)
    except RunnerStopped as stop:
        log.warning("%s", stop)


def _serve_locked(app: AppContext, handle, idle_exit: float | None, owner: int | None,
                  poll: float) -> None:
    """serve()'s loop, holding the lock `handle` (closed, so unlocked, however it ends)."""
    idle_since = time.monotonic()
    try:
        while True:
            for lost in jobs.reap_lost(app.db, app.settings.heartbeat_timeout):
                log.warning("job %s failed: %s", lost.id, lost.error)
            job = jobs.oldest_local_job(app.db)
            if job is not None:
                try:
                    execute(app, job.id)
                except JobStateError as exc:  # another runner took or ended it meanwhile
                    log.info("job %s not run here: %s", job.id, exc)
                idle_since = time.monotonic()
                continue
            idle = idle_exit is not None and time.monotonic() - idle_since > idle_exit
            if idle or (owner is not None and not is_alive(owner)):
                # Unlock first, then look once more: a job submitted while this runner
                # held the lock started no other runner, so it must not stay queued.
                handle.close()
                if jobs.oldest_local_job(app.db) is None:
                    return
                handle = _lock(app.settings)
                if handle is None:
                    return  # a new runner took over
                idle_since = time.monotonic()
                continue
            time.sleep(poll)
    finally:
        if handle is not None:
            handle.close()


def _lock(settings: Settings):
    """The runner's lock file, locked and holding this pid; None if another runner has it."""
    handle = open(lock_path(settings), "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _stop(signum, frame) -> None:
    raise RunnerStopped(f"the local runner was stopped by {signal.Signals(signum).name}; "
                        f"a job it was running can be retried")


def lower_priority(niceness: int = JOB_NICENESS) -> int:
    """Lower this process's CPU priority to `niceness` (never raise it); the niceness now."""
    current = os.nice(0)
    return os.nice(niceness - current) if current < niceness else current


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m worker.local_runner")
    parser.add_argument("--owner", type=int, help="serve while this process lives")
    args = parser.parse_args(argv)
    configure_logging()
    lower_priority()
    app = AppContext()
    serve(app, owner=args.owner, idle_exit=app.settings.runner_idle_exit)


if __name__ == "__main__":
    main()

"""The embedded job runner for machines without Redis: one process, one job at a
time, started on demand so the dashboard never blocks on a job."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

from storage import jobs
from storage.errors import JobStateError
from storage.settings import Settings
from worker.context import AppContext
from worker.execute import execute


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
    """Start a detached local runner unless one is already running; True if started."""
    if is_running(settings):
        return False
    log_dir = settings.ensure_home() / "logs"
    log_dir.mkdir(exist_ok=True)
    with open(log_dir / "local-runner.log", "ab") as log:
        subprocess.Popen([sys.executable, "-m", "worker.local_runner"], stdout=log,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, env=os.environ.copy())
    return True


def serve(app: AppContext, *, idle_exit: float | None = None, poll: float = 0.5) -> None:
    """Run queued jobs one at a time until idle for `idle_exit` seconds (None: forever)."""
    handle = open(lock_path(app.settings), "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("agerec: a local runner is already running", file=sys.stderr)
        return
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    idle_since = time.monotonic()
    while True:
        jobs.reap_lost(app.db, app.settings.heartbeat_timeout)
        job = jobs.oldest_local_job(app.db)
        if job is None:
            if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                return
            time.sleep(poll)
            continue
        try:
            execute(app, job.id)
        except JobStateError:
            pass
        idle_since = time.monotonic()


if __name__ == "__main__":
    serve(AppContext(), idle_exit=float(os.environ.get("AGEREC_RUNNER_IDLE_EXIT", "600")))

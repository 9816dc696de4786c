"""`agerec worker` and `agerec dashboard`: the long-running entry points."""
from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from backend.processes import die_with_parent
from worker.celery_app import celery_app
from worker.console import Console
from worker.context import AppContext
from worker.interactive.client import ServiceError, ensure_service
from worker.local_runner import (ensure_local_runner, is_running, lower_priority,
                                 report_machine, serve, stop_local_runner)

log = logging.getLogger(__name__)
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
CHILD_EXIT_SECONDS = 10.0  # how long a signalled Streamlit may take before it is killed


def register(sub) -> None:
    w = sub.add_parser("worker", help="run jobs: a Celery worker, or the local runner without a broker")
    w.add_argument("--queues", help="comma-separated queues to consume (default: AGEREC_QUEUE)")
    w.add_argument("--concurrency", type=int, default=1, help="jobs at once (one per GPU)")
    w.add_argument("--ping", action="store_true", help="check that a worker answers, then exit")
    w.add_argument("--stop", action="store_true",
                   help="stop this AGEREC_HOME's local runner (its job fails and can be retried)")
    w.set_defaults(handler=handle_worker)
    d = sub.add_parser("dashboard", help="start the Streamlit dashboard")
    d.add_argument("--port", type=int, default=8501)
    d.add_argument("--host", default="localhost", help="address to listen on")
    d.set_defaults(handler=handle_dashboard)


def handle_worker(args: argparse.Namespace, console: Console) -> int:
    app = AppContext()
    if args.stop:
        pid = stop_local_runner(app.settings)
        console.info(f"stopped the local runner (pid {pid})" if pid else
                     "no local runner is running")
        return 0
    if not app.settings.broker_url:
        if args.ping:
            return 0 if is_running(app.settings) else 1
        console.info("no AGEREC_BROKER_URL: running jobs in the local runner (Ctrl-C stops)")
        app.db  # migrate before the first job
        start_try_service(app)
        lower_priority()  # after the service started: it keeps the normal priority
        serve(app)
        return 0
    celery = celery_app()
    if args.ping:
        replies = celery.control.inspect(timeout=5).ping() or {}
        return 0 if replies else 1
    app.db
    start_try_service(app)
    lower_priority()  # every job of this worker yields the CPU to interactive work
    report_machine(app.settings)
    # A name of its own (pid@host): several workers on one machine (one per GPU) each
    # answer `--ping` and inspection under their own name.
    celery.worker_main(["worker", "--loglevel=INFO", f"--concurrency={args.concurrency}",
                        f"--queues={args.queues or app.settings.queue}", "--without-gossip",
                        "--without-mingle", f"--hostname=agerec-{os.getpid()}@%h"])
    return 0


def start_try_service(app: AppContext) -> None:
    """Beside the jobs, the try-it service that `agerec predict` and the Try it page send
    photos to; it serves while this worker lives and loads TensorFlow only when used."""
    try:
        ensure_service(app.settings)
    except (ServiceError, OSError) as exc:  # jobs run all the same; predict loads itself
        log.warning("the try-it service did not start: %s", exc)


def handle_dashboard(args: argparse.Namespace, console: Console) -> int:
    app = AppContext()
    app.db  # create and migrate the database before the first page reads it
    # A read-only dashboard launches nothing, so it needs no runner.
    if not app.settings.broker_url and not app.settings.read_only:
        ensure_local_runner(app.settings)
    return run_forwarding_signals(streamlit_command(args.host, args.port, app.settings.read_only))


def streamlit_command(host: str, port: int, read_only: bool) -> list[str]:
    """The Streamlit server's command line; a read-only one shows viewers only generic
    error messages (no tracebacks, no server paths: they go to its log)."""
    entry = Path(importlib.util.find_spec("dashboard").submodule_search_locations[0]) / "app.py"
    cmd = [sys.executable, "-m", "streamlit", "run", str(entry), "--server.port", str(port),
           "--server.address", host, "--server.headless", "true",
           "--browser.gatherUsageStats", "false",
           # No Deploy button or developer menu in front of stakeholders.
           "--client.toolbarMode", "viewer"]
    if read_only:
        cmd += ["--client.showErrorDetails", "none"]
    return cmd


def run_forwarding_signals(cmd: list[str]) -> int:
    """Run `cmd` as a child that dies with this process, pass it SIGTERM, SIGINT and
    SIGHUP, and kill it if it has not exited CHILD_EXIT_SECONDS after one; its exit code
    (128 + the signal when a signal ended it, as a shell reports)."""
    parent = os.getpid()
    # On Linux the kernel kills the child if this process is killed outright (kill -9).
    tie = (lambda: die_with_parent(parent)) if sys.platform.startswith("linux") else None
    child = subprocess.Popen(cmd, env=os.environ.copy(), preexec_fn=tie)
    signalled: list[float] = []

    def forward(signum, frame) -> None:
        signalled.append(time.monotonic())
        if child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED_SIGNALS}
    try:
        while child.poll() is None:
            if signalled and time.monotonic() - signalled[0] > CHILD_EXIT_SECONDS:
                child.kill()
            time.sleep(0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    code = child.wait()
    return 128 - code if code < 0 else code

"""The try-it service: one process per deployment that keeps the runs being tried
loaded and answers photos over a Unix socket (protocol.py), so an interactive
prediction never waits behind a training job or for TensorFlow to start.

Jobs run elsewhere (the local runner, Celery workers); this process runs no job and
writes nothing under AGEREC_HOME but its log of counts and timings. It imports
TensorFlow with the first run it loads, keeps the KEEP_RUNS most recently used runs,
answers one request at a time (the CPU is the limit), and exits when its owner (the
dashboard or worker that started it) is gone, after AGEREC_TRY_IDLE_EXIT seconds
without a request, or when asked to stop.

    python -m worker.interactive.service [--owner PID]
"""
from __future__ import annotations

import argparse
import fcntl
import logging
import os
import socket
import threading
import time
from collections import OrderedDict
from typing import Any

from backend.processes import is_alive
from storage.errors import StorageError
from worker.console import configure_logging
from worker.context import AppContext
from worker.interactive import protocol
from worker.interactive.answers import ReadyRun, answer, load_run

log = logging.getLogger(__name__)
KEEP_RUNS = 2  # runs kept loaded at once (each holds its members' models)
POLL_SECONDS = 1.0  # how often the owner and the idle time are checked
REQUEST_TIMEOUT_S = 60.0  # the longest a client may take to send its request


class Models:
    """The runs kept loaded, most recently used last; one load or answer at a time."""

    def __init__(self, app: AppContext, keep: int = KEEP_RUNS):
        self.app, self.keep = app, keep
        self.work = threading.Lock()  # held while loading or answering
        self._ready: OrderedDict[int, ReadyRun] = OrderedDict()
        self._loading: set[int] = set()
        self._errors: dict[int, str] = {}

    def get(self, run_id: int) -> tuple[ReadyRun, bool]:
        """The loaded run and whether it was loaded before this call; call holding `work`."""
        if run_id in self._ready:
            self._ready.move_to_end(run_id)
            return self._ready[run_id], True
        self._loading.add(run_id)
        try:
            ready = load_run(self.app, run_id)
        except Exception as exc:
            self._errors[run_id] = str(exc)
            raise
        finally:
            self._loading.discard(run_id)
        self._errors.pop(run_id, None)
        self._ready[run_id] = ready
        while len(self._ready) > self.keep:
            dropped, _ = self._ready.popitem(last=False)
            log.info("run %s unloaded (keeping the %d most recent)", dropped, self.keep)
        return ready, False

    def warm(self, run_id: int) -> None:
        """Load `run_id` in the background unless it is loaded or loading."""
        if run_id in self._ready or run_id in self._loading:
            return
        self._loading.add(run_id)

        def load() -> None:
            with self.work:
                try:
                    self.get(run_id)
                except Exception:  # kept in _errors and shown by status()
                    log.exception("run %s could not be loaded", run_id)
                finally:
                    self._loading.discard(run_id)

        threading.Thread(target=load, name=f"warm-{run_id}", daemon=True).start()

    def status(self) -> dict[str, Any]:
        return {"loaded": list(self._ready), "loading": sorted(self._loading),
                "errors": {str(k): v for k, v in self._errors.items()}, "pid": os.getpid()}


class Service:
    """The socket, the loaded runs and the loop that answers requests."""

    def __init__(self, app: AppContext, *, owner: int | None = None,
                 idle_exit: float | None = None):
        self.app, self.owner, self.idle_exit = app, owner, idle_exit
        self.models = Models(app)
        self.stopping = threading.Event()
        self.last_request = time.monotonic()

    def serve(self) -> None:
        """Serve until stopped, idle or orphaned; returns at once if another serves."""
        lock = _lock(self.app.settings)
        if lock is None:
            log.info("a try-it service already serves this deployment")
            return
        path = protocol.socket_path(self.app.settings)
        path.unlink(missing_ok=True)  # a socket left by a killed service; we hold the lock
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            server.bind(str(path))
            os.chmod(path, 0o600)
            server.listen(16)
            server.settimeout(POLL_SECONDS)
            log.info("try-it service %s listening on %s", os.getpid(), path)
            self._loop(server)
        finally:
            server.close()
            path.unlink(missing_ok=True)
            lock.close()
            log.info("try-it service %s stopped", os.getpid())

    def _loop(self, server: socket.socket) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                if self._should_exit():
                    return
                continue
            self.last_request = time.monotonic()
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _should_exit(self) -> bool:
        if self.owner is not None and not is_alive(self.owner):
            log.info("owner %s is gone", self.owner)
            return True
        idle = time.monotonic() - self.last_request
        busy = self.models.work.locked()
        return self.idle_exit is not None and idle > self.idle_exit and not busy

    def _handle(self, conn: socket.socket) -> None:
        header: dict[str, Any] = {}
        with conn:
            try:
                conn.settimeout(REQUEST_TIMEOUT_S)
                header, blobs = protocol.receive(conn)
                conn.settimeout(None)  # an answer may wait for a run to load
                reply, out = self.respond(header, blobs)
            except (ValueError, LookupError, StorageError, protocol.ProtocolError,
                    OSError) as exc:
                reply, out = {"error": str(exc), "type": type(exc).__name__}, []
            except Exception as exc:  # a bug: log it, and still answer
                log.exception("the try-it service failed on a %r request", header.get("op"))
                reply, out = {"error": f"internal error: {exc}", "type": type(exc).__name__}, []
            try:
                protocol.send(conn, reply, out)
            except OSError:
                log.warning("a client left before its answer was sent")
            self.last_request = time.monotonic()

    def respond(self, header: dict[str, Any], blobs: list[bytes]
                ) -> tuple[dict[str, Any], list[bytes]]:
        """The answer to one request: status, warm, try or stop."""
        op = header.get("op")
        if op == "status":
            return self.models.status(), []
        if op == "stop":
            self.stopping.set()
            return {"stopping": True}, []
        run_id = int(header["run_id"])
        if op == "warm":
            self.models.warm(run_id)
            return self.models.status(), []
        if op != "try":
            raise ValueError(f"unknown request {op!r} (status, warm, try or stop)")
        names = header.get("names") or [f"photo {i + 1}" for i in range(len(blobs))]
        started = time.perf_counter()
        was_warm = run_id in self.models.status()["loaded"]  # not still loading
        with self.models.work:
            ready, _ = self.models.get(run_id)
            reply, out = answer(self.app, ready, list(zip(names, blobs)),
                                target_prior=header.get("target_prior", "none"),
                                explain=bool(header.get("explain", True)))
        reply.update(warm=was_warm, total_seconds=round(time.perf_counter() - started, 3))
        return reply, out


def _lock(settings):
    """The service's lock file, locked and holding this pid; None if another holds it."""
    handle = open(protocol.lock_path(settings), "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m worker.interactive.service")
    parser.add_argument("--owner", type=int, help="serve while this process lives")
    args = parser.parse_args(argv)
    configure_logging()  # TensorFlow's start-up lines stay out of the log
    logging.getLogger("worker.interactive").setLevel(logging.INFO)  # counts and timings
    app = AppContext()
    Service(app, owner=args.owner, idle_exit=app.settings.try_idle_exit).serve()


if __name__ == "__main__":
    main()

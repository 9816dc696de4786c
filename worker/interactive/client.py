"""Talk to the try-it service (service.py) from the dashboard and the command line:
start it, ask it to load a run, send it photos. Imports no TensorFlow and writes
nothing: photos go over the socket as bytes and the answers come back the same way."""
from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from storage.settings import Settings
from worker.interactive import protocol

log = logging.getLogger(__name__)
START_TIMEOUT_S = 60.0  # a fresh service answers once Python and storage are imported
STATUS_TIMEOUT_S = 10.0
TRY_TIMEOUT_S = 600.0  # the first photo of a run waits for TensorFlow and the run to load


class ServiceError(RuntimeError):
    """The service is not there, or answered with an error (its message)."""


@dataclass
class TryAnswer:
    """The service's answer to photos: the header (see answers.answer) and its images."""

    header: dict[str, Any]
    blobs: list[bytes] = field(default_factory=list)

    @property
    def photos(self) -> list[dict[str, Any]]:
        return self.header["photos"]

    def image(self, index: int | None) -> bytes | None:
        """The encoded image an entry's 'photo' or 'overlay' index points to."""
        return None if index is None else self.blobs[index]


def request(settings: Settings, header: dict[str, Any], blobs: list[bytes] = (), *,
            timeout: float = STATUS_TIMEOUT_S) -> tuple[dict[str, Any], list[bytes]]:
    """One request and its answer; ServiceError when nobody serves or it failed."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(protocol.socket_path(settings)))
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise ServiceError("the try-it service is not running") from exc
        try:
            protocol.send(sock, header, list(blobs))
            reply, out = protocol.receive(sock)
        except (OSError, protocol.ProtocolError) as exc:
            raise ServiceError(f"the try-it service did not answer: {exc}") from exc
    if "error" in reply:
        raise ServiceError(reply["error"])
    return reply, out


def status(settings: Settings) -> dict[str, Any] | None:
    """{'loaded': [run ids], 'loading': [...], 'errors': {...}, 'pid': n}, or None when
    no service runs."""
    try:
        return request(settings, {"op": "status"})[0]
    except ServiceError:
        return None


def ensure_service(settings: Settings, *, owner: int | None = None,
                   wait: float = START_TIMEOUT_S) -> bool:
    """Start the service (serving while `owner`, default this process, lives) unless
    one runs, and wait until it answers; True if this call started it."""
    if status(settings) is not None:
        return False
    log_file = _log_file(settings)
    with log_file as out:
        child = subprocess.Popen([sys.executable, "-m", "worker.interactive.service", "--owner",
                                  str(owner or os.getpid())], stdout=out,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True, env=os.environ.copy())
    # Collect its exit status when it ends, so that no zombie outlives it.
    threading.Thread(target=child.wait, name="try-it-service-reaper", daemon=True).start()
    deadline = time.monotonic() + wait
    while status(settings) is None:
        if time.monotonic() > deadline:
            raise ServiceError(f"the try-it service did not start within {wait:.0f} s "
                               f"(see {getattr(log_file, 'name', 'its log')})")
        time.sleep(0.2)
    return True


def warm(settings: Settings, run_id: int) -> dict[str, Any]:
    """Ask the service to load `run_id` in the background; its status."""
    return request(settings, {"op": "warm", "run_id": int(run_id)})[0]


def try_photos(settings: Settings, run_id: int, photos: list[tuple[str, bytes]], *,
               target_prior: Any = "none", explain: bool = True,
               timeout: float = TRY_TIMEOUT_S) -> TryAnswer:
    """Every face of each (name, bytes) photo, answered by run `run_id`."""
    header = {"op": "try", "run_id": int(run_id), "names": [name for name, _ in photos],
              "target_prior": target_prior, "explain": bool(explain)}
    reply, blobs = request(settings, header, [data for _, data in photos], timeout=timeout)
    return TryAnswer(reply, blobs)


def stop_service(settings: Settings) -> bool:
    """Ask a running service to stop; False when none runs."""
    try:
        request(settings, {"op": "stop"})
    except ServiceError:
        return False
    return True


def _log_file(settings: Settings):
    """Where the service logs (counts and timings only): AGEREC_HOME/logs/try-service.log,
    or nowhere when home cannot be written (a read-only deployment)."""
    folder = settings.home / "logs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return open(folder / "try-service.log", "ab")
    except OSError as exc:
        log.info("the try-it service will not log: %s", exc)
        return open(os.devnull, "wb")

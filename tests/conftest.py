"""Fixtures shared by every test: the real data folder, a private AGEREC_HOME, and
helpers that watch the processes a test starts."""
from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from storage.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def shared_data_root() -> Path:
    """Where the real face data lives, as Settings resolves it: AGEREC_SHARED_DATA, else
    ../shared/data beside the repository."""
    return Settings.from_env().shared_data


@pytest.fixture
def shared_data() -> Path:
    """The real face data folder; skips the test with the reason when it is absent."""
    root = shared_data_root()
    if not (root / "README.md").exists():
        pytest.skip(f"real face data not found at {root} (set AGEREC_SHARED_DATA to its folder)")
    return root


@pytest.fixture
def agerec_home(tmp_path, monkeypatch) -> Path:
    """A fresh AGEREC_HOME with its own SQLite file, set in the environment."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("AGEREC_HOME", str(home))
    monkeypatch.delenv("AGEREC_DATABASE_URL", raising=False)
    monkeypatch.delenv("AGEREC_BROKER_URL", raising=False)
    return home


def closed_port() -> int:
    """A localhost port nothing listens on (a broker that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _state_and_parent(pid: int) -> tuple[str, int]:
    """A process's state letter and parent pid, from /proc (the fields after its name)."""
    state, ppid = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:2]
    return state, int(ppid)


def parent_pid(pid: int) -> int:
    """The parent of process `pid`."""
    return _state_and_parent(pid)[1]


def child_pids(pid: int, *, cmdline_has: str = "") -> list[int]:
    """The live (not zombie) child processes of `pid`, read from /proc; only those whose
    command line contains `cmdline_has`, when given."""
    found = []
    for folder in Path("/proc").glob("[0-9]*"):
        try:
            state, ppid = _state_and_parent(int(folder.name))
            cmdline = (folder / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue  # it exited while we looked
        if ppid == pid and state != "Z" and cmdline_has in cmdline:
            found.append(int(folder.name))
    return found


def pool_survivors(parent, workers: int, timeout: float = 15.0) -> list[int]:
    """Wait for `workers` process-pool workers of `parent` (a Popen), SIGKILL `parent`,
    and return those workers still running `timeout` seconds later; every process is
    killed before this returns."""
    pool: list[int] = []
    try:
        pool = wait_for(lambda: (lambda found: found if len(found) == workers else None)(
            child_pids(parent.pid, cmdline_has="spawn_main")), 60, f"{workers} pool workers")
        parent.kill()
        parent.wait(timeout=10)
        return wait_gone(pool, timeout)
    finally:
        parent.kill()
        parent.wait(timeout=10)
        kill_all(pool)


def alive(pids: list[int]) -> list[int]:
    """Those of `pids` that are still running (a zombie counts as gone)."""
    from backend.processes import is_alive

    return [pid for pid in pids if is_alive(pid)]


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    """Wait up to `timeout` seconds for `pids` to exit; those still running then."""
    deadline = time.monotonic() + timeout
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive(pids)


def kill_all(pids: list[int]) -> None:
    """SIGKILL those of `pids` still running: a test's clean-up of processes it started."""
    for pid in alive(pids):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_for(predicate, timeout: float, what: str, interval: float = 0.25):
    """Poll `predicate` until it returns a truthy value; fail naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")

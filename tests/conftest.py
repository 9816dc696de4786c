"""Fixtures shared by every test: the real data folder, a private AGEREC_HOME, and
helpers that watch the processes a test starts."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_root() -> Path:
    """Where the real face data lives: AGEREC_SHARED_DATA, else ../shared/data."""
    return Path(os.environ.get("AGEREC_SHARED_DATA") or REPO.parent / "shared" / "data").resolve()


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


def child_pids(pid: int, *, cmdline_has: str = "") -> list[int]:
    """The live (not zombie) child processes of `pid`, read from /proc; only those whose
    command line contains `cmdline_has`, when given."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue  # it exited while we looked
        if int(ppid) == pid and state != "Z" and cmdline_has in cmdline:
            found.append(int(stat.parent.name))
    return found


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

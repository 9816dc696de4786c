"""Process pools whose workers die with their parent, tried on real processes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from backend.processes import is_alive
from tests.conftest import REPO, pool_survivors, wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads child processes from Linux's /proc")

PARENT = textwrap.dedent("""
    import time
    from backend.processes import process_pool

    pool = process_pool(2)
    futures = [pool.submit(time.sleep, 120) for _ in range(2)]
    time.sleep(120)
""")


def test_pool_workers_die_when_their_parent_is_killed():
    """Check that SIGKILL of the process that made a process_pool ends its busy workers
    within seconds instead of leaving them running."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=REPO,
                              env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert pool_survivors(parent, 2) == []


def test_is_alive_counts_a_zombie_as_dead():
    """Check that a child that exited but was not yet reaped is not alive."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        wait_for(lambda: not is_alive(child.pid), 30, "the child to exit")
        assert os.path.exists(f"/proc/{child.pid}")  # still a zombie: nobody reaped it
    finally:
        child.wait(timeout=10)


def test_is_alive_sees_a_running_process():
    """Check that a running process is alive until it is killed and reaped."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert is_alive(child.pid)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert not is_alive(child.pid)

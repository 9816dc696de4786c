"""Child processes that never outlive their parent: a process pool whose workers die
with the process that started them, even when it is killed with SIGKILL (the OOM
killer, `kill -9`), and a liveness check for a process id."""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

PR_SET_PDEATHSIG = 1  # from linux/prctl.h
WATCH_INTERVAL_S = 1.0  # how often a watching thread looks for its parent (not Linux)


def process_pool(workers: int, initializer: Callable[..., object] | None = None,
                 initargs: tuple = ()) -> ProcessPoolExecutor:
    """A pool of `workers` processes that each die with this one; each runs
    `initializer(*initargs)` first.

    'spawn', not fork: forking a parent with threads (TensorFlow's, Streamlit's,
    Celery's) is unsafe. Use the pool from a thread that outlives it: the kernel's
    parent-death signal follows the thread that started each worker.
    """
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker,
                               initargs=(os.getpid(), initializer, initargs))


def _start_worker(parent: int, initializer: Callable[..., object] | None,
                  initargs: tuple) -> None:
    die_with_parent(parent)
    if initializer is not None:
        initializer(*initargs)


def die_with_parent(parent: int) -> None:
    """Make this process exit when `parent`, the process that started it, dies: the
    kernel's parent-death signal on Linux, a watching thread elsewhere."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    else:
        threading.Thread(target=_watch, args=(parent,), daemon=True, name="parent-watch").start()
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_INTERVAL_S)
    os._exit(1)


def is_alive(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie (dead, not yet reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, and someone else's
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux): the signal check is all there is
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # the state follows the (name)

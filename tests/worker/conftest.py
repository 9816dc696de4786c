"""Real parts for the job-system tests: a real Redis, a real `agerec worker`
process (Celery or the local runner), real SQLite files and real images; and tiny
recorded runs for trying a model live."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from PIL import Image
from skimage import data

from tests.conftest import wait_for
from tests.tiny_runs import record_runs
from worker.context import AppContext

# A Redis database of its own per test process (pytest-xdist's gw0, gw1, ...), flushed per
# test: 11 to 15 leave 0-10 to the user.
_XDIST = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
if _XDIST > 4:
    raise RuntimeError(f"tests/worker uses Redis databases 11-15: at most 5 test processes, "
                       f"got worker gw{_XDIST}")
REDIS_URL = f"redis://127.0.0.1:6379/{11 + _XDIST}"


@pytest.fixture
def job_env(agerec_home, monkeypatch) -> dict[str, str]:
    """Environment of a test's jobs: its own home, fast heartbeats, a short lost-timeout."""
    monkeypatch.setenv("AGEREC_HEARTBEAT_SECONDS", "0.5")
    monkeypatch.setenv("AGEREC_HEARTBEAT_TIMEOUT", "5")
    monkeypatch.setenv("AGEREC_RUNNER_IDLE_EXIT", "120")
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")
    # A queue of this test's own: a worker left over from elsewhere never takes its jobs.
    monkeypatch.setenv("AGEREC_QUEUE", f"test-{uuid.uuid4().hex[:12]}")
    return dict(os.environ)


@pytest.fixture
def app(job_env) -> AppContext:
    return AppContext()


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


class WorkerProcess:
    """An `agerec worker` in its own process group, so kill -9 takes all of it."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log = env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> "WorkerProcess":
        self.proc = subprocess.Popen([sys.executable, "-m", "worker.cli", "worker"], env=self.env,
                                     stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def kill9(self) -> None:
        """SIGKILL the whole worker (pool children included), as the OOM killer would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()


@pytest.fixture(params=["celery", "local"])
def mode(request, job_env, monkeypatch, tmp_path):
    """Run the test against a real Celery worker on Redis, then through the local runner."""
    started: list[WorkerProcess] = []

    def start_worker() -> WorkerProcess:
        w = WorkerProcess(dict(os.environ), tmp_path / f"worker{len(started)}.log").start()
        started.append(w)
        # Wait until it serves, so a submit never starts a second, detached runner.
        wait_for(lambda: _serving(request.param), 120, f"the {request.param} worker to start")
        return w

    if request.param == "celery":
        use_redis(monkeypatch)
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
    else:
        monkeypatch.delenv("AGEREC_BROKER_URL", raising=False)
    yield request.param, start_worker
    for w in started:
        w.stop()
    _stop_local_runner()
    if request.param == "celery":
        from worker.celery_app import celery_app

        celery_app.cache_clear()


def _serving(mode: str) -> bool:
    from storage.settings import Settings

    if mode == "local":
        from worker.local_runner import is_running

        return is_running(Settings.from_env())
    return consumers() > 0


def use_redis(monkeypatch) -> None:
    """Send this test's jobs to the test Redis (skip without it) through a Celery app
    made afresh for it."""
    if not redis_available():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    monkeypatch.setenv("AGEREC_BROKER_URL", REDIS_URL)
    from worker.celery_app import celery_app

    celery_app.cache_clear()


def consumers() -> int:
    """How many Celery workers consume this test's own queue."""
    from storage.settings import Settings
    from worker.celery_app import celery_app

    queue = Settings.from_env().queue
    active = celery_app().control.inspect(timeout=1.0).active_queues() or {}
    return sum(any(q["name"] == queue for q in queues) for queues in active.values())


@pytest.fixture
def celery_workers(job_env, monkeypatch, tmp_path):
    """start(n): n real `agerec worker` processes (Celery on the test Redis, this test's
    own queue, the environment as it is then), each stopped after the test."""
    use_redis(monkeypatch)
    started: list[WorkerProcess] = []

    def start(n: int = 1) -> list[WorkerProcess]:
        new = [WorkerProcess(dict(os.environ), tmp_path / f"worker{len(started) + i}.log").start()
               for i in range(n)]
        started.extend(new)
        wait_for(lambda: consumers() >= len(started), 120, f"{len(started)} Celery workers")
        return new

    yield start
    for w in started:
        w.stop()
    from worker.celery_app import celery_app

    celery_app.cache_clear()


def _stop_local_runner() -> None:
    from storage.settings import Settings
    from worker.local_runner import runner_pid

    pid = runner_pid(Settings.from_env())
    if pid:
        os.kill(pid, signal.SIGKILL)


# Trying a model live: a home with tiny recorded runs, and a portrait as photo bytes.
SOURCE_COUNTS = {"0": 10, "1": 60, "2": 20, "3": 8, "4": 2}


@pytest.fixture(scope="module")
def tiny_home(tmp_path_factory):
    """(home, ids): AGEREC_HOME set for the module, with a dataset whose source mix is
    known, two members and their averaging ensemble."""
    home = tmp_path_factory.mktemp("home")
    patch = pytest.MonkeyPatch()
    patch.setenv("AGEREC_HOME", str(home))
    patch.delenv("AGEREC_DATABASE_URL", raising=False)
    patch.delenv("AGEREC_BROKER_URL", raising=False)
    ids = record_runs(home, source_counts=SOURCE_COUNTS)
    yield home, ids
    patch.undo()


def jpeg_bytes(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def portrait() -> bytes:
    return jpeg_bytes(data.astronaut())

"""`agerec dashboard` and its processes, tried for real: a signal to it ends its
Streamlit child, and closing it ends the local runner it started."""
from __future__ import annotations

import os
import signal
import sys

import pytest

from storage.settings import Settings
from tests.conftest import child_pids, kill_all, wait_for, wait_gone
from tests.dashboard.browser import Dashboard
from tests.worker.conftest import WorkerProcess
from worker.interactive import client

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"),
                                                   reason="reads Linux's /proc")]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_dashboard_ends_its_streamlit_child(sig, agerec_home):
    """Check that SIGTERM or SIGINT sent to the `agerec dashboard` process alone ends its
    Streamlit server too, and the dashboard exits."""
    dashboard = Dashboard(agerec_home).start()
    streamlit = child_pids(dashboard.proc.pid, cmdline_has="streamlit")
    try:
        assert len(streamlit) == 1
        os.kill(dashboard.proc.pid, sig)
        dashboard.proc.wait(timeout=30)
        assert wait_gone(streamlit, 15) == []
    finally:
        kill_all(streamlit)
        dashboard.stop()


def test_the_local_runner_exits_once_its_dashboard_is_closed(agerec_home):
    """Check that Ctrl-C on the dashboard (SIGINT to its process group, as `make run`
    gets it) also ends the idle local runner the dashboard started."""
    dashboard = Dashboard(agerec_home).start()
    runner = dashboard.runner_pid()
    try:
        assert runner is not None
        os.killpg(dashboard.proc.pid, signal.SIGINT)
        dashboard.proc.wait(timeout=30)
        assert wait_gone([runner], 20) == []
    finally:
        kill_all([runner] if runner else [])
        dashboard.stop()


@pytest.fixture
def launched(monkeypatch) -> dict:
    """What `agerec dashboard` would start, recorded instead of started: the runner and
    the Streamlit command line."""
    from worker.commands import worker_dashboard

    seen: dict = {"runner": False, "cmd": None}
    monkeypatch.setattr(worker_dashboard, "ensure_local_runner",
                        lambda settings: seen.update(runner=True))
    monkeypatch.setattr(worker_dashboard, "run_forwarding_signals",
                        lambda cmd: seen.update(cmd=cmd) or 0)
    return seen


def test_a_bad_setting_stops_the_dashboard_before_it_starts(agerec_home, launched, monkeypatch,
                                                            capsys):
    """Check that `agerec dashboard` with AGEREC_READ_ONLY=enabled exits 2 naming the
    variable, and starts neither Streamlit nor a runner."""
    from worker.cli import main

    monkeypatch.setenv("AGEREC_READ_ONLY", "enabled")
    assert main(["dashboard"]) == 2
    assert "AGEREC_READ_ONLY='enabled'" in capsys.readouterr().err
    assert launched == {"runner": False, "cmd": None}


@pytest.mark.parametrize("word", ["on", "ON", "yes", "1"])
def test_a_read_only_dashboard_starts_no_runner_and_hides_error_details(agerec_home, launched,
                                                                        monkeypatch, word):
    """Check that a read-only dashboard (any true word) starts no local runner and runs
    Streamlit with client.showErrorDetails=none."""
    from worker.cli import main

    monkeypatch.setenv("AGEREC_READ_ONLY", word)
    assert main(["dashboard"]) == 0
    assert launched["runner"] is False
    cmd = launched["cmd"]
    assert cmd[cmd.index("--client.showErrorDetails") + 1] == "none"


def test_a_writable_dashboard_starts_the_local_runner(agerec_home, launched, monkeypatch):
    """Check that without read-only mode and a broker the dashboard starts its runner and
    leaves Streamlit's error details as they are."""
    from worker.cli import main

    monkeypatch.setenv("AGEREC_READ_ONLY", "off")
    assert main(["dashboard"]) == 0
    assert launched["runner"] is True and "--client.showErrorDetails" not in launched["cmd"]


@pytest.mark.timeout(300)
def test_a_worker_starts_the_try_service_which_ends_with_it(agerec_home, tmp_path):
    """Check that `agerec worker` (here the local runner) starts the try-it service that
    `agerec predict` uses, and that the service exits once the worker is stopped."""
    worker = WorkerProcess(dict(os.environ), tmp_path / "worker.log").start()
    try:
        status = wait_for(lambda: client.status(Settings.from_env()), 120, "the try-it service")
    finally:
        worker.stop()
    assert wait_gone([status["pid"]], 20) == []


def test_the_dashboard_hides_streamlits_deploy_button(agerec_home, launched):
    """Check that Streamlit runs with client.toolbarMode=viewer: no Deploy button and no
    developer menu in front of viewers."""
    from worker.cli import main

    assert main(["dashboard"]) == 0
    cmd = launched["cmd"]
    assert cmd[cmd.index("--client.toolbarMode") + 1] == "viewer"

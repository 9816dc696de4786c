"""`agerec dashboard` and its processes, tried for real: a signal to it ends its
Streamlit child, and closing it ends the local runner it started."""
from __future__ import annotations

import os
import signal
import sys

import pytest

from tests.conftest import child_pids, kill_all, wait_gone
from tests.dashboard.browser import Dashboard

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

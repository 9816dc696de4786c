"""Tests of the try-it service (worker/interactive/service.py) through its client, on
tiny recorded runs: in a thread of this process, and as the process the client starts."""
from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from storage.settings import Settings
from tests.conftest import wait_for, wait_gone
from worker.context import AppContext
from worker.interactive import client, protocol
from worker.interactive.service import Service

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def service(tiny_home):
    """A service serving the tiny home from a thread; stopped at the end."""
    svc = Service(AppContext())
    thread = threading.Thread(target=svc.serve, daemon=True)
    thread.start()
    wait_for(lambda: client.status(Settings.from_env()) is not None, 30, "the service")
    yield svc
    client.stop_service(Settings.from_env())
    thread.join(10)


def test_warm_loads_a_run_in_the_background(service, tiny_home):
    """Check that 'warm' answers at once and the run shows as loaded soon after."""
    settings, run_id = Settings.from_env(), tiny_home[1]["ensemble"]
    reply = client.warm(settings, run_id)
    assert run_id in reply["loaded"] + reply["loading"]
    wait_for(lambda: run_id in client.status(settings)["loaded"], 300, "the run to load")


def test_a_photo_sent_to_the_service_comes_back_answered(service, tiny_home, portrait):
    """Check that the client gets the face, its group and the overlay bytes, and that a
    second photo is answered by the run already loaded."""
    settings, run_id = Settings.from_env(), tiny_home[1]["ensemble"]
    first = client.try_photos(settings, run_id, [("me.jpg", portrait)])
    again = client.try_photos(settings, run_id, [("me.jpg", portrait)])
    face = first.photos[0]["faces"][0]
    assert face["label"] in first.header["labels"]
    assert client_image_is_png(first.image(face["overlay"]))
    assert again.header["warm"] is True


def client_image_is_png(data: bytes) -> bool:
    return data.startswith(b"\x89PNG")


def test_an_unknown_run_is_an_error_naming_it(service):
    """Check that trying a run that does not exist fails with the storage error's text."""
    with pytest.raises(client.ServiceError, match="9999"):
        client.try_photos(Settings.from_env(), 9999, [("me.jpg", b"x")])


def test_a_second_service_for_the_same_home_leaves_at_once(service):
    """Check that a second service finds the lock held and returns, the first still
    answering."""
    Service(AppContext()).serve()
    assert client.status(Settings.from_env())["pid"] == service.models.status()["pid"]


def test_an_idle_service_exits_and_removes_its_socket(tmp_path, monkeypatch):
    """Check that a service with nothing to do exits after its idle time, leaving no
    socket behind."""
    monkeypatch.setenv("AGEREC_HOME", str(tmp_path / "idle"))
    svc = Service(AppContext(), idle_exit=0.5)
    thread = threading.Thread(target=svc.serve, daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    assert not protocol.socket_path(Settings.from_env()).exists()


def test_the_started_service_ends_with_its_owner(tmp_path, monkeypatch):
    """Check that ensure_service starts a process that answers, and that it exits once
    the process it serves (its owner) is gone, reaped: no zombie is left behind."""
    monkeypatch.setenv("AGEREC_HOME", str(tmp_path / "owned"))
    settings = Settings.from_env()
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        assert client.ensure_service(settings, owner=owner.pid) is True
        assert client.ensure_service(settings, owner=owner.pid) is False  # one is enough
        pid = client.status(settings)["pid"]
    finally:
        owner.kill()
        owner.wait()
    assert wait_gone([pid], 20) == []
    assert client.status(settings) is None
    wait_for(lambda: not Path(f"/proc/{pid}").exists(), 10, "the exited service to be reaped")

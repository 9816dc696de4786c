"""Dashboard fixtures: a seeded AGEREC_HOME, jobs that are never dispatched, AppTest."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.seed import seed_home

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
TIMEOUT_S = 60  # the first Launch run may read a registry through a child process


@pytest.fixture(autouse=True)
def dispatched(monkeypatch) -> list[int]:
    """No job runner ever starts: submit only queues, and dispatch calls are recorded."""
    calls: list[int] = []
    monkeypatch.setenv("AGEREC_DASHBOARD_DISPATCH", "0")
    monkeypatch.setattr("worker.job_control._dispatch", lambda app, job: calls.append(job.id))
    return calls


@pytest.fixture(autouse=True)
def keep_main_module():
    """Put the real `__main__` back after each test: Streamlit's AppTest installs the page
    it ran as `__main__` and leaves it there, so a process pool started later in this
    test process (crops, dlib) would re-run that page, or a deleted temporary script, in
    every spawned child."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


class FakeTryService:
    """Stands in for the try-it service on the Try it page: records warm and try calls
    and answers each photo with `faces` (one face of group 1 by default)."""

    LABELS = ["1-19", "20-39", "40-59", "60-79", "80-99"]

    def __init__(self):
        self.loaded: list[int] = []
        self.warmed: list[int] = []
        self.tried: list[dict] = []
        self.errors: dict[str, str] = {}
        self.unavailable: str | None = None

    def ensure_service(self, settings, **_):
        if self.unavailable:
            raise client_module().ServiceError(self.unavailable)
        return False

    def warm(self, settings, run_id):
        self.warmed.append(run_id)
        return {"loaded": list(self.loaded), "loading": [] if run_id in self.loaded else [run_id],
                "errors": self.errors, "pid": 1}

    def try_photos(self, settings, run_id, photos, *, target_prior="none", explain=True, **_):
        from tests.dashboard.seed import png

        self.tried.append({"run_id": run_id, "names": [n for n, _ in photos],
                           "target_prior": target_prior})
        out, blobs = [], []
        for name, data in photos:
            if data == b"broken":
                out.append({"name": name, "error": {"reason": "not_an_image", "message": "x"}})
                continue
            blobs.append(png((200, 100, 50), 64))
            faces = [] if data == b"nobody" else [{
                "number": 1, "box": [10, 10, 50, 50], "class": 1, "label": "20-39",
                "probabilities": [0.1, 0.6, 0.2, 0.05, 0.05], "method": "gradcam",
                "overlay": len(blobs)}]
            if faces:
                blobs.append(png((250, 230, 30), 32))
            out.append({"name": name, "width": 64, "height": 64, "photo": len(blobs) - 1 -
                        len(faces), "faces": faces})
        return client_module().TryAnswer({"run_id": run_id, "labels": self.LABELS,
                                          "photos": out, "warm": run_id in self.loaded,
                                          "total_seconds": 0.8}, blobs)


def client_module():
    from worker.interactive import client

    return client


@pytest.fixture(autouse=True)
def try_service(monkeypatch) -> FakeTryService:
    """No try-it service ever starts in page tests: the client talks to this fake."""
    fake = FakeTryService()
    for name in ("ensure_service", "warm", "try_photos"):
        monkeypatch.setattr(f"worker.interactive.client.{name}", getattr(fake, name))
    return fake


@pytest.fixture
def seeded(agerec_home) -> dict:
    """A dataset, three runs with metrics and files, a gallery and some jobs."""
    return seed_home(agerec_home)


@pytest.fixture
def empty_home(agerec_home) -> Path:
    """A migrated AGEREC_HOME with nothing in it."""
    seed_home(agerec_home, n_runs=0, gallery=False, jobs=False)
    return agerec_home


@pytest.fixture
def read_only(monkeypatch) -> None:
    monkeypatch.setenv("AGEREC_READ_ONLY", "1")


def run_page(name: str, *, timeout: float = TIMEOUT_S) -> AppTest:
    """Run one page file (or app.py) once and return the AppTest."""
    path = DASHBOARD / (name if name == "app.py" else f"views/{name}")
    return AppTest.from_file(str(path), default_timeout=timeout).run()


def plotly_specs(at: AppTest) -> list[dict]:
    """The Plotly figures a page drew, as JSON dicts."""
    import json

    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def captions_of_images(at: AppTest) -> list[str]:
    return [caption for image in at.get("image") for caption in image.captions]


def descendants(node, kind: str) -> list:
    """Every element of type `kind` under a node of the AppTest tree, in page order."""
    found = []
    for child in getattr(node, "children", {}).values():
        if child.type == kind:
            found.append(child)
        found += descendants(child, kind)
    return found

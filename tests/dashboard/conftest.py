"""Dashboard fixtures: a seeded AGEREC_HOME, jobs that are never dispatched, AppTest."""
from __future__ import annotations

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

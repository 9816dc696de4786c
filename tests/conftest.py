"""Fixtures shared by every test: the real data folder, and a private AGEREC_HOME."""
from __future__ import annotations

import os
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

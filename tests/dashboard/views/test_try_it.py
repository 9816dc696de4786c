"""The Try it page (dashboard/views/try_it.py) with the try-it service faked
(tests/dashboard/conftest.py's try_service); the real service is tested under
tests/worker/interactive and end to end in tests/dashboard/test_browser_try.py."""
from __future__ import annotations

import pytest
import streamlit as st

from storage.datasets import create_dataset, get_or_create_source
from storage.runs import create_run
from tests.dashboard.conftest import run_page
from tests.dashboard.seed import open_home

PHOTOS = "dashboard.trying.photos_ui"


def texts(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "subheader")
             for e in at.get(kind)]
    return "\n".join(str(p) for p in parts)


def test_the_page_opens_on_the_newest_finished_ensemble_and_warms_it(seeded, try_service):
    """Check that the model picker starts on the seeded ensemble, the service is asked to
    load it, and the page says it is warming up and that photos are not kept."""
    at = run_page("try_it.py")
    ensemble = seeded["runs"][2]
    assert not at.exception
    assert at.selectbox(key="try-run").value == ensemble
    assert try_service.warmed == [ensemble]
    assert "Warming up" in texts(at) and "never saved" in texts(at)


def test_a_loaded_model_shows_no_warming_note(seeded, try_service):
    """Check that a model the service already holds opens without the warming note."""
    try_service.loaded.append(seeded["runs"][2])
    assert "Warming up" not in texts(run_page("try_it.py"))


def test_the_page_works_read_only(seeded, read_only, try_service):
    """Check that a read-only dashboard shows the page and warms the model all the same."""
    at = run_page("try_it.py")
    assert not at.exception and try_service.warmed == [seeded["runs"][2]]


def test_each_face_gets_its_group_bars_overlay_and_sentence(seeded, try_service, monkeypatch):
    """Check that an answered photo shows the annotated photo, the face's overlay, its
    probability bars and a sentence naming its group."""
    monkeypatch.setattr(PHOTOS, lambda: [("me.jpg", b"photo")])
    at = run_page("try_it.py")
    assert not at.exception
    assert len(at.get("image")) == 2
    assert len(at.get("plotly_chart")) == 1
    assert "The model puts this face in the 20-39 age group" in texts(at)
    assert try_service.tried[0] == {"run_id": seeded["runs"][2], "names": ["me.jpg"],
                                    "target_prior": "none"}


def test_no_face_and_an_unreadable_file_are_told_plainly(seeded, try_service, monkeypatch):
    """Check that a photo without a face gets 'No face found' and a file that is no photo
    a message saying so, both naming the file."""
    monkeypatch.setattr(PHOTOS, lambda: [("wall.jpg", b"nobody"), ("notes.jpg", b"broken")])
    at = run_page("try_it.py")
    assert "No face found in **wall.jpg**" in at.warning[0].value
    assert "**notes.jpg** is not a photo agerec can read" in at.error[0].value


def test_the_prior_toggle_appears_only_when_the_source_mix_is_known(seeded, try_service,
                                                                    monkeypatch, agerec_home):
    """Check that the seeded dataset (no source mix) has no toggle, and that a finished
    run on a dataset with its source's class counts gets one that asks for 'source'."""
    at = run_page("try_it.py")
    assert not at.get("toggle")
    db = open_home(agerec_home)
    source = get_or_create_source(db, "utkface", agerec_home / "src2")
    mixed = create_dataset(db, source.id, params={}, class_scheme={"edges": [1, 20, 40, 60, 80,
                                                                             100]},
                           summary={"source_class_counts": {"0": 5, "1": 50}}, n_images=10)
    run = create_run(db, mixed.id, "ensemble", "meta", status="succeeded",
                     members=seeded["runs"][:2])
    db.dispose()
    st.cache_data.clear()  # the page's run list is cached for 30 s
    monkeypatch.setattr(PHOTOS, lambda: [("me.jpg", b"photo")])
    at = run_page("try_it.py")
    assert at.selectbox(key="try-run").value == run.id
    at.toggle(key="try-prior").set_value(True).run()
    assert try_service.tried[-1]["target_prior"] == "source"
    assert "corrected for the population's age mix" in texts(at)


def test_an_empty_home_says_there_is_nothing_to_try(empty_home, try_service):
    """Check that without a finished run the page says so and starts no service."""
    at = run_page("try_it.py")
    assert "No finished model to try yet" in at.info[0].value and try_service.warmed == []


def test_a_service_that_cannot_start_is_an_error(seeded, try_service):
    """Check that a service that does not start is shown as an error, not a traceback."""
    try_service.unavailable = "the try-it service did not start within 60 s"
    at = run_page("try_it.py")
    assert not at.exception and "did not start" in at.error[0].value


def test_the_app_routes_to_the_try_page_in_share(seeded):
    """Check that the app's navigation has the Try it page at /try."""
    at = run_page("app.py")
    at.switch_page("views/try_it.py").run()
    assert not at.exception and at.title[0].value == "Try it live"

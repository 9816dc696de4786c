"""The entry file: routing only."""
from __future__ import annotations

import pytest

from tests.dashboard.conftest import run_page


def test_app_opens_on_results(seeded):
    """Check that the dashboard opens on the Results page without an exception."""
    at = run_page("app.py")
    assert not at.exception
    assert at.title[0].value == "Results"


def test_app_routes_to_every_page(seeded):
    """Check that every page is registered and renders without an exception."""
    at = run_page("app.py")
    for page in ("launch", "jobs", "compare", "gallery", "present"):
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, page


def test_read_only_app_has_no_launch_page(seeded, read_only):
    """Check that AGEREC_READ_ONLY=1 removes the Launch page from the navigation."""
    at = run_page("app.py")
    with pytest.raises(ValueError, match="launch"):
        at.switch_page("views/launch.py")


def test_a_bad_setting_shows_one_error_naming_the_variable(seeded, monkeypatch):
    """Check that with AGEREC_READ_ONLY=enabled the app draws no page, only an error
    naming the variable (and never falls back to a writable dashboard)."""
    monkeypatch.setenv("AGEREC_READ_ONLY", "enabled")
    at = run_page("app.py")
    assert not at.exception
    assert "AGEREC_READ_ONLY='enabled'" in at.error[0].value
    assert not at.title


def test_read_only_app_hides_error_details(seeded, read_only):
    """Check that a read-only app sets Streamlit's client.showErrorDetails to 'none', so
    viewers never see a traceback or a server path."""
    import streamlit as st

    before = st.get_option("client.showErrorDetails")
    try:
        run_page("app.py")
        assert st.get_option("client.showErrorDetails") == "none"
    finally:
        st.set_option("client.showErrorDetails", before)

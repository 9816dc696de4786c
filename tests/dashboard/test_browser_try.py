"""The Try it page end to end in a real browser: a read-only `agerec dashboard`, the
try-it service it starts, and a real FG-NET portrait uploaded through the page.

The model is a tiny untrained ensemble (tests/tiny_runs.py): the test is about the
path a photo takes and what is left of it, not about the answer's quality.
"""
from __future__ import annotations

import hashlib
import re

import pytest

from tests.dashboard import browser as b
from tests.tiny_runs import record_runs

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.shared_data]
pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

PORTRAIT = "fgnet/images/002A23.JPG"  # an adult, frontal, about 400x500 px
ANSWER_TIMEOUT_MS = 420_000  # the first photo waits for TensorFlow and the models to load
# Files a read-only dashboard may create under AGEREC_HOME: the database, its journal,
# and logs of counts and timings.
ALLOWED_NEW = re.compile(r"^(agerec\.db(-wal|-shm|-journal)?|logs/[\w.-]+\.log)$")
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM", b"II*\x00", b"MM\x00*",
                    b"RIFF", b"\x93NUMPY")


def files_under(home) -> dict[str, str]:
    """{relative path: sha256} of every file under `home`."""
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(home.rglob("*")) if p.is_file()}


def looks_like_an_image(path) -> bool:
    """An image (or a numpy array of crops) by its first bytes or by its name."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    return head.startswith(IMAGE_SIGNATURES) or path.suffix.lower() in (
        ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".npy")


@pytest.fixture
def chromium():
    reason = b.chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = b.launch_browser(playwright)
        yield browser
        browser.close()


@pytest.mark.timeout(900)
def test_a_portrait_uploaded_read_only_gets_its_answer_and_leaves_nothing_behind(
        shared_data, chromium, tmp_path):
    """Check that an FG-NET portrait uploaded on /try of a read-only dashboard comes back
    with a face box, an age group, the probabilities and an overlay, and that afterwards
    nothing derived from it is under AGEREC_HOME: no file with the photo's hash and no
    new image file (only the database and logs may be new)."""
    photo = shared_data / PORTRAIT
    photo_hash = hashlib.sha256(photo.read_bytes()).hexdigest()
    home = tmp_path / "home"
    ids = record_runs(home, detector="cnn")
    before = files_under(home)
    shots = b.Screenshots(tmp_path / "screenshots", label="try-it")
    server = b.Dashboard(home, read_only=True).start()
    try:
        page = chromium.new_page(viewport=b.VIEWPORT)
        page.set_default_timeout(b.START_TIMEOUT_S * 1000)
        page.goto(f"{server.url}/try")
        b.wait_rendered(page, "try", timeout_ms=180_000)
        assert page.get_by_role("combobox", name="Model").input_value().startswith(
            f"#{ids['ensemble']} ")
        assert page.get_by_text("never saved").count() == 1
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(photo))
        heading = page.get_by_role("heading", name=re.compile(r"Face 1: \d+-\d+"))
        heading.wait_for(timeout=ANSWER_TIMEOUT_MS)
        b.wait_idle(page, timeout_ms=120_000)
        b.wait_rendered(page, "try", expect=[('[data-testid="stPlotlyChart"]', "per age group",
                                              1)])
        shots.take(page, "try-answered")
        boxed = page.get_by_test_id("stImage").filter(has_text="1 face found")
        overlay = page.get_by_test_id("stImage").filter(has_text="what the model looked at")
        bars = page.get_by_test_id("stPlotlyChart").locator(".trace.bars .point")
        assert (boxed.count(), overlay.count(), bars.count()) == (1, 1, 5)
        assert b.page_exceptions(page) == []
        page.close()
    finally:
        server.stop()
    after = files_under(home)
    assert photo_hash not in after.values()
    new = {path for path in after if path not in before}
    assert [p for p in new if not ALLOWED_NEW.match(p)] == []
    assert [p for p in new | {p for p in after if after[p] != before.get(p)}
            if looks_like_an_image(home / p)] == []

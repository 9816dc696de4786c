"""End to end in a real browser: `agerec dashboard` on a free localhost port, driven by
Debian's headless chromium through Playwright (tests/dashboard/browser.py).

Each test has its own AGEREC_HOME and no broker, so the dashboard starts the embedded
local runner; both are ended at teardown. Screenshots go to `<tmp_path>/screenshots`
and, when AGEREC_SCREENSHOTS is set, to that folder too.
"""
from __future__ import annotations

import re

import pytest

from storage.jobs import get_job
from tests.dashboard import browser as b
from tests.dashboard.seed import open_home

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PlaywrightTimeout = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed").TimeoutError

PIPELINE_TIMEOUT_S = 1200  # a smoke pipeline takes minutes on 2 shared cores
LAUNCH_TIMEOUT_MS = 180_000  # the first Launch run reads the backend's registries
PAGE_TIMEOUT_MS = 90_000


@pytest.fixture
def chromium():
    """Debian's chromium, headless, through Playwright; skips when it is missing."""
    reason = b.chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = b.launch_browser(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    page = chromium.new_page(viewport=b.VIEWPORT)
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    yield page
    page.close()


@pytest.fixture
def dashboard(chromium, tmp_path):
    """`agerec dashboard` on a fresh AGEREC_HOME; it and its local runner end at teardown."""
    server = b.Dashboard(tmp_path / "home").start()
    yield server
    server.stop()
    assert server.runner_pid() is None, "the local runner outlived the test"


@pytest.fixture
def shots(tmp_path, request) -> b.Screenshots:
    return b.Screenshots(tmp_path / "screenshots", label=request.node.name)


def launch_smoke_pipeline(page, dashboard, utkface: str) -> int:
    """Fill the Full pipeline form (UTKFace, preset smoke), submit; the new job's id."""
    page.goto(f"{dashboard.url}/launch")
    b.wait_rendered(page, "launch", timeout_ms=LAUNCH_TIMEOUT_MS)
    page.get_by_role("tab", name="Full pipeline").click()
    form = page.get_by_test_id("stForm").filter(
        has=page.get_by_role("button", name="Submit pipeline job"))
    form.get_by_role("textbox", name="path *", exact=True).fill(utkface)
    # By its accessible name: other selectboxes now show "preset" in their values.
    b.choose(page, form.get_by_role("combobox", name="preset", exact=True), "smoke")
    assert form.get_by_role("combobox", name="preset").input_value() == "smoke"
    form.get_by_role("button", name="Submit pipeline job").click()
    notice = page.get_by_text(re.compile(r"Job #\d+ \(pipeline\) is (queued|running)"))
    notice.wait_for()
    b.wait_idle(page)
    return int(re.search(r"#(\d+)", notice.inner_text()).group(1))


def wait_for_job_end(page, dashboard, job_id: int, shots: b.Screenshots) -> str:
    """Watch the Jobs page until the job succeeds, fails or is cancelled; its status."""
    page.goto(f"{dashboard.url}/jobs")
    b.wait_rendered(page, "jobs")
    page.get_by_text(f"#{job_id} pipeline").wait_for()
    try:  # a mid-run view, for the record; a fast run may skip past it
        page.get_by_text(re.compile(r"#\d+ train · running")).wait_for(timeout=300_000)
        b.wait_idle(page)
        shots.take(page, "jobs-training")
    except PlaywrightTimeout:
        pass
    done = page.get_by_text(re.compile(rf"#{job_id} pipeline · (succeeded|failed|cancelled)"))
    done.wait_for(timeout=PIPELINE_TIMEOUT_S * 1000)
    b.wait_idle(page)
    return re.search(r"pipeline · (\w+)", done.inner_text())[1]  # '· <stage>' may follow


def confusion_cells(chart) -> list[int]:
    """The numbers Plotly wrote into the confusion heatmap's cells, row by row."""
    return [int(t) for t in chart.locator(".heatmaplayer text").all_text_contents()]


@pytest.mark.shared_data
@pytest.mark.timeout(1500)
def test_smoke_pipeline_from_the_launch_page_ends_with_its_confusion_matrix(
        shared_data, dashboard, page, shots):
    """Check that a smoke pipeline submitted in the browser finishes on the Jobs page and
    its results page draws the confusion matrix of the final run."""
    job_id = launch_smoke_pipeline(page, dashboard, str(shared_data / "utkface"))
    shots.take(page, "launch-submitted")
    status = wait_for_job_end(page, dashboard, job_id, shots)
    shots.take(page, "jobs-finished")
    assert status == "succeeded", (page.get_by_test_id("stAlert").all_inner_texts(),
                                   dashboard.log_tail())

    db = open_home(dashboard.home)  # which run the pipeline ended with
    final_run = get_job(db, job_id).outputs["final_run_id"]
    db.dispose()
    page.goto(f"{dashboard.url}/results?run={final_run}")
    b.wait_rendered(page, "results")
    chart = page.get_by_test_id("stPlotlyChart").filter(
        has=page.locator(".gtitle", has_text="Confusion matrix"))
    shots.take(page, "results")
    shots.take(chart, "confusion-matrix")
    assert page.get_by_role("combobox", name="Run").input_value().startswith(f"#{final_run} ")
    assert chart.locator(".heatmaplayer image").count() == 1
    cells = confusion_cells(chart)
    n_test = int(re.search(r"(\d+) test images", page.get_by_text("test images").inner_text())[1])
    assert (len(cells), sum(cells)) == (25, n_test)
    assert b.page_exceptions(page) == []


@pytest.mark.timeout(600)
def test_every_page_opens_in_the_browser_on_an_empty_home(dashboard, page, shots):
    """Check that all six pages open in the browser on an empty AGEREC_HOME with their
    title and without a Streamlit exception."""
    notice = {"launch": None, "jobs": "No jobs yet", "results": "No runs yet",
              "compare": "No runs yet", "gallery": "No explanation yet",
              "present": "Nothing to present yet"}
    failures = {}
    for name, text in notice.items():
        page.goto(f"{dashboard.url}/{name}")
        b.wait_rendered(page, name, expect=[('[data-testid="stAlert"]', text, 1)] if text else None,
                        timeout_ms=LAUNCH_TIMEOUT_MS if name == "launch" else PAGE_TIMEOUT_MS)
        shots.take(page, f"empty-{name}")
        if b.page_exceptions(page):
            failures[name] = b.page_exceptions(page)
    assert failures == {}


@pytest.mark.timeout(300)
def test_a_deep_link_gets_the_app_navigation(dashboard, page):
    """Check that the first page a fresh server serves, opened by its address, shows the
    navigation of dashboard/app.py (sections Work, Results, Share), not one link per file."""
    page.goto(f"{dashboard.url}/jobs")
    b.wait_rendered(page, "jobs", expect=[])
    nav = page.get_by_test_id("stSidebarNav").inner_text()
    assert ("Share" in nav, page.title()) == (True, "agerec")


@pytest.mark.timeout(600)
def test_clicking_a_confusion_cell_shows_that_cell_s_faces(tmp_path, chromium, page, shots):
    """Check that a click on the Results page's confusion cell 'true 20-39, predicted
    40-59' shows exactly that cell's faces, each captioned with both groups."""
    from storage.runs import get_metrics
    from tests.dashboard.seed import seed_home

    home = tmp_path / "home"
    run_id = seed_home(home, gallery=False, jobs=False)["runs"][-1]
    count = get_metrics(open_home(home), run_id, "test")["confusion_matrix"][1][2]
    with b.Dashboard(home) as server:
        page.goto(f"{server.url}/?run={run_id}")  # Results is the default page
        b.wait_rendered(page, "results")
        chart = page.get_by_test_id("stPlotlyChart").filter(has_text="Confusion matrix")
        chart.scroll_into_view_if_needed()
        grid = chart.locator(".nsewdrag").first.bounding_box()
        # Five rows (true, top to bottom) by five columns (predicted): row 1, column 2.
        page.mouse.click(grid["x"] + grid["width"] * 2.5 / 5, grid["y"] + grid["height"] * 1.5 / 5)
        heading = page.get_by_text("Faces of 20-39 taken for 40-59")
        heading.wait_for()
        b.wait_idle(page)
        heading.scroll_into_view_if_needed()
        shots.take(page, "results-clicked-cell")
        captions = page.get_by_test_id("stImageCaption").all_inner_texts()
        assert b.page_exceptions(page) == []
    faces = [c for c in captions if c.startswith("true ")]
    assert len(faces) == min(count, 24) > 0
    assert all(c.startswith("true 20-39 → predicted 40-59") for c in faces)


@pytest.fixture
def seeded_dashboard(chromium, tmp_path):
    """`agerec dashboard` on a seeded home (three runs, two galleries, jobs) with a smoke
    pipeline's runs newer than all of them; ended at teardown."""
    from tests.dashboard.seed import seed_home, seed_smoke_ensemble

    home = tmp_path / "home"
    ids = seed_home(home)
    ids["smoke"] = seed_smoke_ensemble(home)
    server = b.Dashboard(home).start()
    yield server, ids
    server.stop()


def picked(page, name: str) -> str:
    """The text a run picker (a combobox by its label) shows."""
    return page.get_by_role("combobox", name=name).input_value()


@pytest.mark.timeout(900)
def test_every_page_opens_at_its_own_address_on_the_run_it_names(seeded_dashboard, page, shots):
    """Check that each page opened by its address with ?run= (Compare: ?runs=) shows that
    run, that the bare address and every page without ?run= open on the real ensemble and
    not the newer smoke one, that picking another run rewrites the address, and that a
    missing run says so."""
    dash, ids = seeded_dashboard
    member, ensemble = ids["runs"][0], ids["runs"][2]
    for name, box in (("results", "Run"), ("present", "Model")):
        page.goto(f"{dash.url}/{name}?run={member}")
        b.wait_rendered(page, name)
        shots.take(page, f"{name}-run-{member}")
        assert picked(page, box).startswith(f"#{member} "), name
        page.goto(f"{dash.url}/{name}")
        b.wait_rendered(page, name)
        assert picked(page, box).startswith(f"#{ensemble} "), name
    page.goto(f"{dash.url}/compare?runs={member}")
    b.wait_rendered(page, "compare")
    chips = page.get_by_test_id("stMultiSelect").inner_text()
    assert f"#{member} " in chips and f"#{ensemble} " not in chips
    page.goto(f"{dash.url}/gallery?run={member}")
    b.wait_rendered(page, "gallery")
    assert f"vgg19#{member}" in picked(page, "Gallery")
    page.goto(f"{dash.url}/gallery")
    b.wait_rendered(page, "gallery")
    assert picked(page, "Gallery").startswith(f"Occlusion of ensemble#{ensemble}")
    for name in ("jobs", "launch"):
        page.goto(f"{dash.url}/{name}?run={member}")
        b.wait_rendered(page, name, timeout_ms=LAUNCH_TIMEOUT_MS)
    page.goto(dash.url)
    b.wait_rendered(page, "results")
    assert picked(page, "Run").startswith(f"#{ensemble} ") and f"run={ensemble}" in page.url
    b.choose(page, page.get_by_role("combobox", name="Run"), re.compile(rf"^#{member} "))
    b.wait_idle(page)
    page.wait_for_url(re.compile(rf"run={member}\b"))
    page.goto(f"{dash.url}/results?run=99")
    page.get_by_text("There is no run #99").wait_for()
    assert b.page_exceptions(page) == []


@pytest.mark.timeout(600)
def test_the_exported_report_of_our_ensemble_is_honest(seeded_dashboard, page, tmp_path):
    """Check that the report Present exports for the seeded ensemble (not the paper's
    recipe) claims no reproduction and holds our own table, the date and every n."""
    from storage.runs import get_metrics

    dash, ids = seeded_dashboard
    page.goto(f"{dash.url}/present")
    b.wait_rendered(page, "present")
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Export the report")).click()
    html = open(download.value.path(), encoding="utf-8").read()
    db = open_home(dash.home)
    n = get_metrics(db, ids["runs"][2], "test")["n"]
    db.dispose()
    assert "reproduces" not in html and "Our results" in html and "different data" in html
    assert f"n = {n:.0f}" in html and f"{n:.0f} test faces" in html


@pytest.mark.timeout(600)
def test_headline_and_matrices_stay_readable_at_800_px(seeded_dashboard, page, shots):
    """Check that at an 800 px wide window no headline number or its difference is cut
    off and every confusion matrix is at least 300 px wide, on Results and on Compare."""
    dash, ids = seeded_dashboard
    page.set_viewport_size({"width": 800, "height": 1000})
    cut = """() => [...document.querySelectorAll(
                     '[data-testid="stMetricValue"], [data-testid="stMetricDelta"] div')]
                   .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"""
    widths = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                      .filter(c => c.querySelector('.heatmaplayer'))
                      .map(c => c.getBoundingClientRect().width)"""
    for name in ("results", "compare"):
        page.goto(f"{dash.url}/{name}")
        b.wait_rendered(page, name)
        shots.take(page, f"{name}-800px")
        assert page.evaluate(cut) == [], name
        matrices = page.evaluate(widths)
        assert matrices and min(matrices) >= 300, (name, matrices)

"""The Jobs page: live list, progress, errors, nesting, cancel and retry."""
from __future__ import annotations

from storage import jobs as stored
from tests.dashboard.conftest import descendants, run_page
from tests.dashboard.seed import open_home


def home_db(seeded):
    return open_home(seeded["gallery"].parents[1])


def test_jobs_page_renders(seeded):
    """Check that the page lists the seeded jobs without an exception."""
    at = run_page("jobs.py")
    assert not at.exception
    headers = " ".join(m.value for m in at.markdown)
    assert all(f"#{i} " in headers for i in seeded["jobs"].values())


def test_running_job_shows_progress_stage_and_eta(seeded):
    """Check that the running training shows its progress bar, stage and an ETA."""
    at = run_page("jobs.py")
    bar = at.get("progress")[0]
    assert bar.proto.value == 30 and "epoch 3/10" in bar.proto.text
    assert any(c.value.startswith("ETA **") and "—" not in c.value for c in at.caption)


def test_failed_job_shows_error_and_traceback(seeded):
    """Check that a failed job shows its error and its traceback."""
    at = run_page("jobs.py")
    assert at.error[0].value == "ValueError: out of memory"
    assert any("Traceback (most recent call last)" in c.value for c in at.code)


def test_children_nest_under_their_pipeline(seeded):
    """Check that a pipeline's children are drawn inside the pipeline's box."""
    at = run_page("jobs.py")
    ids = seeded["jobs"]
    boxes = [b for b in descendants(at.main, "flex_container")
             if any(f"#{ids['pipeline']} pipeline" in m.value for m in descendants(b, "markdown"))]
    inside = " ".join(m.value for m in descendants(boxes[-1], "markdown"))
    assert f"#{ids['preprocess']} preprocess" in inside and f"#{ids['train']} train" in inside


def test_cancel_button_cancels_a_queued_job(seeded):
    """Check that Cancel on a queued job marks it cancelled."""
    at = run_page("jobs.py")
    at.button(key=f"cancel-{seeded['jobs']['queued']}").click().run()
    assert stored.get_job(home_db(seeded), seeded["jobs"]["queued"]).status == "cancelled"


def test_retry_button_requeues_a_failed_job(seeded, dispatched):
    """Check that Retry on a failed job queues it again and hands it to the runner."""
    at = run_page("jobs.py")
    at.button(key=f"retry-{seeded['jobs']['failed']}").click().run()
    job = stored.get_job(home_db(seeded), seeded["jobs"]["failed"])
    assert (job.status, job.attempts, dispatched) == ("queued", 1, [job.id])


def test_read_only_jobs_page_has_no_buttons(seeded, read_only):
    """Check that read-only mode hides every cancel and retry button."""
    assert not run_page("jobs.py").button


def test_empty_jobs_page_says_so(empty_home):
    """Check that without jobs the page says how to launch one."""
    assert "No jobs yet" in run_page("jobs.py").info[0].value

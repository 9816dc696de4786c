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
    assert any("ETA **" in c.value and "ETA **—" not in c.value for c in at.caption)


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
             if any(f"#{ids['pipeline']} pipeline" in m.value for m in descendants(b, "markdown"))
             and descendants(b, "expander")]
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


def test_a_pipelines_finished_steps_are_folded_and_the_running_one_shown(seeded):
    """Check that the pipeline's succeeded step sits in a folded 'steps' expander, while
    the running step is drawn above it."""
    at = run_page("jobs.py")
    ids = seeded["jobs"]
    folded = next(e for e in at.expander if "steps" in e.label)
    inside = " ".join(m.value for m in descendants(folded, "markdown"))
    assert folded.label == "2 steps, 1 succeeded" and f"#{ids['preprocess']} preprocess" in inside
    assert f"#{ids['train']} train" not in inside


def test_each_job_shows_its_settings(seeded):
    """Check that a job's line names its parameters (the failed training's backbone)."""
    captions = [c.value for c in run_page("jobs.py").caption]
    assert "backbone resnet152v2" in captions


def test_a_cancelled_job_is_neutral_not_an_error(seeded):
    """Check that a job cancelled on request shows a grey note, no red error box."""
    db = home_db(seeded)
    job = stored.create_job(db, "train", {"backbone": "vgg19"})
    stored.request_cancel(db, job.id)
    stored.finish_job(db, job.id, "cancelled", error="cancelled by the user")
    at = run_page("jobs.py")
    assert not any("cancelled by the user" in e.value for e in at.error)
    assert any(c.value.startswith(":material/block: Cancelled") for c in at.caption)


def test_elapsed_time_counts_every_attempt(seeded):
    """Check that a retried job that spent 10 minutes in its first attempt shows at least
    that as its elapsed time."""
    db = home_db(seeded)
    job = stored.reset_for_retry(db, seeded["jobs"]["failed"])
    stored.update_progress(db, job.id, stage="x")  # keeps the earlier attempts' time
    from sqlalchemy import update

    from storage.tables import JobRow

    with db.transaction() as session:
        session.execute(update(JobRow).where(JobRow.id == job.id).values(
            progress={"earlier_attempts_s": 600.0}))
    captions = [c.value for c in run_page("jobs.py").caption]
    assert any(c.startswith("elapsed **10 min 00 s**") for c in captions)


def test_finished_jobs_link_to_what_they_made(seeded):
    """Check that a training job that made run 1 links to its results."""
    db = home_db(seeded)
    job = stored.create_job(db, "train", {"backbone": "vgg19"})
    stored.mark_running(db, job.id)
    stored.set_outputs(db, job.id, run_ids=[1], run_id=1, dataset_ids=[1])
    stored.finish_job(db, job.id, "succeeded")
    texts = " ".join(m.value for m in run_page("jobs.py").markdown)
    assert "[run #1](/results?run=1)" in texts

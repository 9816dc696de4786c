"""The Launch page: forms from JOB_PARAMS, errors beside their field, jobs by name."""
from __future__ import annotations

from storage import jobs as stored
from tests.conftest import closed_port
from tests.dashboard.conftest import descendants, run_page
from tests.dashboard.seed import open_home
from worker.job_control import _dispatch
from worker.jobspecs import JOB_PARAMS

# The real sender, kept before the autouse `dispatched` fixture replaces it in each test.
REAL_DISPATCH = _dispatch
FORMS = ("pipeline", "preprocess", "train", "ensemble", "evaluate", "gradcam")


def submit(at, kind):
    return next(b for b in at.button if b.proto.id.endswith(f"form-{kind}-Submit {kind} job"))


def test_launch_page_renders_every_form(seeded):
    """Check that the page shows one submit button per launchable job kind."""
    at = run_page("launch.py")
    assert not at.exception
    assert [b.label for b in at.button] == [f"Submit {kind} job" for kind in FORMS]


def test_launch_forms_have_a_widget_per_parameter(seeded):
    """Check that every parameter of every form's job kind has its widget."""
    at = run_page("launch.py")
    keys = {w.key for kind in ("selectbox", "multiselect", "number_input", "text_input",
                               "checkbox") for w in getattr(at, kind)}
    expected = {f"{kind}-{p.name}" for kind in FORMS for p in JOB_PARAMS[kind]}
    assert expected <= keys


def test_backbone_choices_come_from_the_registry(seeded):
    """Check that the backbone list is the registry's."""
    from backend.models.registry import backbone_names

    box = run_page("launch.py").selectbox(key="train-backbone")
    assert sorted(o.split(" — ")[0] for o in box.options) == sorted(backbone_names())


def test_without_a_gpu_the_cpu_preset_is_preselected(seeded):
    """Check that when the workers reported no GPU, the pipeline and train forms open on
    the cpu preset (and train on its first member), and the page says why."""
    from storage.machine import record_machine

    record_machine(seeded["gallery"].parents[1], 0, host="box")
    at = run_page("launch.py")
    assert at.selectbox(key="pipeline-preset").value == "cpu"
    assert (at.selectbox(key="train-preset").value,
            at.selectbox(key="train-backbone").value) == ("cpu", "efficientnet_lite0")
    assert any("No worker has reported a GPU" in c.value for c in at.caption)


def test_with_a_gpu_the_papers_settings_are_preselected(seeded):
    """Check that once a worker reported a GPU, the forms open on the paper's preset and
    its vgg19."""
    from storage.machine import record_machine

    record_machine(seeded["gallery"].parents[1], 1, host="gpu-box")
    at = run_page("launch.py")
    assert at.selectbox(key="pipeline-preset").value == "paper"
    assert at.selectbox(key="train-backbone").value == "vgg19"


def test_labels_are_words_with_the_parameter_name_as_help(seeded):
    """Check that the train form's dataset field reads 'dataset *' and its help names the
    parameter and its flag."""
    box = run_page("launch.py").selectbox(key="train-dataset_id")
    assert box.label == "dataset *"
    assert box.help.startswith("`dataset_id` (`--dataset-id`)")


def test_a_path_that_does_not_exist_is_refused_under_its_field(seeded, tmp_path):
    """Check that a preprocess path that does not exist is named under the path field,
    and no job is queued."""
    at = run_page("launch.py")
    at.text_input(key="preprocess-path").set_value(str(tmp_path / "nowhere"))
    submit(at, "preprocess").click().run()
    form = next(f for f in at.get("form") if f.proto.form.form_id == "form-preprocess")
    children = list(form.children.values())
    field = next(i for i, c in enumerate(children) if getattr(c, "key", None) == "preprocess-path")
    assert children[field + 1].value == f"no such folder or file: {tmp_path / 'nowhere'}"
    assert stored.count_jobs(open_home(seeded["gallery"].parents[1])) == len(seeded["jobs"])


def test_the_queued_notice_sits_beside_the_button(seeded):
    """Check that after a submit the notice is drawn inside the form, in the column next
    to its submit button."""
    at = run_page("launch.py")
    at.multiselect(key="gradcam-runs").set_value(seeded["runs"][:1])
    submit(at, "gradcam").click().run()
    form = next(f for f in at.get("form") if f.proto.form.form_id == "form-gradcam")
    row = next(c for c in descendants(form, "flex_container")
               if descendants(c, "button") and descendants(c, "success"))
    assert "is queued" in descendants(row, "success")[0].value


def test_submitting_a_form_creates_a_job_row(seeded, dispatched):
    """Check that submitting the GradCAM form queues a job with the chosen runs."""
    at = run_page("launch.py")
    at.multiselect(key="gradcam-runs").set_value(seeded["runs"][:2])
    submit(at, "gradcam").click().run()
    db = open_home(seeded["gallery"].parents[1])
    job = stored.list_jobs(db, limit=1)[0]
    assert (job.kind, job.params["runs"], job.status) == ("gradcam", seeded["runs"][:2], "queued")


def test_an_unset_yes_no_parameter_leaves_the_choice_to_the_preset(seeded, dispatched):
    """Check that a pipeline submitted without touching allow_second_face sends no value
    (the preset decides), while choosing 'true' sends True."""
    db = open_home(seeded["gallery"].parents[1])
    params = []
    for choice in (None, "true"):
        at = run_page("launch.py")
        at.text_input(key="pipeline-path").set_value(str(seeded["gallery"]))
        at.selectbox(key="pipeline-source").set_value("imdb-wiki")
        if choice:
            at.selectbox(key="pipeline-allow_second_face").set_value(choice)
        submit(at, "pipeline").click().run()
        params.append(stored.list_jobs(db, limit=1)[0].params)
    assert "allow_second_face" not in params[0] and params[1]["allow_second_face"] is True


def test_a_submit_the_broker_cannot_take_fails_the_job_and_says_so(seeded, monkeypatch):
    """Check that when the broker is down, the form shows the error naming the broker
    (password masked) and the job is recorded as failed, not left queued."""
    from worker.celery_app import celery_app

    port = closed_port()
    monkeypatch.setenv("AGEREC_BROKER_URL", f"redis://:pw-{port}@127.0.0.1:{port}/0")
    monkeypatch.setenv("AGEREC_DASHBOARD_DISPATCH", "1")
    monkeypatch.setattr("worker.job_control._dispatch", REAL_DISPATCH)
    celery_app.cache_clear()
    try:
        at = run_page("launch.py")
        at.multiselect(key="gradcam-runs").set_value(seeded["runs"][:1])
        submit(at, "gradcam").click().run()
    finally:
        celery_app.cache_clear()
    assert any(f"broker at redis://:**@127.0.0.1:{port}/0" in e.value for e in at.error)
    job = stored.list_jobs(open_home(seeded["gallery"].parents[1]), limit=1)[0]
    assert (job.kind, job.status) == ("gradcam", "failed")


def test_submitted_job_is_shown(seeded):
    """Check that the page reports the new job's id and status after a submit."""
    at = run_page("launch.py")
    at.multiselect(key="gradcam-runs").set_value(seeded["runs"][:1])
    submit(at, "gradcam").click().run()
    assert "is queued" in at.success[0].value


def test_error_is_shown_under_the_field_that_caused_it(seeded):
    """Check that a missing required path is reported right under the path field."""
    at = run_page("launch.py")
    submit(at, "preprocess").click().run()
    form = next(f for f in at.get("form") if f.proto.form.form_id == "form-preprocess")
    children = list(form.children.values())
    path_at = next(i for i, c in enumerate(children) if getattr(c, "key", None) == "preprocess-path")
    assert children[path_at + 1].type == "error"
    assert children[path_at + 1].value.startswith("Required: image folder")


def test_invalid_submit_creates_no_job(seeded):
    """Check that a form with an error queues nothing."""
    at = run_page("launch.py")
    submit(at, "ensemble").click().run()
    db = open_home(seeded["gallery"].parents[1])
    assert stored.count_jobs(db) == len(seeded["jobs"])


def test_read_only_launch_page_has_no_forms(seeded, read_only):
    """Check that in read-only mode the page shows no form and no submit button."""
    at = run_page("launch.py")
    assert not at.button and not at.get("form")


def test_evaluate_form_queues_a_job_with_the_source_prior(seeded):
    """Check that the Evaluate form queues an evaluate job with target_prior=source."""
    at = run_page("launch.py")
    at.selectbox(key="evaluate-run_id").set_value(seeded["runs"][0])
    at.text_input(key="evaluate-target_prior").set_value("source")
    submit(at, "evaluate").click().run()
    job = stored.list_jobs(open_home(seeded["gallery"].parents[1]), limit=1)[0]
    assert (job.kind, job.params["target_prior"], job.status) == ("evaluate", "source", "queued")


def test_bad_target_prior_is_shown_under_its_field(seeded):
    """Check that negative weights are refused right under the target_prior field."""
    at = run_page("launch.py")
    at.selectbox(key="evaluate-run_id").set_value(seeded["runs"][0])
    at.text_input(key="evaluate-target_prior").set_value("1,-1,1,1,1")
    submit(at, "evaluate").click().run()
    form = next(f for f in at.get("form") if f.proto.form.form_id == "form-evaluate")
    children = list(form.children.values())
    field = next(i for i, c in enumerate(children)
                 if getattr(c, "key", None) == "evaluate-target_prior")
    assert children[field + 1].type == "error" and "'target_prior'" in children[field + 1].value

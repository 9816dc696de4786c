"""What the pipeline asks its preprocess step for, per preset."""
from __future__ import annotations

from backend.preprocess import PreprocessConfig
from worker.jobspecs import validate_params
from worker.stages.pipeline import preprocess_params, train_switches


def _prep(**launch):
    """The preprocess step's config for a pipeline launched with `launch` (validated as a job)."""
    params = validate_params("pipeline", {"source": "imdb-wiki", "path": "/x", **launch})
    return PreprocessConfig.from_dict(validate_params("preprocess", preprocess_params(params)))


def test_paper_pipeline_samples_42000_faces_after_detection():
    """Check that the paper pipeline asks for 42,000 detected faces and no pre-detection sample."""
    config = _prep(preset="paper")
    assert (config.max_faces, config.limit) == (42_000, None)


def test_max_faces_zero_keeps_every_face():
    """Check that max_faces=0 at launch overrides the paper's 42,000 with no sample."""
    assert _prep(preset="paper", max_faces=0).max_faces is None


def test_paper_pipeline_relaxes_the_imdb_wiki_filters_the_paper_never_states():
    """Check that the paper pipeline keeps every located face, second faces included,
    while the cpu pipeline keeps the reader's defaults."""
    paper, cpu = _prep(preset="paper"), _prep(preset="cpu")
    assert (paper.min_face_score, paper.allow_second_face) == (0.0, True)
    assert (cpu.min_face_score, cpu.allow_second_face) == (1.0, False)


def test_a_filter_given_at_launch_wins_over_the_preset():
    """Check that min_face_score=2 at launch replaces the paper pipeline's 0."""
    assert _prep(preset="paper", min_face_score="2").min_face_score == 2.0


def test_filters_are_unset_for_sources_without_face_scores():
    """Check that a UTKFace paper pipeline records no IMDB-WIKI filter."""
    config = _prep(preset="paper", source="utkface")
    assert (config.min_face_score, config.allow_second_face) == (None, None)


def _children_of_a_pipeline(agerec_home, preset: str) -> list[tuple[str, dict]]:
    """(kind, params) of every child a `preset` pipeline asks for, each child answered at
    once with made-up outputs instead of being run."""
    from storage import jobs
    from worker.context import AppContext
    from worker.stages.pipeline import run_pipeline
    from worker.stages.stage_context import StageContext

    app = AppContext()
    params = validate_params("pipeline", {"source": "utkface", "path": "/x", "preset": preset})
    parent = jobs.create_job(app.db, "pipeline", params)
    outputs = {"preprocess": {"dataset_id": 1}, "train": {}, "ensemble": {"run_id": 9},
               "evaluate": {}, "gradcam": {}}
    asked = []

    def run_child(job_id):
        child = jobs.get_job(app.db, job_id)
        asked.append((child.kind, child.params))
        out = dict(outputs[child.kind], run_id=outputs[child.kind].get("run_id", len(asked)))
        jobs.set_outputs(app.db, job_id, **out)
        jobs.mark_running(app.db, job_id)
        return jobs.finish_job(app.db, job_id, "succeeded")

    run_pipeline(StageContext(app=app, job_id=parent.id, run_child=run_child), params)
    return asked


def test_cpu_pipeline_explains_its_ensemble_by_occlusion(agerec_home):
    """Check that a cpu pipeline ends with an occlusion explanation of the ensemble it
    made (besides GradCAM of its members), so the ensemble has its own evidence."""
    asked = _children_of_a_pipeline(agerec_home, "cpu")
    kind, params = asked[-1]
    assert (kind, params["runs"], params["method"]) == ("gradcam", [9], "occlusion")
    assert [k for k, _ in asked].count("gradcam") == 2


def test_smoke_pipeline_skips_the_ensembles_occlusion(agerec_home):
    """Check that a smoke pipeline (seconds) makes only the GradCAM gallery of its members."""
    asked = _children_of_a_pipeline(agerec_home, "smoke")
    assert [p.get("method") for k, p in asked if k == "gradcam"] == ["gradcam"]


def test_keep_all_faces_trains_members_with_balanced_class_weights():
    """Check that a keep_all_faces launch prepares with it and trains every member with
    balanced class weights, and that a plain launch leaves the preset's weights."""
    params = validate_params("pipeline", {"source": "utkface", "path": "/x", "preset": "cpu",
                                          "keep_all_faces": "true"})
    assert _prep(keep_all_faces="true").keep_all_faces is True
    assert train_switches(params) == {"class_weights": "balanced"}
    assert "class_weights" not in train_switches(validate_params(
        "pipeline", {"source": "utkface", "path": "/x", "preset": "cpu"}))

"""The `pipeline` stage: preprocess, train each member, ensemble, evaluate, GradCAM
and an occlusion explanation of the ensemble as one launch. Each step is a child job; a retried pipeline reuses the steps that
succeeded and resumes the rest (a training resumes from its checkpoint)."""
from __future__ import annotations

from typing import Any

from storage import jobs
from worker.jobspecs import validate_params
from worker.stages.stage_context import JobCancelled, StageContext

# What preprocessing each preset implies when the launch does not say.
PIPELINE_DEFAULTS = {
    # The paper's 128 px crops, 42,000 faces sampled after detection, 20 search trials.
    "paper": {"image_size": 128, "limit": None, "max_faces": 42_000, "trials": 20,
              "explain_ensemble": True},
    "cpu": {"image_size": 128, "limit": None, "max_faces": None, "trials": 20,
            "explain_ensemble": True},
    # Seconds: a small sample, small crops, no occlusion (dlib makes it minutes).
    "smoke": {"image_size": 64, "limit": 300, "max_faces": None, "trials": 2,
              "explain_ensemble": False},
}
# The ensemble's own explanation (occlusion: any model): one face per class and outcome
# on a 6 x 6 grid keeps dlib_face's descriptors to minutes.
ENSEMBLE_EXPLANATION = {"method": "occlusion", "per_class": 1, "occlusion_grid": 6}
# IMDB-WIKI filters per preset (other sources have none). The paper states no filter
# and names dlib as its face gate: keep every photo IMDB-WIKI located a face in, second
# faces included, and let dlib decide. Rows where IMDB-WIKI found no face (score -inf)
# are still dropped by the reader. `cpu` and `smoke` keep the reader's cleaner defaults.
FACE_FILTERS = {"paper": {"min_face_score": 0.0, "allow_second_face": True}}


def run_pipeline(ctx: StageContext, params: dict[str, Any]) -> dict[str, Any]:
    """Run every step as a child job, in order; stop at the first that does not succeed."""
    from backend.training.config import preset_members

    preset = params.get("preset", "paper")
    defaults = PIPELINE_DEFAULTS[preset]
    members = params.get("members") or list(preset_members(preset))
    seed = params.get("seed", 0)
    prep = preprocess_params(params)
    switches = train_switches(params)
    # preprocess, each member, the ensemble and its explanation (with several members),
    # evaluate, gradcam
    explain = len(members) > 1 and defaults["explain_ensemble"]
    steps = _Steps(ctx, total=3 + len(members) + (len(members) > 1) + explain)
    dataset_id = steps.run("preprocess", "preprocess", prep)["dataset_id"]
    run_ids = [steps.run(f"train:{m}", "train", {"dataset_id": dataset_id, "backbone": m,
                                                 "preset": preset, "seed": seed,
                                                 **switches})["run_id"]
               for m in members]
    final_run = run_ids[0]
    if len(run_ids) > 1:
        final_run = steps.run("ensemble", "ensemble", {
            "runs": run_ids, "seed": seed, "method": params.get("ensemble", "meta"),
            "trials": defaults["trials"]})["run_id"]
    evaluation = steps.run("evaluate", "evaluate", {"run_id": final_run})
    gradcam = steps.run("gradcam", "gradcam", {"runs": run_ids, "seed": seed,
                                               "per_class": params.get("per_class", 2)})
    if explain:
        steps.run("explain ensemble", "gradcam", {"runs": [final_run], "seed": seed,
                                                  **ENSEMBLE_EXPLANATION})
    all_runs = run_ids + ([final_run] if final_run not in run_ids else [])
    return {"dataset_ids": [dataset_id], "run_ids": all_runs,
            "members": run_ids, "final_run_id": final_run, "steps": steps.ids,
            "accuracy": evaluation.get("accuracy"),
            "one_off_accuracy": evaluation.get("one_off_accuracy"),
            "gallery": gradcam.get("gallery")}


def train_switches(params: dict[str, Any]) -> dict[str, Any]:
    """What every member's train step takes from the launch besides its preset."""
    # Precision switches go to every member; unset, each keeps its preset's.
    switches = {name: params[name] for name in ("mixed_precision", "xla") if name in params}
    if params.get("keep_all_faces"):
        # The extra faces leave the train split's classes uneven: the loss evens them.
        switches["class_weights"] = "balanced"
    return switches


def preprocess_params(params: dict[str, Any]) -> dict[str, Any]:
    """The preprocess step's job parameters: the launch's, else the preset's defaults."""
    preset = params.get("preset", "paper")
    defaults = PIPELINE_DEFAULTS[preset]
    detector = params.get("detector") or ("none" if params["source"] == "utkface" else "cnn")
    prep = {"source": params["source"], "path": params["path"], "meta": params.get("meta"),
            "classes": params.get("classes", "5"), "detector": detector,
            "seed": params.get("seed", 0), "image_size": defaults["image_size"],
            "limit": params.get("limit", defaults["limit"]),
            # 0 asks for every face, over the preset's sample.
            "max_faces": params.get("max_faces", defaults["max_faces"]) or None,
            "oversample": params.get("oversample", "none"),
            "keep_all_faces": params.get("keep_all_faces", False)}
    if params["source"] == "imdb-wiki":
        prep.update(FACE_FILTERS.get(preset, {}))
    # A filter given at launch wins (preprocess refuses one for another source).
    prep.update({name: params[name] for name in ("min_face_score", "allow_second_face")
                 if name in params})
    if "min_face_side" in params:
        prep["min_face_side"] = params["min_face_side"]
    return prep


class _Steps:
    """Child jobs of one pipeline, found again by step name when the pipeline is retried."""

    def __init__(self, ctx: StageContext, total: int):
        if ctx.job_id is None:
            raise ValueError("a pipeline runs as a job: use `agerec jobs submit pipeline`")
        self.ctx, self.total = ctx, total
        self.ids: dict[str, int] = dict(jobs.get_job(ctx.app.db, ctx.job_id).outputs.get("steps", {}))

    def run(self, step: str, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run (or reuse, or resume) one step; its outputs, or an error if it did not succeed."""
        db = self.ctx.app.db
        if self.ctx.cancel():
            raise JobCancelled(f"pipeline cancelled before step {step!r}")
        child = jobs.get_job(db, self.ids[step]) if step in self.ids else None
        if child is None:
            # Validated like any submitted job; this pipeline runs it, nobody else.
            child = jobs.create_job(db, kind, validate_params(kind, params),
                                    parent_id=self.ctx.job_id)
            self.ids[step] = child.id
            jobs.set_outputs(db, self.ctx.job_id, steps=self.ids)
        elif child.status in ("failed", "cancelled"):
            child = jobs.reset_for_retry(db, child.id)
        if child.status != "succeeded":
            self.ctx.progress(len(self.ids) - 1, self.total, step)
            child = self.ctx.run_child(child.id)
        if child.status == "cancelled":
            raise JobCancelled(f"step {step!r} (job {child.id}) was cancelled")
        if child.status != "succeeded":
            raise RuntimeError(f"step {step!r} (job {child.id}) {child.status}: {child.error}")
        self.ctx.progress(len(self.ids), self.total, step)
        return child.outputs

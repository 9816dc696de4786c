"""The `train` stage: one member model on a prepared dataset, evaluated on its test
split. A retried job resumes the same run from its last checkpoint."""
from __future__ import annotations

from typing import Any

from storage import artifacts, datasets, jobs, runs
from worker.stages.predictions import dataset_of, evaluate_split, headline, run_dir
from worker.stages.stage_context import StageContext, ending_run


def train_config(params: dict[str, Any]):
    """The TrainConfig a `train` job's parameters ask for: its preset, with every other
    parameter (in the job's own words) as an override."""
    from backend.training.config import preset_config

    overrides = {k: v for k, v in params.items() if k not in ("dataset_id", "preset", "backbone")}
    return preset_config(params.get("preset", "paper"), params["backbone"], **overrides)


def run_train(ctx: StageContext, params: dict[str, Any]) -> dict[str, Any]:
    """Train, evaluate and record one member; returns run_id and the test metrics."""
    return train_member(ctx, params["dataset_id"], train_config(params),
                        preset=params.get("preset", "paper"))


def train_member(ctx: StageContext, dataset_id: int, config, *,
                 preset: str | None = None) -> dict[str, Any]:
    """Train `config` (a TrainConfig) on a recorded dataset, evaluate and record it; the
    run's recorded config names the `preset` it came from (the runs' labels show it)."""
    from backend.training.trainer import train

    db, paths = ctx.app.db, ctx.app.paths
    dataset = datasets.get_dataset(db, dataset_id)
    run, resume = _run_for(ctx, dataset.id, config, preset)

    def progress(stage="train", epoch=0, step=0, total_steps=0, **_):
        ctx.progress(step, total_steps or 1, f"{stage} epoch {epoch + 1}")

    # From here on every way out ends the run; a failed run keeps its last
    # checkpoint, and a retry of this job resumes it.
    with ending_run(ctx, run):
        data = dataset_of(ctx, run)
        result = train(config, data, run_dir(ctx, run), progress=progress, cancel=ctx.cancel,
                       resume=resume, cache_dir=paths.cache_dir("features"),
                       weights_cache_dir=paths.cache_dir("weights"))
        runs.record_metrics(db, run.id, "val", result.val_metrics)
        runs.record_metrics(db, run.id, "timing", {f"seconds_{k}": v
                                                   for k, v in result.stage_seconds.items()})
        for kind, name in (("config", "config.json"), ("history", "history.json"),
                           ("weights", "best.weights.h5")):
            if (run_dir(ctx, run) / name).exists():
                artifacts.add_artifact(db, kind, run_dir(ctx, run) / name, run_id=run.id)
        metrics = evaluate_split(ctx, run, "test")
    return {"run_ids": [run.id], "dataset_ids": [dataset.id], "run_id": run.id,
            "backbone": config.backbone, **headline(metrics)}


def _run_for(ctx: StageContext, dataset_id: int, config, preset: str | None):
    """This job's run: the one an earlier attempt created (resume), else a new one."""
    db = ctx.app.db
    earlier = jobs.get_job(db, ctx.job_id).outputs.get("run_ids") if ctx.job_id else None
    if earlier:
        run = runs.set_run_status(db, earlier[0], "running")
        return run, True
    from backend.training.config import departures

    # The preset and every field changed from its recipe: only an unchanged `paper`
    # run may be said to reproduce the paper.
    recorded = {**config.to_dict(), **({"preset": preset, "preset_departures":
                                        list(departures(config, preset))} if preset else {})}
    run = runs.create_run(db, dataset_id, "train", config.backbone, config=recorded,
                          job_id=ctx.job_id)
    if ctx.job_id:
        jobs.set_outputs(db, ctx.job_id, run_ids=[run.id], dataset_ids=[dataset_id])
    return run, False

"""The `evaluate` stage: a run on its own test split, or on any external labelled
dataset read by the foundation readers and cropped like the run's training data."""
from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from storage import artifacts, datasets, runs
from worker.stages.predictions import (evaluate_split, file_part, headline, predict, run_dir,
                                       run_temperature)
from worker.stages.stage_context import StageContext
from worker.stages.target_prior import run_target_prior


def run_evaluate(ctx: StageContext, params: dict[str, Any]) -> dict[str, Any]:
    """Evaluate and record; returns run_id, the scope, the target prior and the metrics."""
    run = runs.get_run(ctx.app.db, params["run_id"])
    prior = run_target_prior(ctx.app.db, run, params.get("target_prior", "none"),
                             func="the 'evaluate' job")
    if params.get("source"):
        metrics, scope = _evaluate_external(ctx, run, params, prior)
    else:
        metrics, scope = evaluate_split(ctx, run, "test", prior), prior.scope("test")
    out = {"run_id": run.id, "scope": scope, "target_prior": prior.to_dict(), **headline(metrics)}
    if "skipped_by_reason" in metrics:
        out["skipped"] = metrics["skipped_by_reason"]
    return out


def _evaluate_external(ctx: StageContext, run, params: dict[str, Any], prior):
    """Read, crop (as the run's dataset was cropped), predict and score an outside dataset."""
    from backend.data.classes import scheme_from
    from backend.data.crop_cache import CropSpec, extract_crops
    from backend.data.faces import MIN_FACE_SIDE
    from backend.data.images import load_image
    from backend.data.readers import read_source
    from backend.data.labelled_images import GROUP_PREFIX, group_columns
    from backend.evaluation.evaluate import predictions_frame
    from backend.evaluation.priors import evaluate_under_prior

    if not params.get("path"):
        raise ValueError("The 'path' parameter of evaluate is required with 'source'.")
    db = ctx.app.db
    dataset = datasets.get_dataset(db, run.dataset_id)
    prep = dataset.params
    scheme = scheme_from(dataset.class_scheme["edges"])
    read = read_source(params["source"], params["path"], params.get("meta"))
    ages = np.array([r.age for r in read.records], dtype=np.int64)
    labels = scheme.assign(ages) if len(ages) else ages
    records = [r for r, label in zip(read.records, labels) if label >= 0]
    reasons = Counter([s.reason for s in read.skipped]
                      + ["age_out_of_range"] * (len(read.records) - len(records)))
    # Cropped and limited as the run's dataset was (datasets older than min_face_side get
    # today's default).
    # UTKFace comes cropped (detector 'none'); another dataset's photos may need finding.
    spec = CropSpec(detector=params.get("detector") or prep["detector"],
                    size=prep["image_size"], margin=prep["margin"],
                    min_face_side=prep.get("min_face_side", MIN_FACE_SIDE),
                    max_pixels=ctx.app.settings.max_image_pixels)
    outcomes = extract_crops([r.path for r in records], ctx.app.paths.cache_dir("crops"), spec,
                             progress=lambda d, t: ctx.progress(d, t, "detect"),
                             cancel=ctx.cancel)
    kept = [(r, o) for r, o in zip(records, outcomes) if o.crop_path]
    reasons.update(o.status for o in outcomes if not o.crop_path)
    if not kept:
        shown = ", ".join(f"{k}: {n}" for k, n in sorted(reasons.items())) or "nothing to read"
        raise ValueError(f"no usable face in {params['path']} (every image was skipped; "
                         f"{shown})")
    images = np.stack([load_image(o.crop_path) for _, o in kept])
    y = scheme.assign(np.array([r.age for r, _ in kept], dtype=np.int64))
    genders = np.array([r.gender or "" for r, _ in kept], dtype=object)
    columns = group_columns([r for r, _ in kept])
    ctx.progress(0, 2, "predict")
    probs = predict(ctx, run, images)
    ctx.progress(1, 2, "predict")
    grey = predict(ctx, run, images, greyscale=True)
    ctx.progress(2, 2, "predict")
    metrics, probs = evaluate_under_prior(
        y, probs, scheme.n_classes, prior, genders=genders if np.any(genders != "") else None,
        grey_probs=grey, temperature=run_temperature(ctx, run),
        groups={c[len(GROUP_PREFIX):]: v for c, v in columns.items()})
    metrics["skipped"] = sum(reasons.values())
    metrics["skipped_by_reason"] = dict(reasons)
    scope = prior.scope(f"external:{params['source']}")
    runs.record_metrics(db, run.id, scope, metrics)
    frame = predictions_frame(list(range(len(kept))), y, probs)
    frame["source_path"] = [r.path for r, _ in kept]
    frame["crop_path"] = [o.crop_path for _, o in kept]
    frame["age"] = [r.age for r, _ in kept]
    frame["gender"] = genders
    for column, labels in columns.items():
        frame[column] = labels
    out = run_dir(ctx, run) / f"predictions-{file_part(scope)}.csv"
    frame.to_csv(out, index=False)
    artifacts.add_artifact(db, "predictions", out, run_id=run.id,
                           meta={"scope": scope, "path": str(params["path"])})
    return metrics, scope

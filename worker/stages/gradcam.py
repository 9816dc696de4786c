"""The `gradcam` stage: the same test faces through every chosen run, in colour and
in grey, with heatmaps, overlays and the numbers behind the paper's claims.

GradCAM and GradCAM++ explain the runs with a convolutional feature map (others are
skipped, with the reason); occlusion sensitivity explains any run, dlib_face and
ensembles included, on the dataset's own crops."""
from __future__ import annotations

from typing import Any

import numpy as np

from backend.explain.methods import needs_feature_map
from backend.params import InvalidParameterError
from storage import artifacts, runs
from storage.records import Run
from worker.stages.predictions import dataset_of, probs_on, run_dir
from worker.stages.stage_context import StageContext


def model_name(run: Run) -> str:
    """How a run is named in its gallery: '<backbone>#<id>', or 'ensemble#<id>'."""
    return f"{run.config.get('backbone') if run.kind == 'train' else 'ensemble'}#{run.id}"


def run_gradcam(ctx: StageContext, params: dict[str, Any]) -> dict[str, Any]:
    """Write one gallery for the runs' shared test split; returns its path and table."""
    import pandas as pd

    from backend.explain.gallery import GalleryConfig, write_gallery

    db, paths = ctx.app.db, ctx.app.paths
    chosen = [runs.get_run(db, run_id) for run_id in params["runs"]]
    if len({r.dataset_id for r in chosen}) > 1:
        raise InvalidParameterError("runs", "gradcam", "runs on one prepared dataset",
                                    {r.id: r.dataset_id for r in chosen})
    cfg = GalleryConfig(per_class=params.get("per_class", 4),
                        method=params.get("method", "gradcam"), seed=params.get("seed", 0),
                        grid=params.get("occlusion_grid", 8), steps=params.get("steps", 20))
    if needs_feature_map(cfg.method):
        explainable, skipped, size = _feature_map_runs(ctx, chosen)
    else:
        explainable, skipped, size = chosen, [], None
    data = dataset_of(ctx, explainable[0])
    images, labels, rows = data.subset("test")
    names = {run.id: model_name(run) for run in explainable}
    y_pred = {names[run.id]: probs_on(ctx, run, "test", images).argmax(axis=1)
              for run in explainable}
    models = {}
    for i, run in enumerate(explainable):
        ctx.progress(i, len(explainable), "load models")
        models[names[run.id]] = _model(ctx, run, cfg.method)
    out_dir = paths.home / "galleries" / (f"job-{ctx.job_id}" if ctx.job_id else
                                          "runs-" + "-".join(str(r.id) for r in explainable)
                                          + f"-{cfg.method}")
    ctx.progress(0, 1, cfg.method)
    gallery = write_gallery(out_dir, models, _resize(images, size), labels, y_pred, cfg=cfg,
                            ids=rows, class_names=list(data.scheme["labels"]))
    ctx.progress(1, 1, cfg.method)
    table = pd.read_csv(out_dir / "summary.csv")
    for run in explainable:
        artifacts.add_artifact(db, "gradcam", out_dir, run_id=run.id, job_id=ctx.job_id,
                               meta={"gallery": paths.relative(gallery), "method": cfg.method,
                                     "model": names[run.id]})
    return {"gallery": paths.relative(gallery), "runs": [r.id for r in explainable],
            "method": cfg.method, "skipped_runs": skipped, "config": cfg.__dict__,
            "table": table.to_dict(orient="records")}


def _feature_map_runs(ctx: StageContext, chosen: list[Run]):
    """(runs GradCAM can explain, the others with the reason, their one image size)."""
    from backend.models.registry import get_backbone
    from backend.training.run_folder import load_run_config

    explainable, skipped, sizes = [], [], set()
    for run in chosen:
        config, _ = load_run_config(run_dir(ctx, run)) if run.kind == "train" else (None, 0)
        if config is None or not get_backbone(config.backbone).supports_gradcam:
            skipped.append({"run_id": run.id, "reason": "no convolutional feature map to "
                            "explain; method 'occlusion' explains it"})
        else:
            explainable.append(run)
            sizes.add(config.image_size)
    if not explainable:
        raise InvalidParameterError("runs", "gradcam", "at least one run with a convolutional "
                                    "feature map (or method 'occlusion', which explains any run)",
                                    [r.id for r in chosen])
    if len(sizes) > 1:
        raise InvalidParameterError("runs", "gradcam", "runs trained at one image size",
                                    sorted(sizes))
    return explainable, skipped, sizes.pop()


def _model(ctx: StageContext, run: Run, method: str):
    """(what the gallery explains, the layer GradCAM reads): a Keras model and its last
    conv layer, or for occlusion a predict function and None."""
    from backend.ensemble import ensemble_predictor
    from backend.models.registry import get_backbone
    from backend.training.run_folder import load_run_config, load_run_model, run_predictor

    if not needs_feature_map(method):
        if run.kind == "train":
            return run_predictor(run_dir(ctx, run)), None
        members = [runs.get_run(ctx.app.db, member) for member in run.members]
        return ensemble_predictor(run_dir(ctx, run),
                                  [run_predictor(run_dir(ctx, m)) for m in members]), None
    config, _ = load_run_config(run_dir(ctx, run))
    return load_run_model(run_dir(ctx, run)), get_backbone(config.backbone).last_conv_layer


def _resize(images: np.ndarray, size: int | None) -> np.ndarray:
    """uint8 crops at the models' input size (None: as they are)."""
    if size is None or images.shape[1] == size:
        return np.asarray(images)
    import tensorflow as tf

    resized = tf.image.resize(np.asarray(images), (size, size), antialias=True)
    return np.clip(np.round(resized.numpy()), 0, 255).astype(np.uint8)

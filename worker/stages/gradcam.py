"""The `gradcam` stage: the same test faces through every chosen run, in colour and
in grey, with heatmaps, overlays and the numbers behind the paper's claims."""
from __future__ import annotations

from typing import Any

import numpy as np

from backend.params import InvalidParameterError
from storage import artifacts, runs
from worker.stages.predictions import dataset_of, probs_on, run_dir
from worker.stages.stage_context import StageContext


def run_gradcam(ctx: StageContext, params: dict[str, Any]) -> dict[str, Any]:
    """Write one gallery for the runs' shared test split; returns its path and table."""
    import pandas as pd

    from backend.explain.gallery import GalleryConfig, write_gallery
    from backend.models.registry import get_backbone
    from backend.training.run_folder import load_run_config, load_run_model

    db, paths = ctx.app.db, ctx.app.paths
    chosen = [runs.get_run(db, run_id) for run_id in params["runs"]]
    if len({r.dataset_id for r in chosen}) > 1:
        raise InvalidParameterError("runs", "gradcam", "runs on one prepared dataset",
                                    {r.id: r.dataset_id for r in chosen})
    explainable, skipped = [], []
    for run in chosen:
        config, _ = load_run_config(run_dir(ctx, run)) if run.kind == "train" else (None, 0)
        if config is None or not get_backbone(config.backbone).supports_gradcam:
            skipped.append({"run_id": run.id, "reason": "no convolutional feature map to explain"})
        else:
            explainable.append((run, config))
    if not explainable:
        raise InvalidParameterError("runs", "gradcam", "at least one image-model run",
                                    [r.id for r in chosen])
    sizes = {config.image_size for _, config in explainable}
    if len(sizes) > 1:
        raise InvalidParameterError("runs", "gradcam", "runs trained at one image size",
                                    {r.id: c.image_size for r, c in explainable})
    data = dataset_of(ctx, explainable[0][0])
    images, labels, rows = data.subset("test")
    names = {run.id: f"{config.backbone}#{run.id}" for run, config in explainable}
    y_pred = {names[run.id]: probs_on(ctx, run, "test", images).argmax(axis=1)
              for run, _ in explainable}
    models = {}
    for i, (run, config) in enumerate(explainable):
        ctx.progress(i, len(explainable), "load models")
        models[names[run.id]] = (load_run_model(run_dir(ctx, run)),
                                 get_backbone(config.backbone).last_conv_layer)
    size = sizes.pop()
    cfg = GalleryConfig(per_class=params.get("per_class", 4),
                        method=params.get("method", "gradcam"), seed=params.get("seed", 0))
    out_dir = paths.home / "galleries" / (f"job-{ctx.job_id}" if ctx.job_id else
                                          "runs-" + "-".join(str(r.id) for r, _ in explainable))
    ctx.progress(0, 1, "gradcam")
    gallery = write_gallery(out_dir, models, _resize(images, size), labels, y_pred, cfg=cfg,
                            ids=rows, class_names=list(data.scheme["labels"]))
    ctx.progress(1, 1, "gradcam")
    table = pd.read_csv(out_dir / "summary.csv")
    for run, _ in explainable:
        artifacts.add_artifact(db, "gradcam", out_dir, run_id=run.id, job_id=ctx.job_id,
                               meta={"gallery": paths.relative(gallery), "method": cfg.method})
    return {"gallery": paths.relative(gallery), "runs": [r.id for r, _ in explainable],
            "skipped_runs": skipped, "config": cfg.__dict__,
            "table": table.to_dict(orient="records")}


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 crops at the models' input size."""
    if images.shape[1] == size:
        return np.asarray(images)
    import tensorflow as tf

    resized = tf.image.resize(np.asarray(images), (size, size), antialias=True)
    return np.clip(np.round(resized.numpy()), 0, 255).astype(np.uint8)

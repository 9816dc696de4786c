"""The `preprocess` stage: a raw source in, a recorded prepared dataset out."""
from __future__ import annotations

import json
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from storage import datasets
from worker.stages.stage_context import StageContext


def run_preprocess(ctx: StageContext, params: dict[str, Any]) -> dict[str, Any]:
    """Prepare a dataset from `params` (PreprocessConfig fields) and record it."""
    from backend.preprocess import PreprocessConfig, prepare

    config = PreprocessConfig.from_dict(_absolute_paths(params))
    paths = ctx.app.paths
    # Write into a fresh folder named by time, so a failed run never clobbers a dataset.
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    out_dir = paths.home / "datasets" / f"{stamp}-{uuid.uuid4().hex[:8]}"
    try:
        result = prepare(config, out_dir, paths.cache_dir("crops"), progress=ctx.progress,
                         cancel=ctx.cancel, max_pixels=ctx.app.settings.max_image_pixels)
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise
    db = ctx.app.db
    source = datasets.get_or_create_source(db, config.source, config.path, config.meta)
    scheme = json.loads((out_dir / "scheme.json").read_text())
    dataset = datasets.create_dataset(
        db, source.id, params=config.to_dict(), summary=result.summary(), class_scheme=scheme,
        n_images=result.n_images, dir=out_dir, job_id=ctx.job_id)
    return {"dataset_id": dataset.id, "dir": dataset.dir, "n_images": result.n_images,
            "splits": result.splits, "gender_by_class": result.gender_by_class,
            "source_class_counts": result.source_class_counts,
            "skipped": result.skipped, "notes": result.notes, "params": config.to_dict(),
            "timings": {k: round(v, 3) for k, v in result.timings.items()},
            "crop_stats": result.crop_stats}


def _absolute_paths(params: dict[str, Any]) -> dict[str, Any]:
    """Make `path` and `meta` absolute, so the recorded params mean the same anywhere."""
    out = dict(params)
    for key in ("path", "meta"):
        if out.get(key):
            out[key] = str(Path(out[key]).expanduser().resolve())
    return out

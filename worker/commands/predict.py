"""`agerec predict --run ID IMAGE...`: find the face, then give the class and probabilities."""
from __future__ import annotations

import argparse

import numpy as np

from storage import datasets, runs
from worker.commands.flags import flag
from worker.console import Console
from worker.context import AppContext
from worker.jobspecs import TARGET_PRIOR
from worker.stages.predictions import predict
from worker.stages.stage_context import StageContext
from worker.stages.target_prior import run_target_prior


def register(sub) -> None:
    p = sub.add_parser("predict", help="the age group of the face in each image")
    p.add_argument("--run", type=int, required=True, metavar="ID", help="a training or ensemble run")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    # Not a job, so its one job parameter is added here, from the same declaration.
    p.add_argument(flag(TARGET_PRIOR.name), default=TARGET_PRIOR.default,
                   help=f"{TARGET_PRIOR.help} (default: {TARGET_PRIOR.default})")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, console: Console) -> int:
    from backend.data.faces import extract_face
    from backend.data.images import ImageReadError, load_image

    app = AppContext()
    run = runs.get_run(app.db, args.run)
    # Checked before any face is cropped, so a bad value fails at once.
    prior = run_target_prior(app.db, run, args.target_prior, func="predict")
    dataset = datasets.get_dataset(app.db, run.dataset_id)
    prep, labels = dataset.params, dataset.class_scheme["labels"]
    # Crop exactly as the run's training data was cropped.
    crops, results = [], []
    for path in args.images:
        try:
            crop = extract_face(load_image(path), detector=prep["detector"],
                                margin=prep["margin"], size=prep["image_size"])
        except ImageReadError as exc:
            results.append({"image": path, "error": str(exc)})
            continue
        if crop is None:
            results.append({"image": path, "error": f"no face found in {path} "
                                                    f"(detector {prep['detector']!r})"})
            continue
        crops.append(crop)
        results.append({"image": path})
    if crops:
        probs = prior.apply(predict(StageContext(app=app), run, np.stack(crops)))
        found = iter(probs)
        for result in results:
            if "error" not in result:
                p = next(found)
                k = int(p.argmax())
                result.update({"class": k, "label": labels[k],
                               "probabilities": [round(float(v), 4) for v in p]})
    text = "\n".join(f"{r['image']}: {r['label']} ({100 * max(r['probabilities']):.0f}%)"
                     if "error" not in r else f"{r['image']}: error: {r['error']}"
                     for r in results)
    console.result({"run_id": run.id, "target_prior": prior.to_dict(), "predictions": results},
                   text)
    return 0 if crops else 2

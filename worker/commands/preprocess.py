"""`agerec preprocess`: turn a raw face dataset into a prepared, balanced, split one."""
from __future__ import annotations

import argparse

from worker.console import Console
from worker.context import AppContext
from worker.stages.base import StageContext
from worker.stages.preprocess import run_preprocess

# The choices are the backend's own registries, imported lazily by the parser below.


def register(sub) -> None:
    from backend.data.faces import DETECTORS
    from backend.data.readers import SOURCES

    p = sub.add_parser("preprocess", help="prepare a dataset: crop faces, balance, split")
    p.add_argument("--source", required=True, choices=SOURCES, help="the dataset's layout")
    p.add_argument("--path", required=True,
                   help="image folder (utkface, fgnet), image root (imdb-wiki) or CSV file (csv)")
    p.add_argument("--meta", help="imdb-wiki: the wiki.mat or imdb.mat file")
    p.add_argument("--classes", default="5",
                   help="'5' (the paper's 20-year bins), '8', or explicit edges like 1,20,40,60,100")
    p.add_argument("--image-size", type=int, default=128, help="crop side in pixels (default 128)")
    p.add_argument("--detector", choices=DETECTORS, default="cnn",
                   help="dlib CNN (the paper's), HOG, or none for pre-cropped faces")
    p.add_argument("--limit", type=int, help="a seeded random sample of this many images")
    p.add_argument("--seed", type=int, default=0, help="seed for sampling, balancing and split")
    p.add_argument("--workers", type=int, help="face-detection processes (default: one per core)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, console: Console) -> int:
    params = {"source": args.source, "path": args.path, "meta": args.meta,
              "classes": args.classes, "image_size": args.image_size,
              "detector": args.detector, "limit": args.limit, "seed": args.seed,
              "workers": args.workers}
    ctx = StageContext(app=AppContext(), progress=console.progress)
    out = run_preprocess(ctx, params)
    console.result(out, _describe(out))
    return 0


def _describe(out: dict) -> str:
    """A readable summary: counts per split and class, gender balance, skips."""
    lines = [f"dataset {out['dataset_id']}: {out['n_images']} images in {out['dir']}"]
    for split, counts in out["splits"].items():
        lines.append(f"  {split:5s} " + "  ".join(f"{k}:{v}" for k, v in counts.items()))
    lines.append("  gender " + "  ".join(f"{k}:{v['M']}M/{v['F']}F"
                                         for k, v in out["gender_by_class"].items()))
    if out["skipped"]:
        lines.append("  skipped " + ", ".join(f"{k}: {v}" for k, v in sorted(out["skipped"].items())))
    lines += [f"  note: {n}" for n in out["notes"]]
    return "\n".join(lines)

"""Section 5's claims, measured on our data with the same seed for every arm:

1. "VGG's heatmaps are more concentrated than ResNet's": train vgg19 and resnet152v2
   (saliency front end included) on one prepared dataset and run one GradCAM gallery
   over both, on the same test faces.
2. Greyscale: train one member with and without greyscale augmentation (same data and
   seed) and compare greyscale accuracy and the concentration numbers.

    python -m bench.explain_claims [--limit 2000] [--size 64] [--epochs 4]
                                   [--claims concentration greyscale]

ImageNet weights for VGG19/ResNet152V2 are used when they are in the Keras cache
(`--weights imagenet`), with the paper's schedules; offline the default is `none`:
both then train every layer from scratch (the paper's frozen stages would freeze
random layers), which the output states. Writes
bench/results/explain-<date>-<host>.json (explain-<claim>-<date>-<host>.json when
only one claim runs).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CLAIMS = ("concentration", "greyscale")


def main(argv: list[str] | None = None) -> int:
    from storage.settings import Settings

    p = argparse.ArgumentParser(prog="python -m bench.explain_claims")
    p.add_argument("--data", default=str(Settings.from_env().shared_data / "utkface"))
    p.add_argument("--home", default=str(REPO / "var" / "bench-explain"))
    p.add_argument("--limit", type=int, default=2000, help="UTKFace faces sampled before balancing")
    p.add_argument("--size", type=int, default=64, help="image size the two CNNs train at")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--weights", default="none", help="vgg19/resnet152v2 start: none or imagenet")
    p.add_argument("--per-class", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--claims", nargs="+", choices=CLAIMS, default=list(CLAIMS),
                   help="which claims to measure")
    args = p.parse_args(argv)
    os.environ["AGEREC_HOME"] = str(Path(args.home).resolve())
    os.environ.pop("AGEREC_DATABASE_URL", None)
    result = run(args)
    which = "" if set(args.claims) == set(CLAIMS) else "-".join(args.claims) + "-"
    out = (REPO / "bench" / "results" /
           f"explain-{which}{dt.date.today()}-{socket.gethostname()}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result["summary"], indent=2))
    print(f"results: {out}", file=sys.stderr)
    return 0


def run(args) -> dict[str, Any]:
    from worker.console import Console
    from worker.context import AppContext
    from worker.stages.gradcam import run_gradcam
    from worker.stages.preprocess import run_preprocess
    from worker.stages.stage_context import StageContext
    from worker.stages.train import run_train, train_member

    ctx = StageContext(app=AppContext(), progress=Console(False).progress)
    prep = run_preprocess(ctx, {"source": "utkface", "path": args.data, "detector": "none",
                                "limit": args.limit, "seed": args.seed})
    out: dict[str, Any] = {"date": dt.datetime.now(dt.timezone.utc).isoformat(),
                           "args": vars(args), "dataset": prep, "summary": {}}
    if "concentration" in args.claims:
        cnn_runs = {backbone: train_member(ctx, prep["dataset_id"],
                                           small_paper_config(backbone, args))
                    for backbone in ("vgg19", "resnet152v2")}
        concentration = run_gradcam(ctx, {"runs": [r["run_id"] for r in cnn_runs.values()],
                                          "per_class": args.per_class, "seed": args.seed})
        out.update(cnn_runs=cnn_runs, concentration=concentration)
        out["summary"]["vgg_vs_resnet"] = summarize_concentration(cnn_runs, concentration)
    if "greyscale" in args.claims:
        grey_runs = {flag: run_train(ctx, {"dataset_id": prep["dataset_id"],
                                           "backbone": "efficientnet_lite0", "preset": "cpu",
                                           "seed": args.seed, "greyscale_aug": flag})
                     for flag in (False, True)}
        grey_gallery = run_gradcam(ctx, {"runs": [r["run_id"] for r in grey_runs.values()],
                                         "per_class": args.per_class, "seed": args.seed})
        out.update(greyscale_runs={str(k): v for k, v in grey_runs.items()},
                   greyscale_gallery=grey_gallery)
        out["summary"]["greyscale_augmentation"] = summarize_greyscale(grey_runs, grey_gallery)
    return out


def small_paper_config(backbone: str, args):
    """The paper's recipe for `backbone` (saliency front end, schedule, callbacks), at a
    CPU-sized image and epoch budget: gradual unfreezing keeps its shape, scaled down.
    From random weights every layer trains in one stage instead: a frozen random layer
    only adds noise."""
    from backend.training.config import preset_config

    if args.weights == "none":
        return preset_config("paper", backbone, image_size=args.size, epochs=args.epochs,
                             schedule="fixed", trainable_top_layers=None, weights="none",
                             seed=args.seed)
    return preset_config("paper", backbone, image_size=args.size, epochs=args.epochs,
                         initial_epochs=args.epochs, cycle_epochs=max(1, args.epochs // 2),
                         max_cycles=2, weights=args.weights, seed=args.seed)


# A member this close to chance accuracy has learnt too little for its heatmaps to say
# anything about the architecture.
MIN_GAIN_OVER_CHANCE = 0.10


def summarize_concentration(cnn_runs, concentration) -> dict[str, Any]:
    """Each CNN's accuracy and gallery rows, and the verdict on "VGG is more concentrated"."""
    by_model = {k: [r for r in concentration["table"] if r["model"].startswith(k)]
                for k in cnn_runs}
    return {"accuracy": {k: v["accuracy"] for k, v in cnn_runs.items()},
            "verdict": concentration_verdict(cnn_runs, by_model), **by_model}


def summarize_greyscale(grey_runs, grey_gallery) -> dict[str, Any]:
    """Greyscale and colour accuracy with and without greyscale augmentation, and the maps."""
    def label(flag):
        return "with" if flag else "without"

    return {"greyscale_accuracy": {label(k): v["greyscale_accuracy"] for k, v in grey_runs.items()},
            "accuracy": {label(k): v["accuracy"] for k, v in grey_runs.items()},
            "table": grey_gallery["table"]}


def concentration_verdict(cnn_runs: dict[str, dict], rows: dict[str, list[dict]]) -> str:
    """Whether VGG's maps are more concentrated than ResNet's on correctly classified
    colour images (higher top-10% mass and lower entropy), or why it cannot be told."""
    import math

    for name, run in cnn_runs.items():
        per_class = [a for a in run["per_class_accuracy"] if a is not None]
        balanced, chance = sum(per_class) / len(per_class), 1.0 / len(run["per_class_accuracy"])
        if balanced < chance + MIN_GAIN_OVER_CHANCE:
            return (f"inconclusive: {name} reached {balanced:.1%} balanced test accuracy against "
                    f"{chance:.1%} chance, too little learnt for its maps to reflect the "
                    "architecture (train with ImageNet weights: --weights imagenet)")

    def score(name, column):
        picked = [r for r in rows[name] if r["colour"] == "colour" and r["outcome"] == "correct"]
        value = picked[0][column] if picked else float("nan")
        return float("nan") if value is None else float(value)

    mass = {k: score(k, "top10_mass") for k in rows}
    entropy = {k: score(k, "entropy") for k in rows}
    if any(math.isnan(v) for v in [*mass.values(), *entropy.values()]):
        return "inconclusive: a model had only flat maps on correct colour images"
    facts = (f"top-10% mass vgg19 {mass['vgg19']:.3f} vs resnet152v2 {mass['resnet152v2']:.3f}, "
             f"entropy {entropy['vgg19']:.3f} vs {entropy['resnet152v2']:.3f}")
    if mass["vgg19"] > mass["resnet152v2"] and entropy["vgg19"] < entropy["resnet152v2"]:
        return f"holds: {facts}"
    if mass["vgg19"] < mass["resnet152v2"] and entropy["vgg19"] > entropy["resnet152v2"]:
        return f"does not hold (ResNet is more concentrated): {facts}"
    return f"mixed (the two measures disagree): {facts}"


if __name__ == "__main__":
    sys.exit(main())

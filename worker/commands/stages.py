"""`agerec train|ensemble|evaluate|gradcam`: run one stage in the foreground, with
the same validated parameters and code as the job of the same name."""
from __future__ import annotations

import argparse
from typing import Any

from worker.console import Console
from worker.context import AppContext
from worker.jobspecs import ENSEMBLE_METHODS, GRADCAM_METHODS, validate_params
from worker.stages.base import StageContext
from worker.stages.registry import STAGES


def register(sub) -> None:
    from backend.data.readers import SOURCES
    from backend.models.registry import backbone_names
    from backend.training.config import PRESETS

    t = sub.add_parser("train", help="train one member model on a prepared dataset")
    t.add_argument("--dataset", type=int, required=True, help="a prepared dataset id")
    t.add_argument("--backbone", required=True, choices=backbone_names())
    t.add_argument("--preset", default="paper", choices=PRESETS,
                   help="paper (the paper's recipe, 224 px), cpu (an hour on 2 cores), smoke")
    t.add_argument("--weights", help="imagenet, none, or a weights file (default: the preset's)")
    t.add_argument("--no-saliency", action="store_true", help="ablation: drop the saliency front end")
    t.add_argument("--epochs", type=int, help="override the preset's epochs")
    t.add_argument("--greyscale-aug", action="store_true", help="add greyscale augmentation")
    t.add_argument("--seed", type=int, default=0)
    _json(t).set_defaults(handler=handle_train)

    e = sub.add_parser("ensemble", help="combine member runs that share a class scheme")
    e.add_argument("--runs", type=int, nargs="+", required=True, metavar="ID")
    e.add_argument("--method", default="meta", choices=ENSEMBLE_METHODS)
    e.add_argument("--trials", type=int, default=20, help="random-search trials (meta)")
    e.add_argument("--seed", type=int, default=0)
    _json(e).set_defaults(handler=handle_ensemble)

    v = sub.add_parser("evaluate", help="evaluate a run on its test split or an external dataset")
    v.add_argument("--run", type=int, required=True, metavar="ID")
    v.add_argument("--source", choices=SOURCES, help="an external labelled dataset's layout")
    v.add_argument("--path", help="the external dataset's folder or file")
    v.add_argument("--meta", help="imdb-wiki: the .mat file")
    _json(v).set_defaults(handler=handle_evaluate)

    g = sub.add_parser("gradcam", help="GradCAM galleries and explainability numbers")
    g.add_argument("--run", type=int, action="append", required=True, metavar="ID",
                   help="a run to explain; repeat for several (same dataset)")
    g.add_argument("--per-class", type=int, default=4,
                   help="correct and misclassified test images per class")
    g.add_argument("--method", default="gradcam", choices=GRADCAM_METHODS)
    g.add_argument("--seed", type=int, default=0)
    _json(g).set_defaults(handler=handle_gradcam)


def _json(parser):
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    return parser


def run_stage(kind: str, params: dict[str, Any], console: Console) -> dict[str, Any]:
    """Validate as `agerec jobs submit` would, then run the stage here, progress on stderr."""
    clean = validate_params(kind, {k: v for k, v in params.items() if v is not None})
    return STAGES[kind](StageContext(app=AppContext(), progress=console.progress), clean)


def _metrics_text(out: dict[str, Any]) -> str:
    per_class = " ".join(f"{100 * a:.1f}" if a is not None else "-"
                         for a in out.get("per_class_accuracy") or [])
    return (f"run {out['run_id']}: accuracy {100 * out['accuracy']:.2f}%, one-off "
            f"{100 * out['one_off_accuracy']:.2f}%, macro-F1 {out['macro_f1']:.3f}, "
            f"n={out['n']}\n  per class: {per_class}")


def handle_train(args: argparse.Namespace, console: Console) -> int:
    out = run_stage("train", {"dataset_id": args.dataset, "backbone": args.backbone,
                              "preset": args.preset, "weights": args.weights,
                              "saliency": not args.no_saliency, "epochs": args.epochs,
                              "greyscale_aug": args.greyscale_aug, "seed": args.seed}, console)
    console.result(out, _metrics_text(out))
    return 0


def handle_ensemble(args: argparse.Namespace, console: Console) -> int:
    out = run_stage("ensemble", {"runs": args.runs, "method": args.method,
                                 "trials": args.trials, "seed": args.seed}, console)
    console.result(out, _metrics_text(out))
    return 0


def handle_evaluate(args: argparse.Namespace, console: Console) -> int:
    out = run_stage("evaluate", {"run_id": args.run, "source": args.source, "path": args.path,
                                 "meta": args.meta}, console)
    console.result(out, f"[{out['scope']}] " + _metrics_text(out))
    return 0


def handle_gradcam(args: argparse.Namespace, console: Console) -> int:
    out = run_stage("gradcam", {"runs": args.run, "per_class": args.per_class,
                                "method": args.method, "seed": args.seed}, console)
    console.result(out, _gradcam_text(out))
    return 0


def _gradcam_text(out: dict[str, Any]) -> str:
    import pandas as pd

    table = pd.DataFrame(out["table"])
    lines = [f"gallery: {out['gallery']}"]
    lines += [f"skipped run {s['run_id']}: {s['reason']}" for s in out["skipped_runs"]]
    lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return "\n".join(lines)

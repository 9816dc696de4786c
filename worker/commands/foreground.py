"""`agerec preprocess|train|ensemble|evaluate|gradcam`: run one stage in the
foreground, with the same flags-from-parameters, validation and code as the job of
the same name."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from worker.commands.flags import add_job_flags, job_params
from worker.console import Console
from worker.context import AppContext
from worker.jobspecs import check_references, validate_params
from worker.stages.by_kind import STAGES
from worker.stages.stage_context import StageContext


def run_stage(kind: str, params: dict[str, Any], console: Console) -> dict[str, Any]:
    """Validate as `agerec jobs submit` would, then run the stage here, progress on stderr."""
    app = AppContext()
    clean = validate_params(kind, params)
    check_references(app.db, kind, clean)
    return STAGES[kind](StageContext(app=app, progress=console.progress), clean)


def _preprocess_text(out: dict[str, Any]) -> str:
    """A readable summary: counts per split and class, gender balance, skips."""
    lines = [f"dataset {out['dataset_id']}: {out['n_images']} images in {out['dir']}",
             "  source (before balancing) "
             + "  ".join(f"{k}:{v}" for k, v in out["source_class_counts"].items())]
    for split, counts in out["splits"].items():
        lines.append(f"  {split:5s} " + "  ".join(f"{k}:{v}" for k, v in counts.items()))
    lines.append("  gender " + "  ".join(f"{k}:{v['M']}M/{v['F']}F"
                                         for k, v in out["gender_by_class"].items()))
    if out["skipped"]:
        lines.append("  skipped " + ", ".join(f"{k}: {v}" for k, v in sorted(out["skipped"].items())))
    lines += [f"  note: {n}" for n in out["notes"]]
    return "\n".join(lines)


def _ci(interval) -> str:
    return f" (95% CI {100 * interval[0]:.1f} to {100 * interval[1]:.1f})" if interval else ""


def _metrics_text(out: dict[str, Any]) -> str:
    per_class = " ".join(f"{100 * a:.1f}" if a is not None else "-"
                         for a in out.get("per_class_accuracy") or [])
    text = (f"run {out['run_id']}: accuracy {100 * out['accuracy']:.2f}%"
            f"{_ci(out.get('accuracy_ci95'))}, one-off {100 * out['one_off_accuracy']:.2f}%"
            f"{_ci(out.get('one_off_ci95'))}, macro-F1 {out['macro_f1']:.3f}, "
            f"n={out['n']}\n  per class: {per_class}")
    text += "".join(f"\n  {line}" for line in _trust_lines(out))
    return f"[{out['scope']}] {text}" if "scope" in out else text


def _trust_lines(out: dict[str, Any]) -> list[str]:
    """The largest gap between groups of each attribute, and the calibration."""
    lines = []
    for attribute, gap in (out.get("max_gap") or {}).items():
        groups = out["per_group"][attribute]
        worst, best = gap["worst"], gap["best"]
        lines.append(f"largest {attribute} gap: {100 * gap['gap']:.1f} points{_ci(gap['ci95'])}, "
                     f"{worst} {100 * groups[worst]['accuracy']:.1f}% (n={groups[worst]['n']}) "
                     f"vs {best} {100 * groups[best]['accuracy']:.1f}% (n={groups[best]['n']})")
    if out.get("ece") is not None:
        lines.append(f"calibration: ECE {out['ece']:.3f}, {out['ece_calibrated']:.3f} after "
                     f"the temperature {out['temperature']:.2f} fitted on validation")
    return lines


def _gradcam_text(out: dict[str, Any]) -> str:
    import pandas as pd

    table = pd.DataFrame(out["table"])
    lines = [f"gallery ({out['method']}): {out['gallery']}"]
    lines += [f"skipped run {s['run_id']}: {s['reason']}" for s in out["skipped_runs"]]
    lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return "\n".join(lines)


def _evaluate_text(out: dict[str, Any]) -> str:
    """The metrics, and under a target prior the accuracy expected on a population with
    its class mix."""
    if out.get("population_accuracy") is None:
        return _metrics_text(out)
    low, high = out["population_accuracy_ci95"]
    weights = " / ".join(f"{100 * w:.0f}" for w in out["target_prior"]["weights"])
    return (_metrics_text(out) + f"\n  on the population's age mix ({weights} %): accuracy "
            f"{100 * out['population_accuracy']:.2f}% (95% CI {100 * low:.1f}-{100 * high:.1f}), "
            f"as trained {100 * out['as_trained_population_accuracy']:.2f}%")


# Each foreground command: its one-line help and how its result reads as text.
COMMANDS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "preprocess": ("prepare a dataset: crop faces, balance, split", _preprocess_text),
    "train": ("train one member model on a prepared dataset", _metrics_text),
    "ensemble": ("combine member runs that share a class scheme", _metrics_text),
    "evaluate": ("evaluate a run on its test split or an external dataset", _evaluate_text),
    "gradcam": ("GradCAM galleries and explainability numbers", _gradcam_text),
}


def register(sub) -> None:
    for kind, (text, _) in COMMANDS.items():
        parser = sub.add_parser(kind, help=text, description=text)
        add_job_flags(parser, kind)
        parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
        parser.set_defaults(handler=handle, job_kind=kind)


def handle(args: argparse.Namespace, console: Console) -> int:
    out = run_stage(args.job_kind, job_params(args, args.job_kind), console)
    console.result(out, COMMANDS[args.job_kind][1](out))
    return 0

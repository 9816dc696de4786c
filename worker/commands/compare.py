"""`agerec compare --runs A B [C ...]`: is each run really better than the baseline A?
The paired difference in accuracy on the same faces, its 95% bootstrap interval and
McNemar's exact p-value, from the runs' per-face predictions."""
from __future__ import annotations

import argparse
from typing import Any

from storage import artifacts, runs
from worker.console import Console
from worker.context import AppContext

HELP = "is a run really better than a baseline? a paired test on the same faces"


def register(sub) -> None:
    p = sub.add_parser("compare", help=HELP, description=HELP)
    p.add_argument("--runs", type=int, nargs="+", required=True, metavar="ID",
                   help="the baseline first, then one or more runs to compare with it")
    p.add_argument("--scope", default="test",
                   help="which evaluation's faces: test (default), test+prior:source, "
                        "external:SOURCE... (as `agerec evaluate` recorded it)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, console: Console) -> int:
    import pandas as pd

    from backend.evaluation.significance import compare_runs

    if len(args.runs) < 2 or len(set(args.runs)) != len(args.runs):
        raise ValueError(f"--runs needs a baseline and at least one other run, each once; "
                         f"got {args.runs}")
    app = AppContext()
    frames = {}
    for run_id in args.runs:
        runs.get_run(app.db, run_id)  # RunNotFound names a missing one
        found = artifacts.find_predictions(app.db, run_id, args.scope)
        if found is None:
            raise LookupError(f"run {run_id} has no per-face predictions for scope "
                              f"{args.scope!r}; evaluate it first (agerec evaluate --run-id "
                              f"{run_id}{_evaluate_flags(args.scope)})")
        frames[run_id] = pd.read_csv(app.paths.resolve(found.path))
    out = {"scope": args.scope, **compare_runs(frames)}
    console.result(out, _text(out))
    return 0


def _evaluate_flags(scope: str) -> str:
    """The evaluate flags that record `scope`, as a hint."""
    base, _, prior = scope.partition("+prior:")
    flags = f" --target-prior {prior}" if prior else ""
    if base.startswith("external:"):
        flags += f" --source {base.split(':', 1)[1]} --path ..."
    return flags


def _text(out: dict[str, Any]) -> str:
    lines = [f"against run {out['baseline']} on the same {out['n']} faces ({out['scope']}):"]
    for pair in out["pairs"]:
        low, high = pair["ci95"] or (float("nan"), float("nan"))
        lines.append(
            f"  run {pair['run']}: {pair['verdict']}: accuracy {100 * pair['accuracy']:.2f}% "
            f"vs {100 * pair['baseline_accuracy']:.2f}%, difference "
            f"{100 * pair['accuracy_diff']:+.2f} points (95% CI {100 * low:+.2f} to "
            f"{100 * high:+.2f}), McNemar p = {pair['p_value']:.3g}")
    return "\n".join(lines)

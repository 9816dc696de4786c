"""`agerec runs list|show`: the runs the dashboard lists (storage.catalog), from a shell."""
from __future__ import annotations

import argparse

from storage.catalog import get_entry, list_entries
from storage.runs import get_metrics
from worker.console import Console
from worker.context import AppContext

# The fields every run has in the list, in this order.
FIELDS = ("id", "name", "kind", "backbone", "preset", "dataset", "status", "accuracy")


def register(sub) -> None:
    p = sub.add_parser("runs", help="list or show training and ensemble runs")
    verbs = p.add_subparsers(dest="verb", required=True)
    lst = verbs.add_parser("list", help="runs newest first, as the dashboard lists them "
                                        "(smoke, failed and cancelled runs only with --all)")
    lst.add_argument("--all", action="store_true",
                     help="also list smoke, failed and cancelled runs")
    lst.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    lst.set_defaults(handler=handle_list)
    show = verbs.add_parser("show", help="one run with its settings and test metrics")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    show.set_defaults(handler=handle_show)


def run_json(entry) -> dict:
    """A run's public JSON: the listed fields, then what else describes it."""
    out = entry.to_dict()
    return {**{key: out[key] for key in FIELDS}, **out}


def handle_list(args: argparse.Namespace, console: Console) -> int:
    entries = list_entries(AppContext().db, include_hidden=args.all)
    text = "\n".join(_line(e) for e in entries) or (
        "no runs yet" if args.all else "no runs shown (agerec runs list --all shows smoke, "
                                       "failed and cancelled runs)")
    console.result({"runs": [run_json(e) for e in entries]}, text)
    return 0


def handle_show(args: argparse.Namespace, console: Console) -> int:
    db = AppContext().db
    entry = get_entry(db, args.id)
    payload = {**run_json(entry), "metrics": get_metrics(db, entry.id, "test")}
    lines = [entry.label] + [f"{key}: {payload[key]}" for key in
                             ("kind", "backbone", "backbones", "preset", "departures",
                              "weights", "image_size",
                              "epochs", "dataset", "dataset_id", "dataset_size", "members",
                              "one_off_accuracy", "n_test", "created_at")]
    console.result(payload, "\n".join(lines))
    return 0


def _line(e) -> str:
    accuracy = "-" if e.accuracy is None else f"{100 * e.accuracy:.2f}%"
    return (f"{e.id:5d}  {e.name:18s} {e.kind:8s} {e.backbone:18s} {e.preset or '?':6s} "
            f"{e.dataset:9s} {e.status:9s} {accuracy:>7s}")

"""`agerec datasets list|show`: the prepared datasets recorded in storage."""
from __future__ import annotations

import argparse
from dataclasses import asdict

from storage import datasets
from worker.console import Console
from worker.context import AppContext


def register(sub) -> None:
    p = sub.add_parser("datasets", help="list or show prepared datasets")
    verbs = p.add_subparsers(dest="verb", required=True)
    lst = verbs.add_parser("list", help="every prepared dataset, newest first")
    lst.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    lst.set_defaults(handler=handle_list)
    show = verbs.add_parser("show", help="one prepared dataset")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    show.set_defaults(handler=handle_show)


def handle_list(args: argparse.Namespace, console: Console) -> int:
    rows = datasets.list_datasets(AppContext().db)
    payload = {"datasets": [_brief(d) for d in rows]}
    text = "\n".join(f"{d.id:4d}  {d.source.kind:9s} {d.n_images:6d} images  {d.dir}"
                     for d in rows) or "no datasets yet"
    console.result(payload, text)
    return 0


def handle_show(args: argparse.Namespace, console: Console) -> int:
    d = datasets.get_dataset(AppContext().db, args.id)
    payload = asdict(d)
    console.result(payload, "\n".join(f"{k}: {v}" for k, v in _brief(d).items()))
    return 0


def _brief(d) -> dict:
    return {"id": d.id, "source": d.source.kind, "path": d.source.path, "n_images": d.n_images,
            "dir": d.dir, "splits": d.summary.get("splits"), "created_at": d.created_at}

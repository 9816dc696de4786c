"""Natural-set accuracy of a finished benchmark's runs, as they are and with the
prior-shift correction (backend/evaluation/priors.py): members train on balanced
classes, and the natural test set has UTKFace's real class mix.

The target prior is the source's class frequencies (every parsable face, before
balancing), known without the test labels; the training prior is the train split's.

    python -m bench.prior_shift [--home var/bench] [--seed 0]

Needs a `make bench` home; writes bench/results/prior-shift-<date>-<host>.json.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.prior_shift")
    p.add_argument("--home", default=str(REPO / "var" / "bench"), help="the benchmark's home")
    p.add_argument("--seed", type=int, default=0, help="the natural set's seed (as bench.run)")
    args = p.parse_args(argv)
    os.environ["AGEREC_HOME"] = str(Path(args.home).resolve())
    os.environ.pop("AGEREC_DATABASE_URL", None)
    result = run(args.seed)
    out = REPO / "bench" / "results" / f"prior-shift-{dt.date.today()}-{socket.gethostname()}.json"
    out.write_text(json.dumps(result, indent=2))
    for name, row in result["runs"].items():
        print(f"{name:28s} natural {row['accuracy']:.1%} -> prior-corrected "
              f"{row['prior_corrected_accuracy']:.1%} (one-off {row['prior_corrected_one_off']:.1%})")
    print(f"results: {out}", file=sys.stderr)
    return 0


def run(seed: int) -> dict:
    import pandas as pd

    from backend.evaluation.priors import prior_shift
    from bench.natural import natural_test_set
    from storage import datasets, runs
    from worker.console import Console
    from worker.context import AppContext
    from worker.stages.predictions import predict
    from worker.stages.stage_context import StageContext

    app = AppContext()
    ctx = StageContext(app=app, progress=Console(False).progress)
    all_runs = runs.list_runs(app.db)
    if not all_runs:
        raise SystemExit(f"no runs under {app.settings.home}: run `make bench` first")
    dataset_dir = app.paths.resolve(datasets.get_dataset(app.db, all_runs[0].dataset_id).dir)
    frame, images, counts = natural_test_set(dataset_dir, seed)
    labels = frame["label"].to_numpy()
    manifest = pd.read_csv(dataset_dir / "manifest.csv", keep_default_na=False)
    train_prior = np.bincount(manifest.loc[manifest["split"] == "train", "label"],
                              minlength=len(counts))
    out, memo = {}, {}
    for run in sorted(all_runs, key=lambda r: r.id):
        probs = predict(ctx, run, images, memo=memo)
        fixed = prior_shift(probs, train_prior, counts).argmax(axis=1)
        out[f"{run.name or run.kind} #{run.id}"] = {
            "accuracy": float((probs.argmax(axis=1) == labels).mean()),
            "prior_corrected_accuracy": float((fixed == labels).mean()),
            "prior_corrected_one_off": float((np.abs(fixed - labels) <= 1).mean())}
    return {"date": dt.datetime.now(dt.timezone.utc).isoformat(), "n": int(len(labels)),
            "train_prior": (train_prior / train_prior.sum()).round(4).tolist(),
            "target_prior": (counts / counts.sum()).round(4).tolist(), "runs": out}


if __name__ == "__main__":
    sys.exit(main())

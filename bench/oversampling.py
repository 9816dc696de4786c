"""Oversampling measured: no copies, copies in the train split only, and the paper's
before-split copies that leak into val and test (backend/data/oversample.py).

Every mode prepares the same UTKFace sample with the same seed (so the balanced
original faces are the same), trains the `cpu` preset's dlib_face member on it
(cached dlib descriptors and a dense head: minutes on 2 cores) and scores it on

- its own balanced test split: what the mode would report;
- the test faces with no augmented copy (and no original) in its train split;
- in the leak mode, the leaked test rows alone.

    nice python -m bench.oversampling [--data DIR] [--limit 5000] [--seed 0] [--work DIR]

Writes bench/results/oversampling-<date>.json.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import sys
import time
from pathlib import Path

import numpy as np

from storage.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.oversampling")
    p.add_argument("--data", default=str(Settings.from_env().shared_data / "utkface"),
                   help="the UTKFace folder")
    p.add_argument("--limit", type=int, default=5000,
                   help="UTKFace records sampled (before balancing)")
    p.add_argument("--seed", type=int, default=0, help="one seed for sampling, split and training")
    p.add_argument("--work", default=str(REPO / "var" / "bench-oversampling"),
                   help="datasets, runs and the crop and descriptor caches")
    args = p.parse_args(argv)
    source = Path(args.data)
    if not source.exists():
        print(f"UTKFace not found at {source} (set AGEREC_SHARED_DATA)", file=sys.stderr)
        return 2
    result = run(source, args.limit, args.seed, Path(args.work))
    out = REPO / "bench" / "results" / f"oversampling-{dt.date.today()}.json"
    out.write_text(json.dumps(result, indent=2))
    print(table(result))
    print(f"results: {out}", file=sys.stderr)
    return 0


def run(source: Path, limit: int, seed: int, work: Path) -> dict:
    """Prepare, train and score each oversampling mode; the JSON-ready results."""
    from backend.data.oversample import OVERSAMPLE_MODES
    from backend.preprocess import PreprocessConfig, prepare

    started = time.monotonic()
    modes = {}
    for mode in OVERSAMPLE_MODES:
        t0 = time.monotonic()
        config = PreprocessConfig(source="utkface", path=str(source), detector="none",
                                  image_size=128, limit=limit, seed=seed, oversample=mode)
        prepared = prepare(config, work / f"dataset-{mode}", work / "crops")
        modes[mode] = {"augmented_copies": prepared.copies,
                       **score_member(work / f"dataset-{mode}", work / f"run-{mode}",
                                      work / "features", seed),
                       "minutes": round((time.monotonic() - t0) / 60, 2)}
    return {"date": str(dt.date.today()), "host": socket.gethostname(), "cpus": os.cpu_count(),
            "source": "utkface", "limit": limit, "seed": seed,
            "member": "dlib_face, cpu preset (frozen dlib descriptors + dense head)",
            "minutes": round((time.monotonic() - started) / 60, 2), "modes": modes}


def score_member(dataset_dir: Path, run_dir: Path, cache: Path, seed: int) -> dict:
    """Train the cpu dlib_face member on a prepared dataset and score its test split."""
    from backend.data.oversample import leaked_rows
    from backend.dataset import load_prepared
    from backend.training.config import preset_config
    from backend.training.run_folder import predict_probs
    from backend.training.trainer import train

    data = load_prepared(dataset_dir)
    train(preset_config("cpu", "dlib_face", seed=seed), data, run_dir, cache_dir=cache)
    images, labels, rows = data.subset("test")
    predicted = predict_probs(run_dir, images, cache_dir=cache).argmax(axis=1)
    leaked = np.isin(rows, leaked_rows(data.manifest["split"].to_numpy(),
                                       data.manifest["copy_of"].to_numpy()))
    subsets = {"test": np.ones(len(rows), bool), "test_without_copies_in_train": ~leaked}
    if leaked.any():
        subsets["test_leaked_only"] = leaked
    return {"n_train": int(len(data.split_indices("train"))),
            **{name: accuracy_with_interval(labels[mask], predicted[mask], data.n_classes)
               for name, mask in subsets.items()}}


def accuracy_with_interval(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict:
    """n, accuracy with its 95% Wilson interval, balanced and per-class accuracy."""
    from backend.evaluation.metrics import classification_metrics

    m = classification_metrics(y_true, y_pred, n_classes)
    return {"n": m["n"], "accuracy": m["accuracy"],
            "accuracy_95ci": wilson_interval(int(np.sum(y_true == y_pred)), m["n"]),
            "balanced_accuracy": m["balanced_accuracy"],
            "per_class_accuracy": m["per_class_accuracy"],
            "per_class_n": np.bincount(y_true, minlength=n_classes).tolist()}


def wilson_interval(successes: int, n: int, z: float = 1.96) -> list[float] | None:
    """The 95% Wilson score interval of a proportion (None when n = 0)."""
    if n == 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(float(centre - half), 4), round(float(centre + half), 4)]


def table(result: dict) -> str:
    """A readable table: one row per mode and test subset."""
    lines = [f"{'mode':18s} {'subset':28s} {'n':>5s}   accuracy  95% CI          balanced"]
    for mode, row in result["modes"].items():
        for subset in ("test", "test_without_copies_in_train", "test_leaked_only"):
            if subset in row:
                s = row[subset]
                low, high = s["accuracy_95ci"]
                lines.append(f"{mode:18s} {subset:28s} {s['n']:5d}   {s['accuracy']:6.1%}  "
                             f"{low:5.1%}-{high:5.1%}    {s['balanced_accuracy']:6.1%}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

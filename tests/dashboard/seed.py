"""Fake datasets, runs, metrics, jobs and a GradCAM gallery, written through the storage
API, for the dashboard tests and bench/dashboard_speed.py."""
from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

from PIL import Image

from storage.artifacts import add_artifact
from storage.datasets import create_dataset, get_or_create_source
from storage.db import Database, open_database
from storage.jobs import append_log, create_job, finish_job, mark_running, update_progress
from storage.runs import create_run, record_metrics
from storage.settings import Settings

EDGES = [1, 20, 40, 60, 80, 100]
LABELS = ["1-19", "20-39", "40-59", "60-79", "80-99"]
# (name, kind, backbone) of the three runs the tests read.
RUNS = (("vgg19-paper", "train", "vgg19"), ("resnet-paper", "train", "resnet152v2"),
        ("ensemble-meta", "ensemble", None))


def open_home(home: Path) -> Database:
    """The migrated database of an AGEREC_HOME."""
    return open_database(Settings.from_env({"AGEREC_HOME": str(home)}))


def png(colour: tuple[int, int, int], size: int = 16) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def confusion(rng: random.Random, n_per_class: int = 20) -> list[list[int]]:
    """A 5x5 matrix: mostly right, most mistakes one group off, 20-39/40-59 mixed most."""
    matrix = []
    for i in range(5):
        row = [0] * 5
        for _ in range(n_per_class):
            r = rng.random()
            j = i if r < 0.65 else min(4, max(0, i + (1 if r < 0.85 else -1)))
            row[j] += 1
        matrix.append(row)
    matrix[1][2] += 8  # the paper's weak spot, made the largest on purpose
    matrix[2][1] += 8
    return matrix


def metrics_from(matrix: list[list[int]]) -> dict[str, Any]:
    """The metric dict storage.runs.get_metrics returns, computed from a confusion matrix."""
    total = sum(map(sum, matrix))
    k = len(matrix)
    per_class = [matrix[i][i] / sum(matrix[i]) if sum(matrix[i]) else None for i in range(k)]
    one_off = sum(matrix[i][j] for i in range(k) for j in range(k) if abs(i - j) <= 1) / total
    accuracy = sum(matrix[i][i] for i in range(k)) / total
    return {"accuracy": accuracy, "one_off_accuracy": one_off,
            "per_class_accuracy": per_class,
            "balanced_accuracy": sum(p for p in per_class if p is not None) / k,
            "confusion_matrix": matrix,
            "confusion_matrix_normalized": [[v / sum(row) for v in row] for row in matrix],
            "macro_f1": accuracy - 0.01, "qwk": 0.8, "greyscale_accuracy": accuracy - 0.08,
            "per_gender_accuracy": {"M": accuracy + 0.02, "F": accuracy - 0.02}, "n": total,
            **trust_metrics(matrix)}


RACES = ("White", "Black", "Asian", "Indian")
TEMPERATURE = 1.3


def faces_of(matrix: list[list[int]]) -> list[dict[str, Any]]:
    """One face per count of the matrix, true class by true class: runs whose matrices
    have the same row sums hold the same faces (row, source path, true class), each with
    a gender, a race and probabilities whose confidence varies."""
    faces = []
    for true, counts in enumerate(matrix):
        for pred, count in enumerate(counts):
            for _ in range(count):
                row = len(faces)
                sure = 0.3 + 0.65 * ((row * 37) % 100) / 100
                probs = [round((1 - sure) / (len(counts) - 1), 4)] * len(counts)
                probs[pred] = round(sure, 4)
                faces.append({"row": row, "source_path": f"/data/{row}.jpg", "true": true,
                              "pred": pred, "gender": "MF"[row % 2],
                              "group_race": RACES[row % len(RACES)], "probs": probs})
    return faces


def trust_metrics(matrix: list[list[int]]) -> dict[str, Any]:
    """The intervals, per-group results and calibration the evaluation computes, of the
    faces of faces_of(matrix)."""
    import numpy as np

    from backend.evaluation.evaluate import evaluate_probs

    faces = faces_of(matrix)
    m = evaluate_probs([f["true"] for f in faces], np.array([f["probs"] for f in faces]),
                       len(matrix), genders=[f["gender"] for f in faces],
                       groups={"race": [f["group_race"] for f in faces]},
                       temperature=TEMPERATURE)
    keys = ("accuracy_ci95", "one_off_ci95", "balanced_accuracy_ci95", "per_class_ci95",
            "per_class_n", "per_group", "max_gap", "ece", "ece_calibrated", "temperature",
            "calibration")
    return {key: m[key] for key in keys}


def seed_dataset(db: Database, home: Path):
    source = get_or_create_source(db, "utkface", home / "sources" / "utkface")
    return create_dataset(db, source.id, params={"classes": "5"}, summary={},
                          class_scheme={"edges": EDGES, "labels": LABELS}, n_images=100)


def seed_run(db: Database, home: Path, dataset_id: int, name: str, kind: str,
             backbone: str | None, rng: random.Random, *, files: bool = True,
             members: tuple[int, ...] = (), preset: str = "cpu", n_per_class: int = 20,
             status: str = "succeeded"):
    """A finished run with test metrics and, with `files`, history.json, predictions.csv
    and the crop PNGs it names; a train run records its backbone and `preset`."""
    config = ({"backbone": backbone, "preset": preset, "weights": "imagenet",
               "image_size": 128, "epochs": 6} if backbone else {"method": name})
    run = create_run(db, dataset_id, kind, name, status=status, members=members,
                     config=config)
    matrix = confusion(rng, n_per_class)
    record_metrics(db, run.id, "test", metrics_from(matrix))
    if files:
        write_run_files(home / run.dir, home, matrix)
        if kind == "ensemble":  # fitted, not trained by epochs: no history
            (home / run.dir / "history.json").unlink()
    return run


def seed_prior_metrics(db: Database, run_id: int, rng: random.Random) -> dict[str, Any]:
    """Metrics of `run_id` under the source prior (scope test+prior:source), as
    `agerec evaluate --target-prior source` records them; returns them."""
    metrics = metrics_from(confusion(rng))
    metrics.update({"target_prior": {"name": "source", "weights": [0.2, 0.45, 0.2, 0.1, 0.05],
                                     "train_weights": [0.2] * 5},
                    "population_accuracy": 0.81, "population_accuracy_ci95": [0.77, 0.85],
                    "population_one_off_accuracy": 0.99,
                    "as_trained_population_accuracy": 0.74,
                    "as_trained_population_accuracy_ci95": [0.7, 0.78],
                    "as_trained_population_one_off_accuracy": 0.98})
    record_metrics(db, run_id, "test+prior:source", metrics)
    return metrics


def write_run_files(run_dir: Path, home: Path, matrix: list[list[int]]) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    history = [{"epoch": e, "loss": 1.5 / e, "val_loss": 1.6 / e, "accuracy": 0.4 + 0.05 * e,
                "val_accuracy": 0.38 + 0.05 * e, "lr": 1e-4,
                "stage": "frozen" if e <= 3 else "unfreeze-1"} for e in range(1, 7)]
    (run_dir / "history.json").write_text(json.dumps(history))
    crops = home / "cache" / "crops"
    crops.mkdir(parents=True, exist_ok=True)
    lines = ["row,source_path,crop_path,age,true,pred,gender,group_race,"
             + ",".join(f"prob_{k}" for k in range(len(matrix)))]
    for face in faces_of(matrix):
        crop = crops / f"{face['row']}.png"
        if not crop.exists():
            crop.write_bytes(png((40 * face["true"], 40 * face["pred"], 128)))
        age = EDGES[face["true"]] + face["row"] % (EDGES[face["true"] + 1] - EDGES[face["true"]])
        lines.append(f"{face['row']},{face['source_path']},{crop},{age},{face['true']},"
                     f"{face['pred']},{face['gender']},{face['group_race']},"
                     f"{','.join(map(str, face['probs']))}")
    (run_dir / "predictions.csv").write_text("\n".join(lines) + "\n")


def model_name(run) -> str:
    """The name the gradcam stage gives a run in its gallery."""
    return f"{run.config.get('backbone') or 'ensemble'}#{run.id}"


def seed_gallery(db: Database, home: Path, runs, *, name: str = "1",
                 method: str = "gradcam") -> Path:
    """A gallery folder in the layout of backend/explain/gallery.py, recorded for each of
    `runs` as the gradcam stage records it (method and model name in the meta)."""
    folder = home / "gallery" / name
    items, summary = [], []
    for run in runs:
        model = model_name(run)
        for colour in ("colour", "grey"):
            for image_id, (true, pred) in enumerate([(0, 0), (1, 2), (2, 1), (4, 4)]):
                rel = f"{model}/{colour}/{image_id}_pred_overlay.png"
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                (folder / rel).write_bytes(png((image_id * 50, 200, 80)))
                outcome = "correct" if true == pred else "misclassified"
                probs = [0.1] * 5
                probs[pred] = 0.6
                items.append({"id": image_id, "model": model, "colour": colour,
                              "group": outcome, "outcome": outcome, "true": true, "pred": pred,
                              "probs": probs, "scores": {"top10_mass": 0.4, "entropy": 0.8,
                                                         "face_share": 0.7,
                                                         "deletion_auc": 0.2,
                                                         "insertion_auc": 0.6,
                                                         "random_deletion_auc": 0.4},
                              "files": {"pred_overlay": rel, "true_overlay": rel}})
            for outcome in ("correct", "misclassified"):
                summary.append({"model": model, "colour": colour, "outcome": outcome,
                                "top10_mass": 0.4, "entropy": 0.8, "face_share": 0.7,
                                "deletion_auc": 0.2, "insertion_auc": 0.6,
                                "random_deletion_auc": 0.4, "accuracy": 0.5, "n": 2})
    manifest = {"class_names": LABELS, "items": items, "summary": summary,
                "config": {"method": method},
                "models": [{"name": model_name(r), "layer": "x", "folder": model_name(r)}
                           for r in runs]}
    (folder / "gallery.json").write_text(json.dumps(manifest))
    for run in runs:
        add_artifact(db, "gradcam", folder, run_id=run.id,
                     meta={"gallery": f"gallery/{name}/gallery.json", "method": method,
                           "model": model_name(run)})
    return folder


def seed_smoke_ensemble(home: Path) -> int:
    """A smoke pipeline's runs, newer than every other run: two smoke members and their
    ensemble, measured on 12 faces, with a gallery of the ensemble. Returns its id."""
    db = open_home(home)
    rng = random.Random(5)
    dataset = seed_dataset(db, home)
    members = [seed_run(db, home, dataset.id, backbone, "train", backbone, rng, files=False,
                        preset="smoke", n_per_class=2)
               for backbone in ("efficientnet_lite0", "dlib_face")]
    ensemble = seed_run(db, home, dataset.id, "meta", "ensemble", None, rng, files=False,
                        members=tuple(m.id for m in members), n_per_class=2)
    seed_gallery(db, home, [ensemble], name="smoke", method="occlusion")
    db.dispose()
    return ensemble.id


def seed_jobs(db: Database) -> dict[str, int]:
    """A running pipeline with two children, a failed job and a queued one."""
    parent = create_job(db, "pipeline", {"source": "utkface", "path": "/data"})
    mark_running(db, parent.id, worker="host:1")
    done = create_job(db, "preprocess", {"source": "utkface"}, parent_id=parent.id)
    mark_running(db, done.id)
    finish_job(db, done.id, "succeeded")
    child = create_job(db, "train", {"backbone": "vgg19"}, parent_id=parent.id)
    mark_running(db, child.id, worker="host:1")
    update_progress(db, child.id, current=3, total=10, stage="epoch")
    append_log(db, child.id, "epoch 3/10 loss 0.91\n")
    failed = create_job(db, "train", {"backbone": "resnet152v2"})
    mark_running(db, failed.id)
    finish_job(db, failed.id, "failed", error="ValueError: out of memory",
               traceback="Traceback (most recent call last):\n  boom\nValueError")
    queued = create_job(db, "gradcam", {"runs": [1]})
    return {"pipeline": parent.id, "preprocess": done.id, "train": child.id,
            "failed": failed.id, "queued": queued.id}


def seed_home(home: Path, *, n_runs: int = 3, gallery: bool = True, jobs: bool = True,
              ensemble_gallery: bool = True) -> dict[str, Any]:
    """Everything the pages read: a dataset, runs (the three of RUNS, then fillers up to
    n_runs, without files), a gallery and jobs. Returns the ids."""
    db = open_home(home)
    rng = random.Random(0)
    dataset = seed_dataset(db, home)
    runs = []
    for i in range(n_runs):
        name, kind, backbone = RUNS[i] if i < len(RUNS) else (f"run-{i}", "train", "vgg19")
        members = tuple(r.id for r in runs[:2]) if kind == "ensemble" else ()
        runs.append(seed_run(db, home, dataset.id, name, kind, backbone, rng,
                             files=i < len(RUNS), members=members))
    out: dict[str, Any] = {"dataset": dataset.id, "runs": [r.id for r in runs]}
    if gallery:
        out["gallery"] = seed_gallery(db, home, runs[:2])
        if ensemble_gallery and len(runs) > 2:  # the ensemble's own explanation
            out["ensemble_gallery"] = seed_gallery(db, home, runs[2:3], name="2",
                                                   method="occlusion")
    if jobs:
        out["jobs"] = seed_jobs(db)
    db.dispose()
    return out

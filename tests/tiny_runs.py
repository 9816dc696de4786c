"""Run folders of untrained tiny models (weights 'none', 32 px), written in seconds, for
tests that need a model to load and answer, not a good one; and, for the layers that
may use storage, the dataset, runs and ensemble recorded in an AGEREC_HOME."""
from __future__ import annotations

import json
from pathlib import Path

EDGES = (1, 20, 40, 60, 80, 100)
LABELS = ("1-19", "20-39", "40-59", "60-79", "80-99")
SIZE = 32  # crop and model input side


def member_config(backbone: str = "efficientnet_lite0", preset: str = "cpu") -> dict:
    """The preset's TrainConfig for `backbone` at 32 px (dlib_face: its 64 px minimum)
    with random weights, as the dict a run row and config.json hold."""
    from backend.training.config import preset_config

    size = max(SIZE, 64) if backbone == "dlib_face" else SIZE
    return preset_config(preset, backbone, image_size=size, weights="none").to_dict()


def write_member(folder: Path, backbone: str = "efficientnet_lite0", *, preset: str = "cpu",
                 seed: int = 0) -> Path:
    """A finished training run folder: config.json, scheme.json, best.weights.h5, with
    member_config's architecture and random weights."""
    import keras

    from backend.training.config import TrainConfig
    from backend.training.run_folder import build_run_model
    from backend.training.trainer import BEST_WEIGHTS

    config = TrainConfig.from_dict(member_config(backbone, preset))
    keras.utils.set_random_seed(seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config.to_dict()))
    (folder / "scheme.json").write_text(json.dumps({"edges": list(EDGES),
                                                    "labels": list(LABELS)}))
    build_run_model(config, len(LABELS)).save_weights(folder / BEST_WEIGHTS)
    return folder


def write_ensemble(folder: Path, member_names: list[str]) -> Path:
    """An averaging ensemble folder over members of the five-class scheme."""
    from backend.ensemble import save_ensemble

    save_ensemble(folder, members=member_names, n_classes=len(LABELS))
    return folder


def record_runs(home: Path, *, detector: str = "cnn", source_counts: dict | None = None) -> dict[str, int]:
    """A dataset (crops of SIZE px cut by `detector`) and, under `home`/runs, an
    efficientnet_lite0 member, a dlib_face member and their averaging ensemble, all
    succeeded; their ids as {'dataset', 'image', 'descriptor', 'ensemble'}."""
    from storage.datasets import create_dataset, get_or_create_source
    from storage.db import open_database
    from storage.runs import create_run
    from storage.settings import Settings

    db = open_database(Settings.from_env({"AGEREC_HOME": str(home)}))
    source = get_or_create_source(db, "fgnet", home / "sources" / "fgnet")
    summary = {"splits": {"train": {str(c): 10 for c in range(len(LABELS))}}}
    if source_counts is not None:
        summary["source_class_counts"] = source_counts
    dataset = create_dataset(db, source.id, params={"detector": detector, "margin": 0.25,
                                                    "image_size": SIZE},
                             summary=summary, n_images=50,
                             class_scheme={"edges": list(EDGES), "labels": list(LABELS)})
    ids = {"dataset": dataset.id}
    for key, backbone in (("image", "efficientnet_lite0"), ("descriptor", "dlib_face")):
        run = create_run(db, dataset.id, "train", backbone, status="succeeded",
                         config={**member_config(backbone), "preset": "cpu"})
        write_member(home / run.dir, backbone)
        ids[key] = run.id
    ensemble = create_run(db, dataset.id, "ensemble", "average", status="succeeded",
                          members=[ids["image"], ids["descriptor"]],
                          config={"runs": [ids["image"], ids["descriptor"]],
                                  "method": "average"})
    write_ensemble(home / ensemble.dir, [f"m#{ids['image']}", f"m#{ids['descriptor']}"])
    ids["ensemble"] = ensemble.id
    db.dispose()
    return ids

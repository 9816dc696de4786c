"""The prepared dataset on disk: one folder that training and evaluation read.

Layout of a prepared dataset folder:
    images.npy    uint8 (N, S, S, 3) face crops, row i = manifest row i
    manifest.csv  source_path, crop_path, age, gender ('M'/'F'/''), label, split, copy_of
                  (-1, or the row of the original this row is an augmented copy of,
                  when preprocessing oversampled), group_<attribute> (a group label
                  per face from the reader, e.g. group_race; '' when unknown)
    config.json   the preprocessing config that made it
    summary.json  split counts per class, the source's class counts before balancing,
                  gender per class, skipped counts
    scheme.json   the class scheme (edges and labels)
    unused.csv    detected faces sampling or balancing left out, and why (dropped_by)
    skipped.csv   every source item left out: item, reason, detail (names not in UTF-8
                  are written with \\xNN escapes)
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backend.data.labelled_images import GROUP_PREFIX, Skipped, group_columns, printable

SPLITS = ("train", "val", "test")
MANIFEST_COLUMNS = ("source_path", "crop_path", "age", "gender", "label", "split")


@dataclass(frozen=True)
class PreparedData:
    """A prepared dataset loaded for training: images stay memory-mapped."""

    root: Path
    images: np.ndarray  # uint8 (N, S, S, 3), memory-mapped
    manifest: pd.DataFrame
    scheme: dict[str, Any]  # {"edges": [...], "labels": [...]}
    config: dict[str, Any]

    @property
    def labels(self) -> np.ndarray:
        return self.manifest["label"].to_numpy(dtype=np.int64)

    @property
    def genders(self) -> np.ndarray:
        return self.manifest["gender"].fillna("").astype(str).to_numpy()

    def groups(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """The group labels of some manifest rows, by attribute: gender ('M', 'F', '')
        and every group_<attribute> column."""
        out = {"gender": self.genders[rows]}
        for column in self.manifest.columns:
            if str(column).startswith(GROUP_PREFIX):
                labels = self.manifest[column].fillna("").astype(str).to_numpy()
                out[str(column)[len(GROUP_PREFIX):]] = labels[rows]
        return out

    @property
    def n_classes(self) -> int:
        return len(self.scheme["edges"]) - 1

    @property
    def image_size(self) -> int:
        return int(self.images.shape[1])

    def split_indices(self, split: str) -> np.ndarray:
        """Row indices of one split, in manifest order."""
        if split not in SPLITS:
            raise ValueError(f"The 'split' parameter must be one of {set(SPLITS)}. Got {split!r} instead.")
        return np.flatnonzero(self.manifest["split"].to_numpy() == split)

    def subset(self, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(images, labels, row indices) of one split; images are read into memory."""
        idx = self.split_indices(split)
        return np.asarray(self.images[idx]), self.labels[idx], idx


def write_prepared(root: Path, images: np.ndarray, manifest: pd.DataFrame,
                   scheme: dict[str, Any], config: dict[str, Any],
                   summary: dict[str, Any]) -> Path:
    """Write a prepared dataset folder atomically enough: arrays first, JSON last."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    missing = [c for c in MANIFEST_COLUMNS if c not in manifest.columns]
    if missing:
        raise ValueError(f"manifest is missing columns {missing}; required: {list(MANIFEST_COLUMNS)}")
    if len(images) != len(manifest):
        raise ValueError(f"images has {len(images)} rows but manifest has {len(manifest)}")
    np.save(root / "images.npy", np.ascontiguousarray(images, dtype=np.uint8))
    manifest.to_csv(root / "manifest.csv", index=False)
    for name, payload in (("scheme", scheme), ("config", config), ("summary", summary)):
        (root / f"{name}.json").write_text(json.dumps(payload, indent=2, sort_keys=True))
    return root


def load_prepared(root: Path) -> PreparedData:
    """Open a prepared dataset folder; images are memory-mapped, not copied."""
    root = Path(root)
    if not (root / "manifest.csv").exists():
        raise FileNotFoundError(f"no prepared dataset at {root} (manifest.csv is missing)")
    manifest = pd.read_csv(root / "manifest.csv", keep_default_na=False,
                           dtype={"gender": str, "split": str})
    images = np.load(root / "images.npy", mmap_mode="r")
    scheme = json.loads((root / "scheme.json").read_text())
    config = json.loads((root / "config.json").read_text())
    return PreparedData(root=root, images=images, manifest=manifest, scheme=scheme, config=config)


def write_unused(out_dir: Path, kept, crop_paths, labels, genders, unused: np.ndarray,
                 sampled: np.ndarray, kept_after_gender: np.ndarray) -> None:
    """Detected faces left out by sampling or balancing: with the test split they form
    a natural-frequency test set."""
    in_sample, after_gender = set(sampled.tolist()), set(kept_after_gender.tolist())
    frame = faces_frame(kept, crop_paths, labels, genders, unused)
    frame["dropped_by"] = ["max_faces" if i not in in_sample else
                           "downsample" if i in after_gender else "gender_rebalance"
                           for i in unused]
    for name, values in group_columns([kept[i] for i in unused]).items():
        frame[name] = values
    frame.to_csv(out_dir / "unused.csv", index=False)


def faces_frame(kept, crop_paths, labels, genders, which: np.ndarray) -> pd.DataFrame:
    """source_path, crop_path, age, gender and label of the detected faces `which`."""
    return pd.DataFrame({
        "source_path": [kept[i].path for i in which],
        "crop_path": [crop_paths[i] for i in which],
        "age": [kept[i].age for i in which],
        "gender": genders[which] if len(which) else [],
        "label": labels[which] if len(which) else [],
    })


def write_skipped(out_dir: Path, skipped: list[Skipped]) -> None:
    """Every skipped item with its reason and a readable detail."""
    rows = [{"item": printable(s.item), "reason": s.reason, "detail": printable(s.detail)}
            for s in skipped]
    pd.DataFrame(rows, columns=["item", "reason", "detail"]).to_csv(out_dir / "skipped.csv",
                                                                     index=False)

"""A natural-distribution test set: faces no member trained on, at the source's real
class frequencies (the balanced test split over-represents the rare age groups)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from backend.data.natural import natural_sample  # noqa: F401 (re-exported)


def _originals(manifest: pd.DataFrame) -> pd.DataFrame:
    """The manifest without oversampling's augmented copies, and without test faces that
    have a copy in the train split (the leak mode): each face once, never trained on."""
    from backend.data.oversample import leaked_rows

    if "copy_of" not in manifest.columns:
        return manifest
    copy_of = manifest["copy_of"].to_numpy()
    leaked = leaked_rows(manifest["split"].to_numpy(), copy_of)
    keep = (copy_of < 0) & ~np.isin(np.arange(len(manifest)), leaked)
    return manifest[keep]


def natural_test_frame(dataset_dir, source_label_counts: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Rows of the prepared dataset's test split plus its unused rows (never trained on),
    sampled to the source's class frequencies; the set preprocessing reserved
    (natural.csv, with keep_all_faces) when there is one."""
    if Path(f"{dataset_dir}/natural.csv").exists():
        return pd.read_csv(f"{dataset_dir}/natural.csv", keep_default_na=False)
    manifest = _originals(pd.read_csv(f"{dataset_dir}/manifest.csv", keep_default_na=False))
    unused = pd.read_csv(f"{dataset_dir}/unused.csv", keep_default_na=False)
    pool = pd.concat([manifest[manifest["split"] == "test"], unused], ignore_index=True)
    chosen = natural_sample(pool["label"].to_numpy(), source_label_counts, seed)
    return pool.iloc[chosen].reset_index(drop=True)


def source_class_counts(dataset_dir) -> np.ndarray:
    """The source's real class mix: every parsable face of the scheme's ages in a prepared
    dataset (used and unused rows), before balancing."""
    root = Path(dataset_dir)
    manifest = pd.read_csv(root / "manifest.csv", keep_default_na=False)
    if "copy_of" in manifest.columns:
        manifest = manifest[manifest["copy_of"] < 0]  # each face once, not its copies
    unused = pd.read_csv(root / "unused.csv", keep_default_na=False)
    scheme = json.loads((root / "scheme.json").read_text())
    labels = np.concatenate([manifest["label"].to_numpy(), unused["label"].to_numpy()])
    return np.bincount(labels, minlength=len(scheme["edges"]) - 1)


def natural_test_set(dataset_dir, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The natural test set of a prepared dataset: its rows, its uint8 crops, and the
    source class counts it was sampled to."""
    from backend.data.images import load_image

    counts = source_class_counts(dataset_dir)
    frame = natural_test_frame(dataset_dir, counts, seed)
    images = np.stack([load_image(p) for p in frame["crop_path"]])
    return frame, images, counts

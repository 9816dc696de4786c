"""The paper's preprocessing (section 3.1) as one function from a raw source to a
prepared dataset folder: read, filter ages, crop faces, rebalance gender,
down-sample, split, write."""
from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backend.data.balance import downsample, rebalance_gender, stratified_split, summarize
from backend.data.classes import scheme_from
from backend.data.crop_cache import CropSpec, extract_crops
from backend.data.faces import DETECTORS
from backend.data.images import load_image
from backend.data.readers import SOURCES, read_source
from backend.data.records import LabelledImage, Skipped
from backend.dataset import write_prepared
from backend.params import check_choice, check_float, check_int

Progress = Callable[[int, int, str], None]
FUNC = "preprocess"


class PreprocessCancelled(RuntimeError):
    """Raised when the cancel check asked preprocessing to stop."""


@dataclass(frozen=True)
class PreprocessConfig:
    """Every preprocessing choice; the defaults are the paper's."""

    source: str  # one of SOURCES
    path: str  # image folder (utkface, fgnet), image root (imdb-wiki) or the CSV file (csv)
    meta: str | None = None  # imdb-wiki: the wiki.mat / imdb.mat file
    classes: str = "5"  # '5' (20-year bins), '8', or explicit edges like '1,20,40,60,100'
    image_size: int = 128  # crop side in pixels, as in the paper
    detector: str = "cnn"  # dlib's CNN face detector, as in the paper; 'none' for pre-cropped faces
    margin: float = 0.25  # 25% margin around the detected face, as in the paper
    min_age: int = 1  # ages below are dropped (the paper keeps 1-99)
    max_age: int = 99  # ages above are dropped
    rebalance_gender: bool = True  # 50/50 gender inside every class
    downsample_fraction: float = 0.6  # cap every class at floor(0.6 x mean class size)
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)  # stratified train/val/test
    limit: int | None = None  # take a seeded random sample of this many records first
    seed: int = 0  # one seed for sampling, balancing and splitting
    workers: int | None = None  # face-detection processes; None = one per core

    def __post_init__(self):
        check_choice(self.source, SOURCES, param="source", func=FUNC)
        check_choice(self.detector, DETECTORS, param="detector", func=FUNC)
        check_int(self.image_size, param="image_size", func=FUNC, low=16, high=1024)
        check_float(self.margin, param="margin", func=FUNC, low=0.0, high=2.0)
        check_int(self.min_age, param="min_age", func=FUNC, low=0, high=200)
        check_int(self.max_age, param="max_age", func=FUNC, low=self.min_age, high=200)
        check_float(self.downsample_fraction, param="downsample_fraction", func=FUNC,
                    low=0.01, high=10.0)
        if self.limit is not None:
            check_int(self.limit, param="limit", func=FUNC, low=1)
        check_int(self.seed, param="seed", func=FUNC, low=0)
        scheme_from(self.classes)  # raises on a bad class spec

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PreprocessConfig":
        d = dict(d)
        if "split" in d:
            d["split"] = tuple(d["split"])
        return cls(**d)


@dataclass
class PreprocessResult:
    """What `prepare` made: the summary that goes to storage and to `--json`."""

    out_dir: Path
    n_images: int
    splits: dict[str, dict[str, int]]
    gender_by_class: dict[str, dict[str, int]]
    skipped: dict[str, int]
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    crop_stats: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"n_images": self.n_images, "splits": self.splits,
                "gender_by_class": self.gender_by_class, "skipped": self.skipped,
                "notes": self.notes, "timings": self.timings, "crop_stats": self.crop_stats}


def prepare(config: PreprocessConfig, out_dir: Path, cache_dir: Path, *,
            progress: Progress | None = None, cancel: Callable[[], bool] | None = None
            ) -> PreprocessResult:
    """Turn a raw labelled source into a balanced, split, prepared dataset folder."""
    progress = progress or (lambda current, total, stage: None)
    cancel = cancel or (lambda: False)
    timings: dict[str, float] = {}
    scheme = scheme_from(config.classes)
    skipped: list[Skipped] = []
    notes: list[str] = []

    # Read the labels; a reader never stops on one bad name, it reports it.
    t0 = time.perf_counter()
    progress(0, 1, "read")
    read = read_source(config.source, config.path, config.meta)
    skipped += read.skipped
    notes += [f"repaired {r.item}: {r.detail}" for r in read.repaired]
    records = _filter_ages(read.records, config, scheme, skipped)
    records = _sample(records, config.limit, config.seed)
    timings["read"] = time.perf_counter() - t0
    progress(1, 1, "read")

    # Crop every face once; the content-hash cache makes reruns skip detection.
    t0 = time.perf_counter()
    spec = CropSpec(detector=config.detector, size=config.image_size, margin=config.margin)
    outcomes = extract_crops([r.path for r in records], cache_dir, spec, workers=config.workers,
                             progress=lambda done, total: progress(done, total, "detect"),
                             cancel=cancel)
    if cancel():
        raise PreprocessCancelled("preprocessing was cancelled during face detection")
    crop_stats = dict(Counter(o.status for o in outcomes))
    kept, crop_paths = [], []
    for record, outcome in zip(records, outcomes):
        if outcome.crop_path is None:
            skipped.append(Skipped(item=record.path, reason=outcome.status, detail=outcome.detail))
        else:
            kept.append(record)
            crop_paths.append(outcome.crop_path)
    timings["detect"] = time.perf_counter() - t0

    # Balance exactly as the paper: gender 50/50 per class, then cap each class.
    t0 = time.perf_counter()
    progress(0, 1, "balance")
    labels = scheme.assign(np.array([r.age for r in kept], dtype=np.int64))
    genders = np.array([r.gender or "" for r in kept], dtype=object)
    index = np.arange(len(kept))
    has_gender = bool(np.any(genders != ""))
    if config.rebalance_gender and has_gender:
        before = set(index.tolist())
        index = rebalance_gender(labels, genders, config.seed)
        dropped_unknown = [i for i in before - set(index.tolist()) if genders[i] == ""]
        skipped += [Skipped(kept[i].path, "unknown_gender",
                            "gender is unknown, so the 50/50 gender rebalancing cannot keep it")
                    for i in dropped_unknown]
    elif config.rebalance_gender:
        notes.append(f"gender rebalancing skipped: source {config.source!r} has no gender labels")
    kept_after_gender = index
    sub = downsample(labels[index], config.downsample_fraction, config.seed,
                     genders=genders[index] if (config.rebalance_gender and has_gender) else None)
    index = index[sub]
    splits = stratified_split(labels[index], config.split, config.seed)
    timings["balance"] = time.perf_counter() - t0
    progress(1, 1, "balance")

    # Write the arrays the trainer memory-maps, plus the unused rows for a natural test set.
    t0 = time.perf_counter()
    images = _load_crops([crop_paths[i] for i in index], config.image_size, progress, cancel)
    manifest = pd.DataFrame({
        "source_path": [kept[i].path for i in index],
        "crop_path": [crop_paths[i] for i in index],
        "age": [kept[i].age for i in index],
        "gender": genders[index],
        "label": labels[index],
        "split": splits,
    })
    summary_counts = summarize(labels[index], genders[index], splits, scheme.n_classes)
    result = PreprocessResult(
        out_dir=Path(out_dir), n_images=len(index), splits=summary_counts["splits"],
        gender_by_class=summary_counts["gender_by_class"],
        skipped=dict(Counter(s.reason for s in skipped)), notes=notes, timings=timings,
        crop_stats=crop_stats)
    write_prepared(Path(out_dir), images, manifest, scheme.to_dict(), config.to_dict(),
                   result.summary())
    _write_unused(Path(out_dir), kept, crop_paths, labels, genders,
                  np.setdiff1d(np.arange(len(kept)), index), kept_after_gender)
    _write_skipped(Path(out_dir), skipped)
    timings["write"] = time.perf_counter() - t0
    (Path(out_dir) / "summary.json").write_text(json.dumps(result.summary(), indent=2))
    return result


def _filter_ages(records: list[LabelledImage], config: PreprocessConfig, scheme,
                 skipped: list[Skipped]) -> list[LabelledImage]:
    """Keep ages inside [min_age, max_age] and inside the class scheme's edges."""
    ages = np.array([r.age for r in records], dtype=np.int64)
    labels = scheme.assign(ages) if len(ages) else ages
    kept = []
    for r, label in zip(records, labels):
        if not config.min_age <= r.age <= config.max_age:
            skipped.append(Skipped(r.path, "age_out_of_range",
                                   f"age {r.age} is outside the allowed {config.min_age}-{config.max_age}"))
        elif label < 0:
            skipped.append(Skipped(r.path, "age_out_of_range",
                                   f"age {r.age} is outside the class edges {list(scheme.edges)}"))
        else:
            kept.append(r)
    return kept


def _sample(records: list[LabelledImage], limit: int | None, seed: int) -> list[LabelledImage]:
    """A seeded random sample, kept in the reader's order so reruns match."""
    if limit is None or limit >= len(records):
        return records
    chosen = np.sort(np.random.default_rng(seed).choice(len(records), size=limit, replace=False))
    return [records[i] for i in chosen]


def _load_crops(paths: list[str], size: int, progress: Progress,
                cancel: Callable[[], bool]) -> np.ndarray:
    """Stack cached crops into one uint8 array (they are already size x size)."""
    images = np.zeros((len(paths), size, size, 3), dtype=np.uint8)
    for i, path in enumerate(paths):
        if i % 256 == 0:
            progress(i, len(paths), "write")
            if cancel():
                raise PreprocessCancelled("preprocessing was cancelled while writing arrays")
        images[i] = load_image(path)
    progress(len(paths), len(paths), "write")
    return images


def _write_unused(out_dir: Path, kept, crop_paths, labels, genders, unused: np.ndarray,
                  kept_after_gender: np.ndarray) -> None:
    """Rows left out by balancing: with the test split they form a natural-frequency test set."""
    after_gender = set(kept_after_gender.tolist())
    frame = pd.DataFrame({
        "source_path": [kept[i].path for i in unused],
        "crop_path": [crop_paths[i] for i in unused],
        "age": [kept[i].age for i in unused],
        "gender": genders[unused] if len(unused) else [],
        "label": labels[unused] if len(unused) else [],
        "dropped_by": ["downsample" if i in after_gender else "gender_rebalance"
                       for i in unused],
    })
    frame.to_csv(out_dir / "unused.csv", index=False)


def _write_skipped(out_dir: Path, skipped: list[Skipped]) -> None:
    """Every skipped item with its reason and a readable detail."""
    pd.DataFrame([asdict(s) for s in skipped], columns=["item", "reason", "detail"]).to_csv(
        out_dir / "skipped.csv", index=False)

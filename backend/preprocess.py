"""The paper's preprocessing (section 3.1) as one function from a raw source to a
prepared dataset folder: read, filter ages, crop faces, sample, rebalance gender,
down-sample, split, optionally oversample, write."""
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

from backend.data.balance import (SPLITS, downsample, rebalance_gender, split_counts,
                                   stratified_split, summarize)
from backend.data.classes import scheme_from
from backend.data.crop_cache import CropSpec, extract_crops
from backend.data.faces import DETECTORS, MIN_FACE_SIDE
from backend.data.images import load_image
from backend.data.natural import reserve_natural
from backend.data.oversample import (OVERSAMPLE_MODES, augmented_copies, copy_sources,
                                     fill_copies)
from backend.data.readers import SOURCES, read_source
from backend.data.labelled_images import LabelledImage, Skipped, group_columns, printable
from backend.dataset import faces_frame, write_prepared, write_skipped, write_unused
from backend.params import InvalidParameterError, check_bool, check_choice, check_float, check_int

Progress = Callable[[int, int, str], None]
FUNC = "preprocess"
# IMDB-WIKI's own face-detector filters, as the reader applies them by default (ours:
# the paper states no such filter; the paper pipeline relaxes them, docs/paper-fidelity.md).
FACE_FILTERS = {"min_face_score": 1.0, "allow_second_face": False}


class PreprocessCancelled(RuntimeError):
    """Raised when the cancel check asked preprocessing to stop."""


class NoUsableImages(ValueError):
    """Every image of the source was skipped: there is no dataset to write."""

    def __init__(self, path: str, read: int, skipped: list[Skipped], faces: int = 0):
        reasons = Counter(s.reason for s in skipped)
        shown = ", ".join(f"{reason}: {n}" for reason, n in sorted(reasons.items())) or "none"
        # Faces were found, but too few per class (and gender) survive the balancing.
        balanced = (f"; the {faces} usable faces are too few per class and gender for the "
                    "balancing to keep any (add images)") if faces else ""
        super().__init__(f"no usable image in {path!r}: {read} labelled images read, none "
                         f"kept (skipped: {shown}{balanced}); nothing was written or "
                         "registered")


@dataclass(frozen=True)
class PreprocessConfig:
    """Every preprocessing choice; the defaults are the paper's unless a comment says
    otherwise (docs/paper-fidelity.md has the whole comparison)."""

    source: str  # one of SOURCES
    path: str  # image folder (utkface, fgnet), image root (imdb-wiki) or the CSV file (csv)
    meta: str | None = None  # imdb-wiki: the wiki.mat / imdb.mat file
    classes: str = "5"  # '5' (20-year bins), '8', or explicit edges like '1,20,40,60,100'
    image_size: int = 128  # crop side in pixels, as in the paper
    # Ours: a face (with detector 'none', a photo) smaller than this on its shorter side
    # is skipped as 'too_small' instead of being blown up to image_size.
    min_face_side: int = MIN_FACE_SIDE
    detector: str = "cnn"  # dlib's CNN face detector, as in the paper; 'none' for pre-cropped faces
    margin: float = 0.25  # 25% margin around the detected face, as in the paper
    min_age: int = 1  # ages below are dropped (the paper keeps 1-99)
    max_age: int = 99  # ages above are dropped
    rebalance_gender: bool = True  # 50/50 gender inside every class
    downsample_fraction: float = 0.6  # cap every class at floor(0.6 x mean class size)
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)  # stratified train/val/test
    # Two samples: `limit` draws source records BEFORE detection (to save detection
    # time), `max_faces` draws from the faces detection found (the paper's 42,000).
    limit: int | None = None  # a seeded sample of this many source records, before detection
    max_faces: int | None = None  # a seeded sample of this many detected faces; None = all
    # imdb-wiki only (None for other sources; None for imdb-wiki means 1.0 / False): the
    # dataset's own face-detector filters. The paper states none; these defaults are ours.
    min_face_score: float | None = None  # drop photos whose face_score is below this
    allow_second_face: bool | None = None  # keep photos where a second face was found
    oversample: str = "none"  # 'none' (paper: not stated how), 'train', 'before_split_leak'
    # Ours, not the paper's: after the balanced split, reserve the natural set (natural.csv)
    # and add every other face balancing left out to the train split (train it with
    # class_weights='balanced'). Val and test stay the balanced ones.
    keep_all_faces: bool = False
    seed: int = 0  # one seed for sampling, balancing and splitting
    workers: int | None = None  # face-detection processes; None = one per core

    def __post_init__(self):
        check_choice(self.source, SOURCES, param="source", func=FUNC)
        check_choice(self.detector, DETECTORS, param="detector", func=FUNC)
        check_int(self.image_size, param="image_size", func=FUNC, low=16, high=1024)
        check_int(self.min_face_side, param="min_face_side", func=FUNC, low=0, high=4096)
        check_float(self.margin, param="margin", func=FUNC, low=0.0, high=2.0)
        check_int(self.min_age, param="min_age", func=FUNC, low=0, high=200)
        check_int(self.max_age, param="max_age", func=FUNC, low=self.min_age, high=200)
        check_float(self.downsample_fraction, param="downsample_fraction", func=FUNC,
                    low=0.01, high=10.0)
        for name in ("limit", "max_faces"):
            if getattr(self, name) is not None:
                check_int(getattr(self, name), param=name, func=FUNC, low=1)
        check_int(self.seed, param="seed", func=FUNC, low=0)
        check_choice(self.oversample, OVERSAMPLE_MODES, param="oversample", func=FUNC)
        check_bool(self.keep_all_faces, param="keep_all_faces", func=FUNC)
        if self.keep_all_faces and self.oversample != "none":
            raise InvalidParameterError("oversample", FUNC, "'none' with keep_all_faces (extra "
                                        "faces replace copies)", self.oversample)
        scheme_from(self.classes)  # raises on a bad class spec
        self._check_face_filters()

    def _check_face_filters(self) -> None:
        """imdb-wiki: fill in the reader's defaults, so the record says what was applied.
        Other sources have no face scores: a filter there is None (a value that changes
        nothing, the default, is accepted and dropped; any other is a mistake)."""
        for name, default in FACE_FILTERS.items():
            given = getattr(self, name)
            check = check_float if name == "min_face_score" else check_bool
            value = check(default if given is None else given, param=name, func=FUNC)
            if self.source != "imdb-wiki":
                if value != default:
                    raise InvalidParameterError(name, FUNC, f"unset for source {self.source!r} "
                                                "(it filters imdb-wiki face scores)", given)
                value = None
            object.__setattr__(self, name, value)

    def reader_options(self) -> dict[str, Any]:
        """The options this config passes to the source's reader."""
        if self.source != "imdb-wiki":
            return {}
        return {"min_face_score": self.min_face_score, "allow_second_face": self.allow_second_face}

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
    # Every usable face per class before balancing: the source's real class mix, which
    # `--target-prior source` corrects predictions to.
    source_class_counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    crop_stats: dict[str, int] = field(default_factory=dict)
    copies: dict[str, int] = field(default_factory=dict)  # augmented copies per split (oversample)

    def summary(self) -> dict[str, Any]:
        return {"n_images": self.n_images, "splits": self.splits,
                "gender_by_class": self.gender_by_class, "skipped": self.skipped,
                "source_class_counts": self.source_class_counts,
                "notes": self.notes, "timings": self.timings, "crop_stats": self.crop_stats,
                "augmented_copies": self.copies}


def prepare(config: PreprocessConfig, out_dir: Path, cache_dir: Path, *,
            progress: Progress | None = None, cancel: Callable[[], bool] | None = None,
            max_pixels: int | None = None) -> PreprocessResult:
    """Turn a raw labelled source into a balanced, split, prepared dataset folder.

    Photos of more than `max_pixels` pixels are skipped unread; NoUsableImages when no
    image is left to write (nothing is written then)."""
    progress = progress or (lambda current, total, stage: None)
    cancel = cancel or (lambda: False)
    timings: dict[str, float] = {}
    scheme = scheme_from(config.classes)
    skipped: list[Skipped] = []
    notes: list[str] = []

    # Read the labels; a reader never stops on one bad name, it reports it.
    t0 = time.perf_counter()
    progress(0, 1, "read")
    read = read_source(config.source, config.path, config.meta, **config.reader_options())
    skipped += read.skipped
    notes += [printable(f"repaired {r.item}: {r.detail}") for r in read.repaired]
    records = _filter_ages(read.records, config, scheme, skipped)
    records = _sample(records, config.limit, config.seed)
    timings["read"] = time.perf_counter() - t0
    progress(1, 1, "read")

    # Crop every face once; the content-hash cache makes reruns skip detection.
    t0 = time.perf_counter()
    spec = CropSpec(detector=config.detector, size=config.image_size, margin=config.margin,
                    min_face_side=config.min_face_side, max_pixels=max_pixels)
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
    if not kept:
        raise NoUsableImages(config.path, len(read.records), skipped)

    # Sample, then balance exactly as the paper: gender 50/50 per class, then cap each class.
    t0 = time.perf_counter()
    progress(0, 1, "balance")
    labels = scheme.assign(np.array([r.age for r in kept], dtype=np.int64))
    genders = np.array([r.gender or "" for r in kept], dtype=object)
    # The paper's 42,000 are faces detection found, so max_faces samples after it.
    index = _sample_index(len(kept), config.max_faces, config.seed)
    if len(index) < len(kept):
        notes.append(f"max_faces={config.max_faces}: {len(index)} of {len(kept)} "
                     "detected faces sampled")
    sampled = index
    gendered = config.rebalance_gender and bool(np.any(genders != ""))
    if gendered:
        balanced = index[rebalance_gender(labels[index], genders[index], config.seed)]
        skipped += [Skipped(kept[i].path, "unknown_gender",
                            "gender is unknown, so the 50/50 gender rebalancing cannot keep it")
                    for i in np.setdiff1d(index, balanced) if genders[i] == ""]
        index = balanced
    elif config.rebalance_gender:
        notes.append(f"gender rebalancing skipped: source {config.source!r} has no gender labels")
    kept_after_gender = index
    index = index[downsample(labels[index], config.downsample_fraction, config.seed,
                             genders=genders[index] if gendered else None)]
    rows, splits, copy_of = _split_and_oversample(labels[index], config)
    notes += _copy_notes(config.oversample, splits, copy_of)
    timings["balance"] = time.perf_counter() - t0
    progress(1, 1, "balance")

    row_kept = index[rows]  # the detected face behind each manifest row
    if len(row_kept) == 0:
        raise NoUsableImages(config.path, len(read.records), skipped, faces=len(kept))
    unused = np.setdiff1d(np.arange(len(kept)), index)
    natural = None
    if config.keep_all_faces:
        natural, extra = reserve_natural(labels, row_kept[splits == "test"], unused,
                                         scheme.n_classes, config.seed)
        notes.append(f"keep_all_faces: {len(extra)} faces balancing left out join the train "
                     f"split; {len(natural)} faces form the natural set (natural.csv)")
        row_kept = np.concatenate([row_kept, extra])
        splits = np.concatenate([splits, np.full(len(extra), "train")])
        copy_of = np.concatenate([copy_of, np.full(len(extra), -1)])
        unused = np.setdiff1d(unused, extra)

    # Write the arrays the trainer memory-maps, plus the unused rows for a natural test set.
    t0 = time.perf_counter()
    images = _load_crops([crop_paths[i] for i in row_kept], config.image_size, progress, cancel)
    is_copy = copy_of >= 0
    if is_copy.any():
        # Copies are the class-conditional augmentation of their original, made once.
        images[is_copy] = augmented_copies(images[is_copy], labels[row_kept][is_copy],
                                           np.bincount(labels[index], minlength=scheme.n_classes),
                                           seed=config.seed)
    manifest = pd.DataFrame({
        "source_path": [kept[i].path for i in row_kept],
        "crop_path": [crop_paths[i] for i in row_kept],
        "age": [kept[i].age for i in row_kept],
        "gender": genders[row_kept],
        "label": labels[row_kept],
        "split": splits,
        "copy_of": copy_of,
        **group_columns([kept[i] for i in row_kept]),
    })
    if config.keep_all_faces:
        manifest["extra"] = np.arange(len(row_kept)) >= len(rows)  # not in the balanced set
    summary_counts = summarize(labels[row_kept], genders[row_kept], splits, scheme.n_classes)
    result = PreprocessResult(
        out_dir=Path(out_dir), n_images=len(row_kept), splits=summary_counts["splits"],
        gender_by_class=summary_counts["gender_by_class"],
        skipped=dict(Counter(s.reason for s in skipped)),
        source_class_counts=_class_counts(labels, scheme.n_classes), notes=notes,
        timings=timings, crop_stats=crop_stats,
        copies={split: int(np.sum(is_copy & (splits == split))) for split in SPLITS})
    write_prepared(Path(out_dir), images, manifest, scheme.to_dict(), config.to_dict(),
                   result.summary())
    write_unused(Path(out_dir), kept, crop_paths, labels, genders, unused, sampled,
                  kept_after_gender)
    if natural is not None:
        faces_frame(kept, crop_paths, labels, genders, natural).to_csv(
            Path(out_dir) / "natural.csv", index=False)
    write_skipped(Path(out_dir), skipped)
    timings["write"] = time.perf_counter() - t0
    (Path(out_dir) / "summary.json").write_text(json.dumps(result.summary(), indent=2))
    return result


def _class_counts(labels: np.ndarray, n_classes: int) -> dict[str, int]:
    """{"0": n, ...}: faces per class, every class present (the layout of `splits`)."""
    return {str(c): int(n) for c, n in enumerate(np.bincount(labels, minlength=n_classes))}


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
    return [records[i] for i in _sample_index(len(records), limit, seed)]


def _sample_index(n: int, size: int | None, seed: int) -> np.ndarray:
    """Sorted indices of a seeded random sample of `size` of n items (all when None or >= n)."""
    if size is None or size >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def _split_and_oversample(labels: np.ndarray, config: PreprocessConfig
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stratified split with the copies `config.oversample` asks for.

    Returns, one entry per manifest row (the balanced faces, then their copies): the
    position in `labels` of the face behind the row, its split, and `copy_of`
    (-1 for an original, else the row of the original it copies).
    """
    n = len(labels)
    # Under-cap classes are filled to the size the cap left the largest class at.
    target = int(np.bincount(labels).max()) if n else 0
    if config.oversample == "before_split_leak":
        # The paper's set-up: copies join before the split and are dealt to every split.
        copied = fill_copies(labels, target, config.seed)
        rows = np.concatenate([np.arange(n), copied])
        splits = stratified_split(labels[rows], config.split, config.seed)
        return rows, splits, copy_sources(n, copied)
    splits = stratified_split(labels, config.split, config.seed)
    copied = np.empty(0, dtype=np.int64)
    if config.oversample == "train":
        # Only train faces are copied, up to the largest class's train count.
        train_target = int(split_counts(target, config.split)[0])
        copied = fill_copies(labels, train_target, config.seed, eligible=splits == "train")
    rows = np.concatenate([np.arange(n), copied])
    splits = np.concatenate([splits, np.full(len(copied), "train")])
    return rows, splits, copy_sources(n, copied)


def _copy_notes(mode: str, splits: np.ndarray, copy_of: np.ndarray) -> list[str]:
    """A readable line on where the augmented copies went (none without oversampling)."""
    if mode == "none":
        return []
    copies = Counter(splits[copy_of >= 0].tolist())
    where = ", ".join(f"{split} {copies.get(split, 0)}" for split in SPLITS)
    note = f"oversample={mode!r}: {sum(copies.values())} augmented copies ({where})"
    if mode == "before_split_leak":
        note += ("; copies were made before the split, so val and test hold copies of "
                 "training faces (the paper's leak): their accuracy is inflated")
    return [note]


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

"""Frozen-backbone features, computed once and cached as .npy.

With a frozen backbone and no saliency front end, the backbone's output for an
image never changes, so the expensive part of every epoch can be done once per
(dataset, split, backbone, image size, weights, pass). Pass 0 is the clean
images; passes 1.. are augmented copies (seeded, so a pass is reproducible).
A dense head then trains on the cached vectors in seconds per epoch.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from backend.data.augment import AugmentConfig
from backend.data.input_pipeline import make_dataset
from backend.dataset import PreparedData
from backend.models.head import HeadConfig, dense_head
from backend.params import check_int
from backend.training.callbacks import TrainingCancelled
from backend.training.config import TrainConfig

# A featurizer: (images, labels, rows, split, pass index) -> one feature row per image.
Featurizer = Callable[[np.ndarray, np.ndarray, np.ndarray, str, int], np.ndarray]
# (stage name, pass index) -> a (done, total) progress hook that also polls cancel.
ProgressFor = Callable[[str, int], Callable[[int, "int | None"], None]]


def feature_cache_key(dataset_dir: str | os.PathLike, split: str, backbone: str, image_size: int,
                      weights: str, pass_index: int, *, augment: AugmentConfig | None = None,
                      seed: int = 0, rows: np.ndarray | None = None, kind: str = "",
                      extra: dict[str, Any] | None = None) -> str:
    """A short hash naming one cached feature array.

    The dataset is identified by its folder and images.npy's size and mtime (a
    rewritten dataset gets new keys); augmented passes add the augmentation and
    seed, random weights add the seed (they decide the random backbone). `kind`
    names a pass that is not the default of its index ('mirror'); `extra` adds what
    else decides the array (e.g. the block a backbone is split at).
    """
    root = Path(dataset_dir).resolve()
    images = root / "images.npy"
    stat = images.stat() if images.exists() else None
    parts: dict[str, Any] = {
        "dataset": str(root), "images": [stat.st_size, stat.st_mtime_ns] if stat else None,
        "split": split, "backbone": backbone, "image_size": int(image_size),
        "weights": _weights_identity(weights), "pass": int(pass_index),
    }
    if rows is not None:
        parts["rows"] = hashlib.sha256(np.asarray(rows, np.int64).tobytes()).hexdigest()
    if pass_index > 0:
        parts["augment"] = repr(augment)
    if pass_index > 0 or weights == "none":
        parts["seed"] = int(seed)
    if kind:
        parts["kind"] = kind
    if extra:
        parts.update({f"extra_{k}": v for k, v in sorted(extra.items())})
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def extract_features(extractor: keras.Model, images: np.ndarray | Iterable, batch_size: int = 64,
                     cache_path: str | os.PathLike | None = None,
                     progress: Callable[[int, int], None] | None = None,
                     cancel: Callable[[], bool] | None = None) -> np.ndarray:
    """Pooled features (N, F) float32 of float [0, 1] images, read from `cache_path` when
    it exists, else computed and saved there.

    `images` is an array (N, S, S, 3), uint8 or float [0, 1], at the extractor's size,
    or an iterable of float batches (e.g. a
    tf.data.Dataset, in order). `progress(done_batches, total_batches)`; `cancel()`
    is polled every batch and raises TrainingCancelled (nothing is cached then).
    """
    cache = Path(cache_path) if cache_path is not None else None
    if cache is not None and cache.is_file():
        return np.load(cache)
    batch_size = check_int(batch_size, param="batch_size", func="extract_features", low=1)
    batches, total = _batches(images, batch_size)
    out = []
    for i, batch in enumerate(batches):
        if cancel is not None and cancel():
            raise TrainingCancelled("feature extraction was cancelled")
        # predict_on_batch runs the compiled inference graph, in inference mode.
        out.append(np.asarray(extractor.predict_on_batch(batch), dtype=np.float32))
        if progress is not None:
            progress(i + 1, total)
    n_features = int(extractor.output_shape[-1])
    features = np.concatenate(out) if out else np.zeros((0, n_features), np.float32)
    if cache is not None:
        _save_npy(cache, features)
    return features


PASS_KINDS = ("clean", "mirror", "augment", "jitter")


def pass_kind(config: TrainConfig, pass_index: int) -> str:
    """What cached train pass `pass_index` holds: 'clean' (pass 0), 'mirror' (pass 1 with
    mirror_pass: every image flipped left to right), else an augmented copy: 'jitter'
    (dlib's own jitter, dlib_jitter) or 'augment' (the per-class random transforms)."""
    if pass_index == 0:
        return "clean"
    if pass_index == 1 and config.mirror_pass:
        return "mirror"
    return "jitter" if config.dlib_jitter else "augment"


def image_pass(images: np.ndarray, labels: np.ndarray, *, n_classes: int, image_size: int,
               pass_index: int, augment: AugmentConfig, strengths: np.ndarray, seed: int,
               batch_size: int, greyscale: bool = False, mirror: bool = False) -> tf.data.Dataset:
    """Float [0, 1] image batches of one pass, in array order (labels stay aligned):
    pass 0 clean, later passes augmented with the per-class strengths; mirror=True
    flips the clean images left to right instead."""
    augmented = pass_index > 0 and not mirror
    ds = make_dataset(images, labels, n_classes=n_classes, batch_size=batch_size,
                      training=augmented, augment=augment if augmented else None,
                      strengths=strengths, image_size=image_size,
                      seed=seed + pass_index, shuffle=False, greyscale=greyscale)
    if mirror:
        return ds.map(lambda x, y: tf.image.flip_left_right(x))
    return ds.map(lambda x, y: x)


def to_uint8(batches: Iterable) -> np.ndarray:
    """Float [0, 1] batches back to one uint8 array (for dlib, which wants crops)."""
    arrays = [np.asarray(b) for b in batches]
    return np.clip(np.rint(np.concatenate(arrays) * 255.0), 0, 255).astype(np.uint8)


def class_weight_map(config: TrainConfig, labels: np.ndarray,
                     n_classes: int) -> dict[int, float] | None:
    """Keras's class_weight for `config.class_weights`: None ('none'), or for 'balanced'
    n / (n_classes_present x n_c) per class, so each class weighs the same in the loss."""
    if config.class_weights == "none":
        return None
    counts = np.bincount(np.asarray(labels, np.int64), minlength=n_classes)
    present = counts > 0
    return {c: float(counts.sum() / (present.sum() * counts[c])) if counts[c] else 0.0
            for c in range(n_classes)}


def feature_dataset(features: np.ndarray, labels: np.ndarray, n_classes: int,
                    batch_size: int, seed: int | None) -> tf.data.Dataset:
    """(features, one-hot) batches; shuffled every epoch when a seed is given."""
    onehot = np.eye(n_classes, dtype=np.float32)[labels]
    ds = tf.data.Dataset.from_tensor_slices((features.astype(np.float32), onehot))
    if seed is not None:
        ds = ds.shuffle(len(features), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def feature_head(n_features: int, n_classes: int, head: HeadConfig) -> keras.Model:
    """The dense head alone: (B, n_features) vectors -> class probabilities."""
    features = keras.Input((n_features,), dtype="float32", name="features_in")
    return keras.Model(features, dense_head(features, n_classes, head), name="feature_head")


def compose(extractor: keras.Model, head: keras.Model) -> keras.Model:
    """Images -> frozen extractor -> head: the model a frozen-features run predicts with.

    The head's layers are applied to the extractor's own output (shared, not copied),
    so the graph stays flat and GradCAM reaches the backbone's last conv layer."""
    x = extractor.output
    for layer in head.layers[1:]:
        x = layer(x)
    return keras.Model(extractor.input, x, name=f"agerec_{extractor.name}")


def image_featurizer(config: TrainConfig, data: PreparedData, extractor: keras.Model,
                     strengths: np.ndarray, cache_dir: Path, progress_for: ProgressFor,
                     cancel: Callable[[], bool] | None) -> Featurizer:
    """Features through the frozen `extractor`, each pass cached under cache_dir/features."""
    cfg = config

    def featurize(images, labels, rows, split, pass_index):
        mirror = pass_kind(cfg, pass_index) == "mirror"
        key = feature_cache_key(data.root, split, cfg.backbone, cfg.image_size, cfg.weights,
                                pass_index, augment=cfg.augment, seed=cfg.seed, rows=rows,
                                kind="mirror" if mirror else "")
        name = f"{cfg.backbone}-{cfg.image_size}-{split}-p{pass_index}-{key}.npy"
        batches = image_pass(images, labels, n_classes=data.n_classes,
                             image_size=cfg.image_size, pass_index=pass_index,
                             augment=cfg.augment, strengths=strengths, seed=cfg.seed,
                             batch_size=cfg.batch_size, mirror=mirror)
        return extract_features(extractor, batches, cfg.batch_size, cache_dir / "features" / name,
                                progress=progress_for(f"features_{split}", pass_index),
                                cancel=cancel)
    return featurize


def descriptor_featurizer(config: TrainConfig, data: PreparedData, strengths: np.ndarray,
                          cache_dir: Path, progress_for: ProgressFor) -> Featurizer:
    """Features through dlib's descriptors, cached per crop (by content hash) under
    cache_dir/descriptors."""
    from backend.models.dlib_face import face_descriptors

    cfg = config
    # TensorFlow idles while dlib runs: use the cores for dlib.
    workers = max(1, min(4, os.cpu_count() or 1))

    def featurize(images, labels, rows, split, pass_index):
        kind = pass_kind(cfg, pass_index)
        if kind == "mirror":
            images = np.ascontiguousarray(np.asarray(images)[:, :, ::-1])
        elif kind == "augment":
            # Augmented crops at the stored size, back to uint8 for dlib.
            images = to_uint8(image_pass(images, labels, n_classes=data.n_classes,
                                         image_size=images.shape[1], pass_index=pass_index,
                                         augment=cfg.augment, strengths=strengths,
                                         seed=cfg.seed, batch_size=cfg.batch_size)
                              .as_numpy_iterator())
        # A jitter pass describes the clean crop's aligned chip, jittered by dlib.
        return face_descriptors(images, cache_dir=cache_dir / "descriptors", workers=workers,
                                progress=progress_for(f"features_{split}", pass_index),
                                jitter=pass_index if kind == "jitter" else 0)
    return featurize


def cache_root(cache_dir: str | os.PathLike | None, run_dir: str | os.PathLike) -> Path:
    """The cache folder: `cache_dir` when given, else the run folder's own cache/."""
    return Path(cache_dir) if cache_dir is not None else Path(run_dir) / "cache"


def _batches(images: np.ndarray | Iterable, batch_size: int) -> tuple[Iterable, int | None]:
    """(iterable of batches, how many) from an array or an iterable of batches."""
    if isinstance(images, np.ndarray):
        total = -(-len(images) // batch_size)
        # uint8 crops are scaled to the [0, 1] floats every model here takes.
        scale = 1 / 255.0 if images.dtype == np.uint8 else 1.0
        return (images[i:i + batch_size].astype(np.float32) * scale
                for i in range(0, len(images), batch_size)), total
    if isinstance(images, tf.data.Dataset):
        n = int(images.cardinality())
        return images.as_numpy_iterator(), n if n >= 0 else None
    return images, None


def _weights_identity(weights: str) -> Any:
    """'imagenet'/'none' as is; a file path with its size and mtime."""
    if weights in ("imagenet", "none"):
        return weights
    path = Path(weights)
    stat = path.stat() if path.exists() else None
    return [str(path.resolve()), stat.st_size if stat else None, stat.st_mtime_ns if stat else None]


def _save_npy(path: Path, array: np.ndarray) -> None:
    """np.save through a temporary name: concurrent runs never read half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npy")
    np.save(tmp, array)
    os.replace(tmp, path)

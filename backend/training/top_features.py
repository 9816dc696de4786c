"""'fine_tune_top': a backbone's top blocks and head fine-tuned on its frozen lower
blocks' cached output (the `cpu` preset's image member).

The model is cut where block `split_block` starts (`build.split_at_block`). The lower
part never trains, so its output for an image is the same every epoch: it is computed
once per pass and stored as float16 .npy under the feature cache, keyed like the frozen
features plus the split. Pass 0 is the clean train split, pass 1 its mirror (with
`mirror_pass`), later passes augmented copies (`features.pass_kind`). Training reads the
passes memory-mapped through tf.data: every epoch visits each train image once, in one
of its passes drawn at random, so the top blocks see a new variant most epochs at the
cost of the top blocks alone. The composed model (lower blocks with their pretrained
weights, top blocks and head trained) is what the run saves and predicts with.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from backend.data.augment import class_strengths
from backend.models.build import build_model, split_at_block
from backend.params import check_int
from backend.training.callbacks import TrainingCancelled
from backend.training.features import feature_cache_key, image_pass, pass_kind

TOP_WEIGHTS = "top.weights.h5"  # the top's checkpoint while a fine_tune_top run trains
STORE_DTYPE = np.float16  # half the disk and page cache of float32; the top casts back


def train_top(run: Any, stage: Any, best_weights: str) -> None:
    """Fit the top of `run.config`'s backbone on cached lower-block outputs, then save
    the composed model's weights as `best_weights` in the run folder.

    `run` is the trainer's run (config, data, fit_stage, report, cancel, cache,
    weights_cache, add_seconds) and `stage` the one fit it runs.
    """
    import time

    cfg, data = run.config, run.data
    n_classes = data.n_classes
    train_x, train_y, train_rows = data.subset("train")
    val_x, val_y, val_rows = data.subset("val")
    strengths = class_strengths(np.bincount(train_y, minlength=n_classes), cfg.augment)
    # Pretrained weights every time: a resumed run reloads its top, never its bottom.
    model = build_model(cfg.backbone, n_classes, cfg.image_size, weights=cfg.weights,
                        saliency="none", head=cfg.head, weights_cache_dir=run.weights_cache)
    bottom, top = split_at_block(model, cfg.backbone, cfg.split_block)
    started = time.monotonic()

    def outputs(images, labels, rows, split, pass_index):
        kind = pass_kind(cfg, pass_index)
        key = feature_cache_key(data.root, split, cfg.backbone, cfg.image_size, cfg.weights,
                                pass_index, augment=cfg.augment, seed=cfg.seed, rows=rows,
                                kind="mirror" if kind == "mirror" else "",
                                extra={"split_block": cfg.split_block})
        name = f"{cfg.backbone}-{cfg.image_size}-b{cfg.split_block}-{split}-p{pass_index}-{key}.npy"
        batches = image_pass(images, labels, n_classes=n_classes, image_size=cfg.image_size,
                             pass_index=pass_index, augment=cfg.augment, strengths=strengths,
                             seed=cfg.seed, batch_size=cfg.batch_size, mirror=kind == "mirror")
        return cached_outputs(bottom, batches, len(images), run.cache / "features" / name,
                              progress=run.report(f"features_{split}", pass_index),
                              cancel=run.cancel)

    passes = [outputs(train_x, train_y, train_rows, "train", p) for p in range(cfg.feature_passes)]
    val_out = outputs(val_x, val_y, val_rows, "val", 0)
    run.add_seconds("features", started)
    train_ds = pass_dataset(passes, train_y, n_classes, cfg.batch_size, seed=cfg.seed)
    val_ds = pass_dataset([val_out], val_y, n_classes, cfg.batch_size, seed=None)
    run.fit_stage(top, stage, train_ds, val_ds, run.run_dir / TOP_WEIGHTS)
    # The top shares its layers with `model`: the composed model holds the best top.
    model.save_weights(run.run_dir / best_weights)


def cached_outputs(bottom: keras.Model, batches: tf.data.Dataset, n: int,
                   path: str | os.PathLike, *, progress: Callable[[int, int], None] | None = None,
                   cancel: Callable[[], bool] | None = None) -> np.ndarray:
    """`bottom`'s outputs for n images in float [0, 1] `batches`, memory-mapped from
    `path` (float16 .npy), computed and written there first when it is missing."""
    path = Path(path)
    if path.is_file():
        return np.load(path, mmap_mode="r")
    n = check_int(n, param="n", func="cached_outputs", low=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temporary name first: a concurrent or killed run never leaves half an array.
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npy")
    shape = (n, *(int(d) for d in bottom.output_shape[1:]))
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=STORE_DTYPE, shape=shape)
    total = int(batches.cardinality())
    done = 0
    try:
        for i, batch in enumerate(batches.as_numpy_iterator()):
            if cancel is not None and cancel():
                raise TrainingCancelled("lower-block outputs were cancelled")
            values = np.asarray(bottom.predict_on_batch(batch))
            out[done:done + len(values)] = values.astype(STORE_DTYPE)
            done += len(values)
            if progress is not None:
                progress(i + 1, total)
        out.flush()
        del out
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return np.load(path, mmap_mode="r")


def pass_dataset(passes: list[np.ndarray], labels: np.ndarray, n_classes: int,
                 batch_size: int, seed: int | None) -> tf.data.Dataset:
    """(outputs as float32, one-hot) batches over the images of `passes` (P arrays of
    the same N images). With a seed: shuffled, and each image read from a pass drawn
    at random, both anew every epoch; without: every image of pass 0, in order."""
    labels = np.asarray(labels, np.int64)
    n_passes = len(passes)
    item_shape = passes[0].shape[1:]

    def gather(idx: np.ndarray, step: np.ndarray) -> np.ndarray:
        chosen = (np.random.default_rng([int(step) & 0x7FFFFFFF, seed or 0])
                  .integers(0, n_passes, len(idx)) if seed is not None and n_passes > 1
                  else np.zeros(len(idx), np.int64))
        out = np.empty((len(idx), *item_shape), np.float32)
        for p in np.unique(chosen):
            here = chosen == p
            # Sorted reads are sequential on a memmap.
            order = np.argsort(idx[here])
            rows = idx[here][order]
            block = np.asarray(passes[p][rows], np.float32)
            out[np.flatnonzero(here)[order]] = block
        return out

    label_table = tf.constant(labels, tf.int32)

    def prepare(idx, step):
        x = tf.numpy_function(gather, [idx, step], tf.float32, stateful=False)
        x.set_shape([None, *item_shape])
        return x, tf.one_hot(tf.gather(label_table, idx), n_classes, dtype=tf.float32)

    ds = tf.data.Dataset.range(len(labels))
    if seed is not None:
        ds = ds.shuffle(max(len(labels), 1), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    steps = tf.data.Dataset.random(seed=seed or 0, rerandomize_each_iteration=True)
    ds = tf.data.Dataset.zip(ds, steps)
    return ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE,
                  deterministic=True).prefetch(tf.data.AUTOTUNE)

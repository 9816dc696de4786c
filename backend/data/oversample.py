"""Opt-in oversampling of under-represented age classes with augmented copies.

The paper (section 4) says it "attempted to mitigate" the under-representation of
some categories "by oversampling these categories". Its numbers say where the
copies went: a 60%-of-mean cap over 42,000 images leaves at most 25,200 images, so
at most 2,520 in a 10% test split, yet its test set holds 3,757 faces. The copies
were made before the split, and copies of one face can sit in train and in test.

Modes (`PreprocessConfig.oversample`):

- 'none' (the default): no copies; every face appears once.
- 'train': after the split, each class's train split is filled with augmented
  copies of its own train faces until it holds as many as the largest class's
  train split. Validation and test hold original faces only.
- 'before_split_leak': the paper's apparent set-up, to reproduce it and never
  for a real result: each class is filled with copies to the largest class's size
  *before* the stratified split, so a copy and its original (or two copies of one
  face) can land in different splits, and test accuracy is inflated by faces the
  model has trained on.

The planning functions are pure and seeded, like balance.py; `augmented_copies`
makes the pixels with the training augmentation (TensorFlow, imported lazily).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from backend.data.augment_config import AugmentConfig
from backend.params import InvalidParameterError, check_int

OVERSAMPLE_MODES = ("none", "train", "before_split_leak")


def fill_copies(classes: Any, target: int, seed: int = 0, *, eligible: Any = None) -> np.ndarray:
    """Indices of the items to copy, one entry per copy, so that every class holds
    `target` eligible items (originals plus copies).

    Only items where `eligible` is True (default: all) are counted and copied, e.g.
    the train split. A class at or above `target`, or with no eligible item, gets no
    copy. Inside a class every original is copied floor(need / n) times and a random
    `need mod n` of them once more, so no face is copied much more than another, and
    the copies keep the class's gender mix (50/50 after rebalancing) up to those few.
    """
    func = "fill_copies"
    classes = np.asarray(classes)
    if classes.ndim != 1 or (classes.size and not np.issubdtype(classes.dtype, np.integer)):
        raise InvalidParameterError("classes", func, "a 1-D array of integer class indices",
                                    f"array of shape {classes.shape} and dtype {classes.dtype}")
    target = check_int(target, param="target", func=func, low=0)
    seed = check_int(seed, param="seed", func=func, low=0)
    eligible = np.ones(len(classes), bool) if eligible is None else np.asarray(eligible, bool)
    if eligible.shape != classes.shape:
        raise InvalidParameterError("eligible", func, f"one bool per item ({len(classes)})",
                                    eligible.shape)
    rng = np.random.default_rng(seed)
    picks = []
    for c in np.unique(classes[eligible & (classes >= 0)]):
        pool = np.flatnonzero(eligible & (classes == c))
        need = target - len(pool)
        if need <= 0:
            continue
        # Whole rounds over the class first, then a random few once more.
        rounds, extra = divmod(need, len(pool))
        picks += [np.repeat(pool, rounds), rng.choice(pool, extra, replace=False)]
    if not picks:
        return np.empty(0, dtype=np.int64)
    return np.sort(np.concatenate(picks)).astype(np.int64)


def copy_sources(n_originals: int, copied: np.ndarray) -> np.ndarray:
    """The `copy_of` column for originals followed by copies: -1 for an original, the
    original's row for a copy (row i of the copies is a copy of row copied[i])."""
    return np.concatenate([np.full(n_originals, -1, np.int64), np.asarray(copied, np.int64)])


def leaked_rows(splits: Any, copy_of: Any, split: str = "test") -> np.ndarray:
    """Rows of `split` whose face (the original, or any copy of it) also appears in
    the train split: the rows a model may have trained on."""
    splits, copy_of = np.asarray(splits), np.asarray(copy_of, np.int64)
    # A face is identified by its original's row.
    face = np.where(copy_of >= 0, copy_of, np.arange(len(copy_of)))
    trained = np.unique(face[splits == "train"])
    return np.flatnonzero((splits == split) & np.isin(face, trained))


def augmented_copies(images: np.ndarray, labels: Any, class_counts: Any,
                     cfg: AugmentConfig = AugmentConfig(), seed: int = 0,
                     batch_size: int = 256) -> np.ndarray:
    """uint8 copies of uint8 crops (N, S, S, 3), each randomly transformed at its
    class's augmentation strength: rarer classes (by `class_counts`, before any copy)
    are transformed harder, as section 3.1's conditional augmentation."""
    import tensorflow as tf

    from backend.data.augment import augment_batch, class_strengths

    images = np.asarray(images)
    labels = np.asarray(labels, np.int64)
    strengths = class_strengths(class_counts, cfg)
    out = np.empty_like(images, dtype=np.uint8)
    for step, start in enumerate(range(0, len(images), batch_size)):
        batch = tf.convert_to_tensor(images[start:start + batch_size], tf.float32) / 255.0
        # One (seed, step) pair per batch: the same seed gives the same copies.
        moved = augment_batch(batch, strengths[labels[start:start + batch_size]], cfg,
                              seed=(seed, step))
        out[start:start + batch_size] = np.round(moved.numpy() * 255.0).astype(np.uint8)
    return out

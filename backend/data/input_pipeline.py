"""The tf.data input pipeline: uint8 face arrays in, (images in [0, 1], one-hot labels) out.

The dataset is built over item *indices*, not over the pixels: the indices are
shuffled (cheaply, the whole epoch at once) and batched, then each batch of
indices is gathered from the numpy array with `tf.numpy_function`. The image
array, often a np.memmap of images.npy, is never copied into a graph constant.

Measured on 10,000 x 128 x 128 x 3 uint8 (2 CPU cores shared with other jobs,
so +-50% noise; two runs, no augmentation), in images/s:

    index gather:        eval 3,800-7,500   shuffled training 3,100-3,700   build 0.1-0.6 s
    from_tensor_slices:  eval 1,900-4,300   shuffled training 1,500-7,700   build 4-6 s

Throughput is the same within the noise, and both are ~30x what the per-image
affine warp sustains (about 120 images/s at 128 px on the same cores), so the
index gather wins on what differs: no 491 MB constant, no 491 MB shuffle buffer
of pixels for a full shuffle, and an instant build.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import tensorflow as tf

from backend.data.augment import AugmentConfig, augment_batch, class_strengths, to_greyscale
from backend.params import InvalidParameterError, check_bool, check_int

FUNC = "make_dataset"


def make_dataset(images: np.ndarray, labels: Any, *, n_classes: int, batch_size: int = 32,
                 training: bool = False, augment: AugmentConfig | None = None,
                 strengths: Any = None, image_size: int | None = None, seed: int = 0,
                 shuffle: bool | None = None, greyscale: bool = False,
                 cache: bool = False) -> tf.data.Dataset:
    """Batches of (float32 images [B, S, S, 3] in [0, 1], one-hot float32 labels [B, C]).

    training: shuffle (seeded, reshuffled every epoch) and, with `augment`, apply
        the per-class augmentation; otherwise the order is the array's order and no
        augmentation is applied (`augment` is ignored).
    strengths: per-class augmentation multipliers; None = class_strengths of the
        label counts in `labels`.
    image_size: resize to this side length when it differs from the array's.
    shuffle: overrides the training default (shuffle only when training).
    greyscale: turn every image grey (for the greyscale evaluation copies).
    cache: read the whole array into memory once (a memmap is otherwise read
        from disk, or the page cache, every epoch).
    """
    images, labels = _check_arrays(images, labels)
    n_classes = check_int(n_classes, param="n_classes", func=FUNC, low=1)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        bad = labels[(labels < 0) | (labels >= n_classes)][0]
        raise InvalidParameterError("labels", FUNC, f"class indices in [0, {n_classes - 1}]",
                                    int(bad))
    batch_size = check_int(batch_size, param="batch_size", func=FUNC, low=1)
    training = check_bool(training, param="training", func=FUNC)
    shuffle = training if shuffle is None else check_bool(shuffle, param="shuffle", func=FUNC)
    greyscale = check_bool(greyscale, param="greyscale", func=FUNC)
    seed = check_int(seed, param="seed", func=FUNC, low=0)
    source = images.shape[1]
    size = source if image_size is None else check_int(image_size, param="image_size",
                                                        func=FUNC, low=1)
    augment = augment if training else None
    if augment is not None and not isinstance(augment, AugmentConfig):
        raise InvalidParameterError("augment", FUNC, "an AugmentConfig or None", augment)
    strength_table = _strength_table(strengths, labels, n_classes, augment)
    if check_bool(cache, param="cache", func=FUNC):
        # One read of the whole file instead of one per epoch.
        images = np.array(images)

    def gather(idx: np.ndarray) -> np.ndarray:
        # Sorted reads are sequential on a memmap; argsort puts the batch back in order.
        order = np.argsort(idx)
        out = np.empty((len(idx),) + images.shape[1:], np.uint8)
        out[order] = images[idx[order]]
        return out

    label_table = tf.constant(labels, tf.int32)

    def prepare(idx: tf.Tensor, step: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        batch = tf.numpy_function(gather, [idx], tf.uint8, stateful=False)
        batch.set_shape([None, source, source, 3])
        x = tf.cast(batch, tf.float32) / 255.0
        y = tf.gather(label_table, idx)
        # The affine warp costs per output pixel, so run it at the smaller size.
        if size < source:
            x = _resize(x, size)
        if augment is not None:
            # Each image is augmented as hard as its class is under-represented.
            x = augment_batch(x, tf.gather(strength_table, y), augment,
                              tf.stack([tf.constant(seed, tf.int64), step]))
        if size > source:
            x = _resize(x, size)
        if greyscale:
            x = to_greyscale(x)
        return x, tf.one_hot(y, n_classes, dtype=tf.float32)

    ds = tf.data.Dataset.range(len(labels))
    if shuffle:
        # Shuffling indices is cheap, so the buffer holds the whole epoch.
        ds = ds.shuffle(max(len(labels), 1), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    # One random step number per batch, new every epoch, seeds the augmentation.
    steps = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    ds = tf.data.Dataset.zip(ds, steps)
    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Batches in one epoch of n items (the last batch may be short)."""
    n = check_int(n, param="n", func="steps_per_epoch", low=0)
    batch_size = check_int(batch_size, param="batch_size", func="steps_per_epoch", low=1)
    return math.ceil(n / batch_size)


def _resize(x: tf.Tensor, size: int) -> tf.Tensor:
    """Bilinear resize to size x size, clipped back into [0, 1]."""
    # Antialiasing only changes a shrink, and costs 4x on an enlargement.
    shrink = x.shape[1] is None or size < x.shape[1]
    return tf.clip_by_value(tf.image.resize(x, [size, size], antialias=shrink), 0.0, 1.0)


def _check_arrays(images: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """A uint8 (N, S, S, 3) array (memmaps stay memmaps) and int64 labels (N,)."""
    if not isinstance(images, np.ndarray):
        images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] != 3 \
            or images.shape[1] != images.shape[2]:
        raise InvalidParameterError("images", FUNC, "a uint8 array of shape (N, S, S, 3)",
                                    f"array of shape {images.shape} and dtype {images.dtype}")
    labels = np.asarray(labels)
    if labels.shape != (len(images),) or (labels.size and
                                          not np.issubdtype(labels.dtype, np.integer)):
        raise InvalidParameterError("labels", FUNC, f"an int array of shape ({len(images)},)",
                                    f"array of shape {labels.shape} and dtype {labels.dtype}")
    return images, labels.astype(np.int64)


def _strength_table(strengths: Any, labels: np.ndarray, n_classes: int,
                    augment: AugmentConfig | None) -> tf.Tensor:
    """Per-class augmentation strengths as a float32 tensor of length n_classes."""
    if strengths is None:
        cfg = augment or AugmentConfig()
        table = class_strengths(np.bincount(labels, minlength=n_classes), cfg)
    else:
        table = np.asarray(strengths, dtype=np.float32)
        if table.shape != (n_classes,) or np.any(table < 0):
            raise InvalidParameterError("strengths", FUNC,
                                        f"{n_classes} per-class multipliers >= 0", strengths)
    return tf.constant(table, tf.float32)

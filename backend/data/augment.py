"""Per-class data augmentation (section 3.1) as TensorFlow ops on image batches.

Each image gets one random affine transform (rotation, shift, shear, zoom) whose
ranges are multiplied by that image's class strength, a random horizontal flip,
and optionally a greyscale copy. Under-represented classes get a larger strength:
the paper's "more aggressive augmentation for under-represented categories".
All randomness is stateless and seeded from a (seed, step) pair, so the ops run
inside `tf.data` maps and give the same batch for the same pair.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import tensorflow as tf

from backend.data.augment_config import FILL_MODES, AugmentConfig  # noqa: F401 (re-exported)
from backend.params import InvalidParameterError

# ITU-R BT.601 luma weights, as tf.image.rgb_to_grayscale; they sum to 1.
LUMA = (0.299, 0.587, 0.114)


def class_strengths(train_counts: Any, cfg: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """Per-class augmentation multiplier: 1.0 for the largest class, rising linearly
    to cfg.max_strength as a class's share of the largest class falls to zero."""
    counts = np.asarray(train_counts, dtype=np.float64)
    if counts.ndim != 1 or np.any(counts < 0):
        raise InvalidParameterError("train_counts", "class_strengths",
                                    "a 1-D array of image counts >= 0", train_counts)
    if counts.size == 0 or counts.max() == 0:
        return np.ones(counts.shape, dtype=np.float32)
    # Linear in the missing share keeps the multiplier bounded, whatever the skew.
    shortfall = 1.0 - counts / counts.max()
    return (1.0 + (cfg.max_strength - 1.0) * shortfall).astype(np.float32)


def augment_batch(images: tf.Tensor, strengths: tf.Tensor, cfg: AugmentConfig,
                  seed: Any) -> tf.Tensor:
    """Randomly transform a float32 batch [B, H, W, 3] in [0, 1].

    `strengths` [B] scales each image's ranges; an image with strength 0 comes back
    unchanged (no transform, flip or greyscale). `seed` is a (seed, step) pair of ints
    for the stateless random ops.
    """
    images = tf.convert_to_tensor(images, tf.float32)
    strengths = tf.reshape(tf.cast(strengths, tf.float32), [-1])
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=3)
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]

    # One matrix per image, all applied by a single projective-transform op.
    transforms = _random_affines(batch, height, width, strengths, cfg, seeds[0])
    images = tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.stack([height, width]),
        fill_value=0.0, interpolation="BILINEAR", fill_mode=cfg.fill_mode.upper())

    # Flip and greyscale only images that are augmented at all.
    active = strengths > 0
    if cfg.horizontal_flip:
        flip = active & (tf.random.stateless_uniform([batch], seeds[1]) < 0.5)
        images = tf.where(flip[:, None, None, None], tf.reverse(images, axis=[2]), images)
    if cfg.greyscale_prob > 0:
        grey = active & (tf.random.stateless_uniform([batch], seeds[2]) < cfg.greyscale_prob)
        images = tf.where(grey[:, None, None, None], to_greyscale(images), images)
    # Bilinear sampling of [0, 1] values stays in range up to float rounding.
    return tf.clip_by_value(images, 0.0, 1.0)


def _random_affines(batch: tf.Tensor, height: tf.Tensor, width: tf.Tensor,
                    strengths: tf.Tensor, cfg: AugmentConfig, seed: tf.Tensor) -> tf.Tensor:
    """[B, 8] projective transforms mapping output pixels to input pixels."""
    # Five uniforms in [-1, 1] per image, scaled by its strength.
    u = tf.random.stateless_uniform([batch, 5], seed, minval=-1.0, maxval=1.0)
    u = u * strengths[:, None]
    angle = u[:, 0] * (cfg.rotation * math.pi / 180.0)
    w, h = tf.cast(width, tf.float32), tf.cast(height, tf.float32)
    tx, ty = u[:, 1] * cfg.width_shift * w, u[:, 2] * cfg.height_shift * h
    shear = u[:, 3] * cfg.shear
    # Strength can push 1 - zoom*s below zero; keep a positive scale.
    zoom = tf.maximum(1.0 + u[:, 4] * cfg.zoom, 0.1)

    # input = A (output - centre) + centre + shift, with A = rotation @ shear @ zoom.
    cos, sin = tf.cos(angle), tf.sin(angle)
    a00, a01 = cos * zoom, (cos * shear - sin) * zoom
    a10, a11 = sin * zoom, (sin * shear + cos) * zoom
    cx, cy = (w - 1.0) / 2.0, (h - 1.0) / 2.0
    b0 = cx - a00 * cx - a01 * cy + tx
    b1 = cy - a10 * cx - a11 * cy + ty
    zeros = tf.zeros_like(angle)
    return tf.stack([a00, a01, b0, a10, a11, b1, zeros, zeros], axis=1)


def to_greyscale(images: Any) -> Any:
    """Luminance copied into 3 identical channels; same type and dtype as the input.

    Works on numpy arrays (uint8 or float, any leading dims) and on tf tensors.
    Integer images are rounded back to their dtype.
    """
    if tf.is_tensor(images):
        x = tf.cast(images, tf.float32)
        y = tf.tensordot(x, tf.constant(LUMA, tf.float32), axes=[[-1], [0]])[..., None]
        if images.dtype.is_integer:
            y = tf.round(y)
        return tf.cast(tf.repeat(y, 3, axis=-1), images.dtype)
    arr = np.asarray(images)
    y = (arr.astype(np.float32) @ np.asarray(LUMA, np.float32))[..., None]
    if np.issubdtype(arr.dtype, np.integer):
        y = np.round(y)
    return np.repeat(y, 3, axis=-1).astype(arr.dtype)

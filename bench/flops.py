"""Count a Keras model's floating-point work, and time a large matmul for comparison.

Counts are analytic: 2 FLOPs (a multiply and an add) per multiply-accumulate of
every convolution and dense layer, per image. Everything else (batch norm,
activations, pooling, the optimizer update) is left out: on these backbones it
is a few percent of the total. A training step is counted as 3x the forward
pass: the backward pass computes a gradient with respect to the inputs and one
with respect to the weights, each about as costly as the forward pass.
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

TRAIN_STEP_FACTOR = 3  # forward + grad wrt inputs + grad wrt weights


def layer_flops(layer: Any) -> int:
    """FLOPs of one image through `layer` (0 for layers that are not conv or dense)."""
    kind = type(layer).__name__
    if kind not in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Dense"):
        return 0
    # Shapes without the batch dimension, as the functional graph recorded them.
    in_shape = tuple(layer.input.shape[1:])
    out_shape = tuple(layer.output.shape[1:])
    if kind == "Dense":
        # A Dense on (..., n) inputs is one matmul per leading position.
        positions = math.prod(in_shape[:-1])
        return 2 * positions * in_shape[-1] * out_shape[-1]
    kh, kw = layer.kernel_size
    h_out, w_out = out_shape[0], out_shape[1]
    c_in = in_shape[-1]
    if kind == "DepthwiseConv2D":
        # Each input channel meets only its own depth_multiplier filters.
        return 2 * h_out * w_out * c_in * layer.depth_multiplier * kh * kw
    if kind == "SeparableConv2D":
        # A depthwise pass, then a 1x1 pointwise conv to the output channels.
        mid = c_in * layer.depth_multiplier
        return 2 * h_out * w_out * (mid * kh * kw + mid * out_shape[-1])
    # A grouped Conv2D sees c_in / groups input channels per output channel.
    groups = getattr(layer, "groups", 1) or 1
    return 2 * h_out * w_out * out_shape[-1] * (c_in // groups) * kh * kw


def forward_flops(model: Any) -> int:
    """FLOPs of one image through the whole model, nested sub-models included."""
    total = 0
    for layer in model.layers:
        # A sub-model (e.g. a backbone built apart) holds layers of its own.
        total += forward_flops(layer) if hasattr(layer, "layers") else layer_flops(layer)
    return total


def train_step_flops(model: Any) -> int:
    """FLOPs of one image through a training step (forward and backward)."""
    return TRAIN_STEP_FACTOR * forward_flops(model)


def matmul_gflops(n: int = 2048, dtype: str = "float32", repeats: int = 5,
                  backend: str = "tf") -> float:
    """Achieved GFLOP/s of an n x n by n x n matmul (2 n^3 FLOPs), best of `repeats`."""
    # Best of several runs: the fastest run is the one least disturbed by other jobs.
    if backend == "numpy":
        a = np.random.default_rng(0).random((n, n), dtype=np.float32).astype(dtype)
        run = lambda: a @ a
    else:
        import tensorflow as tf

        a = tf.cast(tf.random.stateless_uniform((n, n), seed=(0, 0)), dtype)
        run = lambda: tf.linalg.matmul(a, a).numpy()
    run()  # the first call pays for thread pools and kernel selection
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return 2.0 * n ** 3 / best / 1e9

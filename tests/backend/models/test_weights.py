"""Tests for resolving 'imagenet', 'none' or a file into a weights file."""
from __future__ import annotations

import time

import pytest

from backend.models import weights as weights_mod
from backend.models.weights import (KERAS_NOTOP_FILES, WeightsUnavailableError, keras_cache_dir,
                                    resolve_weights)
from backend.params import InvalidParameterError


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
    pytest.importorskip("backend.models.efficientnet_lite")
    monkeypatch.setattr(weights_mod, "KERAS_HOST", "keras-weights.invalid")
    path = resolve_weights("efficientnet_lite0", "imagenet", cache_dir=tmp_path)
    assert path.is_file() and path.parent == tmp_path

"""Feature extraction with its .npy cache, and the cache key."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from backend.training.callbacks import TrainingCancelled
from backend.training.features import extract_features, feature_cache_key


@pytest.fixture(scope="module")
def extractor() -> keras.Model:
    """Mean colour per image: a 3-feature 'backbone'."""
    image = keras.Input((4, 4, 3))
    return keras.Model(image, keras.layers.GlobalAveragePooling2D()(image))


def test_extract_features_saves_then_reads_the_cache(extractor, tmp_path):
    """Check that features are computed in batches, saved, and read back (not recomputed)
    when the cache file exists."""
    images = np.random.default_rng(0).integers(0, 255, (5, 4, 4, 3), dtype=np.uint8)
    path = tmp_path / "f.npy"
    first = extract_features(extractor, images, 2, path)
    np.save(path, first + 1)  # a recomputation would not return this
    np.testing.assert_allclose(first, images.mean(axis=(1, 2)) / 255, rtol=1e-5)
    np.testing.assert_allclose(extract_features(extractor, images, 2, path), first + 1)


def test_extract_features_cancel_raises_and_caches_nothing(extractor, tmp_path):
    """Check that cancel() returning True raises TrainingCancelled and writes no file."""
    images = np.zeros((4, 4, 4, 3), np.uint8)
    with pytest.raises(TrainingCancelled):
        extract_features(extractor, images, 2, tmp_path / "f.npy", cancel=lambda: True)
    assert not (tmp_path / "f.npy").exists()


def test_cache_key_depends_on_pass_and_backbone(tmp_path):
    """Check that another pass or backbone gets another key, and equal inputs the same key."""
    key = lambda **kw: feature_cache_key(tmp_path, "train", kw.get("b", "vgg19"), 32,
                                         "imagenet", kw.get("p", 0))
    assert key() == key() and len({key(), key(p=1), key(b="efficientnet_lite0")}) == 3


def test_pass_kinds_follow_the_config():
    """Check that pass 0 is clean, pass 1 the mirror with mirror_pass, and later passes
    augmented (dlib's jitter with dlib_jitter)."""
    from backend.training.config import preset_config
    from backend.training.features import pass_kind

    image = preset_config("smoke", "efficientnet_lite0", mirror_pass=True)
    dlib = preset_config("smoke", "dlib_face", mirror_pass=True, dlib_jitter=True)
    plain = preset_config("smoke", "efficientnet_lite0")
    assert [pass_kind(image, p) for p in range(3)] == ["clean", "mirror", "augment"]
    assert [pass_kind(dlib, p) for p in range(3)] == ["clean", "mirror", "jitter"]
    assert [pass_kind(plain, p) for p in range(2)] == ["clean", "augment"]


def test_mirror_pass_has_its_own_cache_key(tmp_path):
    """Check that a mirror pass and an augmented pass of the same index are cached apart."""
    args = (tmp_path, "train", "efficientnet_lite0", 32, "none", 1)
    assert feature_cache_key(*args, kind="mirror") != feature_cache_key(*args)


def test_balanced_class_weights_make_every_class_weigh_the_same():
    """Check that 'balanced' gives n / (C x n_c) per class, so each class's total weight is
    equal, and 'none' gives no weights."""
    from backend.training.config import preset_config
    from backend.training.features import class_weight_map

    labels = np.array([0] * 6 + [1] * 3 + [2] * 1)
    weights = class_weight_map(preset_config("smoke", "dlib_face", class_weights="balanced"),
                               labels, 3)
    assert weights == pytest.approx({0: 10 / 18, 1: 10 / 9, 2: 10 / 3})
    assert class_weight_map(preset_config("smoke", "dlib_face"), labels, 3) is None

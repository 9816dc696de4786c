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

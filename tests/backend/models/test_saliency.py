"""Tests for the saliency encoder-decoder front end."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from backend.models.saliency import SaliencyConfig, saliency_front_end
from backend.params import InvalidParameterError

SIZE = 32


def _front_end(mode: str, filters=(4, 8)) -> keras.Model:
    """A model from image to (backbone input, saliency map)."""
    image = keras.Input((SIZE, SIZE, 3), name="image")
    out3, map1 = saliency_front_end(image, SaliencyConfig(filters=filters, mode=mode))
    return keras.Model(image, [out3, map1])


@pytest.fixture(scope="module")
def batch() -> np.ndarray:
    return np.random.default_rng(0).random((2, SIZE, SIZE, 3), dtype=np.float32)


def test_map_mode_feeds_the_map_on_three_channels(batch):
    """Check that mode='map' returns the 1-channel map repeated on three channels."""
    out3, map1 = _front_end("map").predict(batch, verbose=0)
    assert out3.shape == (2, SIZE, SIZE, 3) and map1.shape == (2, SIZE, SIZE, 1)
    np.testing.assert_array_equal(out3, np.repeat(map1, 3, axis=-1))


def test_gate_mode_multiplies_the_image_by_the_map(batch):
    """Check that mode='gate' returns image x map, keeping the colour."""
    out3, map1 = _front_end("gate").predict(batch, verbose=0)
    np.testing.assert_allclose(out3, batch * map1, rtol=1e-6)


def test_saliency_map_is_a_sigmoid_in_unit_range(batch):
    """Check that the map comes from a layer named saliency_map with values in [0, 1]."""
    model = _front_end("map")
    layer = model.get_layer("saliency_map")
    _, map1 = model.predict(batch, verbose=0)
    assert layer.activation.__name__ == "sigmoid" and 0.0 <= map1.min() and map1.max() <= 1.0


def test_every_layer_is_prefixed_saliency():
    """Check that every front-end layer name starts with 'saliency_'."""
    names = [layer.name for layer in _front_end("gate").layers if layer.name != "image"]
    assert names and all(n.startswith("saliency_") for n in names)


def test_encoder_decoder_mirrors_the_filters():
    """Check that there is one pooling and one upsampling per filter stage, merged with its skip."""
    names = [layer.name for layer in _front_end("map", filters=(4, 8, 16)).layers]
    assert [n for n in names if n.endswith("_pool")] == [f"saliency_down{i}_pool" for i in (1, 2, 3)]
    assert [n for n in names if n.endswith("_concat")] == [f"saliency_up{i}_concat" for i in (3, 2, 1)]


def test_size_not_divisible_by_the_pooling_factor_is_rejected():
    """Check that an input size not divisible by 2**len(filters) raises a clear error."""
    image = keras.Input((36, 36, 3))
    pattern = r"'image_size' parameter .* divisible by 8.*Got 36"
    with pytest.raises(InvalidParameterError, match=pattern):
        saliency_front_end(image, SaliencyConfig(filters=(4, 8, 16)))


def test_unknown_mode_is_rejected():
    """Check that a mode other than 'map' or 'gate' raises an error naming the choices."""
    image = keras.Input((SIZE, SIZE, 3))
    with pytest.raises(InvalidParameterError, match=r"'mode'.*\{'map', 'gate'\}. Got 'mask'"):
        saliency_front_end(image, SaliencyConfig(mode="mask"))

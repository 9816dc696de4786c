"""Tests of backend/explain/heatmaps.py on a tiny hand-set model."""
from __future__ import annotations

import numpy as np
import pytest

from backend.explain.heatmaps import (METHODS, WarmGradcam, class_heatmaps,
                                      has_saliency_front, saliency_front_maps)
from backend.params import InvalidParameterError
from tests.backend.explain.quadrant_model import (SIZE, noise_images, quadrant_mass,
                                                  quadrant_model)


@pytest.fixture(scope="module")
def model():
    return quadrant_model()


@pytest.fixture(scope="module")
def images():
    return noise_images(4, seed=0)


@pytest.mark.parametrize("method", METHODS)
def test_class_map_mass_lies_in_the_quadrant_the_class_reads(model, images, method):
    """Check that the map for class 0, which reads only the top-left quadrant, puts
    nearly all its mass there."""
    maps = class_heatmaps(model, images, 0, layer="features", method=method)
    assert quadrant_mass(maps).min() > 0.9


def test_map_from_a_layer_after_the_cropping_is_not_localised(model, images):
    """Check that the quadrant test would fail with the wrong layer: a map read after the
    cropping covers only the quadrant's grid and is stretched over the whole image."""
    maps = class_heatmaps(model, images, 0, layer="crop")
    assert quadrant_mass(maps).max() < 0.5


def test_map_of_the_other_class_avoids_the_quadrant(model, images):
    """Check that the quadrant test would fail with the wrong class: class 1 reads the
    contrast outside the quadrant, so its map lies outside it."""
    maps = class_heatmaps(model, images, 1, layer="features")
    assert quadrant_mass(maps).max() < 0.5


def test_callers_model_keeps_its_softmax(model, images):
    """Check that the linear output GradCAM needs is made on a clone: the model still
    returns probabilities afterwards."""
    class_heatmaps(model, images, 0, layer="features")
    np.testing.assert_allclose(np.asarray(model(images)).sum(axis=1), 1.0, rtol=1e-5)


def test_maps_have_the_input_size_and_lie_in_the_unit_range(model, images):
    """Check that maps from a 16x16 feature grid come back at 32x32, each in [0, 1] with
    peak 1."""
    maps = class_heatmaps(model, images, [0, 1, 0, 1], layer="features")
    assert maps.shape == (len(images), SIZE, SIZE)
    assert maps.dtype == np.float32
    assert maps.min() >= 0.0
    np.testing.assert_allclose(maps.max(axis=(1, 2)), 1.0, rtol=1e-6)


def test_map_without_evidence_is_all_zeros(model):
    """Check that a black image (no contrast anywhere, so an all-zero CAM) gives zeros, not NaN."""
    flat = np.zeros((2, SIZE, SIZE, 3), np.float32)
    maps = class_heatmaps(model, flat, 0, layer="features")
    assert np.array_equal(maps, np.zeros((2, SIZE, SIZE), np.float32))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("batch_size", [1, 3])
def test_batches_do_not_change_the_maps(model, images, batch_size, method):
    """Check that batches of 1 (the speed benchmark's baseline) or 3 (a partial last
    batch) give the same maps as one batch."""
    one = class_heatmaps(model, images, [0, 1, 1, 0], layer="features", method=method,
                         batch_size=32)
    parts = class_heatmaps(model, images, [0, 1, 1, 0], layer="features", method=method,
                           batch_size=batch_size)
    np.testing.assert_allclose(parts, one, atol=1e-6)


def test_uint8_images_are_scaled_to_the_unit_range(model):
    """Check that uint8 images give the maps of the same images divided by 255."""
    raw = (noise_images(2, seed=3) * 255).round().astype(np.uint8)
    from_uint8 = class_heatmaps(model, raw, 0, layer="features")
    from_float = class_heatmaps(model, raw.astype(np.float32) / 255.0, 0, layer="features")
    np.testing.assert_allclose(from_uint8, from_float, atol=1e-6)


def test_unknown_layer_is_rejected_by_name(model, images):
    """Check that a layer name the model lacks raises an error naming it."""
    with pytest.raises(InvalidParameterError, match="block5_conv4"):
        class_heatmaps(model, images, 0, layer="block5_conv4")


def test_layer_without_a_spatial_output_is_rejected(model, images):
    """Check that a layer with a (B, C) output (after global pooling) is refused."""
    with pytest.raises(InvalidParameterError, match="4-D"):
        class_heatmaps(model, images, 0, layer="gap")


def test_class_outside_the_output_is_rejected(model, images):
    """Check that a class index beyond the model's outputs raises."""
    with pytest.raises(InvalidParameterError, match="class_indices"):
        class_heatmaps(model, images, 2, layer="features")


def test_unknown_method_is_rejected(model, images):
    """Check that a method outside METHODS raises."""
    with pytest.raises(InvalidParameterError, match="method"):
        class_heatmaps(model, images, 0, layer="features", method="scorecam")


def _saliency_model():
    """A model whose front end is a hand-set 1x1 sigmoid conv named `saliency_map`."""
    import keras
    from keras import layers

    image = keras.Input((SIZE, SIZE, 3), name="image")
    saliency = layers.Conv2D(1, 1, activation="sigmoid", name="saliency_map")(image)
    gated = layers.Multiply(name="gate")([image, layers.Concatenate()([saliency] * 3)])
    pooled = layers.GlobalAveragePooling2D()(gated)
    model = keras.Model(image, layers.Dense(2, activation="softmax", name="predictions")(pooled))
    model.get_layer("saliency_map").set_weights([np.full((1, 1, 3, 1), 2.0, np.float32),
                                                 np.array([-3.0], np.float32)])
    return model


def test_saliency_front_maps_are_the_front_ends_sigmoid_output():
    """Check that the saliency maps equal sigmoid(2 * (r + g + b) - 3) of the hand-set front end."""
    images = noise_images(3, seed=1)
    maps = saliency_front_maps(_saliency_model(), images)
    expected = 1.0 / (1.0 + np.exp(-(2.0 * images.sum(axis=-1) - 3.0)))
    assert maps.shape == (3, SIZE, SIZE)
    np.testing.assert_allclose(maps, expected, atol=1e-5)


def test_model_without_saliency_front_end_is_refused(model, images):
    """Check that asking a model without `saliency_map` for its maps raises clearly."""
    assert not has_saliency_front(model)
    with pytest.raises(ValueError, match="no saliency front end"):
        saliency_front_maps(model, images)


def test_constant_nonzero_map_is_flat_and_becomes_zeros():
    """Check that a map equal everywhere (0.3, plus rounding noise) scales to zeros, not noise."""
    from backend.explain.heatmaps import _normalise_per_image

    maps = np.full((2, 4, 4), 0.3, np.float32)
    maps[1, 0, 0] += 1e-9
    assert np.array_equal(_normalise_per_image(maps), np.zeros((2, 4, 4), np.float32))


def test_map_with_nan_becomes_zeros_with_a_warning():
    """Check that a NaN map (e.g. overflow) comes back as zeros and warns, while a good map
    in the same batch is kept."""
    from backend.explain.heatmaps import _normalise_per_image

    maps = np.stack([np.arange(16, dtype=np.float32).reshape(4, 4)] * 2)
    maps[1, 2, 2] = np.nan
    with pytest.warns(RuntimeWarning, match="NaN"):
        out = _normalise_per_image(maps)
    np.testing.assert_allclose(out[0], np.arange(16).reshape(4, 4) / 15, atol=1e-6)
    assert np.array_equal(out[1], np.zeros((4, 4), np.float32))


def test_warm_gradcam_gives_class_heatmaps_maps_for_every_class(model, images):
    """Check that the compiled GradCAM's map of each class equals class_heatmaps' GradCAM."""
    _, maps = WarmGradcam(model, "features")(images)
    for c in (0, 1):
        expected = class_heatmaps(model, images, c, layer="features", method="gradcam")
        np.testing.assert_allclose(maps[:, c], expected, atol=1e-4)


def test_warm_gradcam_gives_the_model_s_probabilities(model, images):
    """Check that the probabilities from the same pass are the model's own."""
    probs, _ = WarmGradcam(model, "features")(images)
    np.testing.assert_allclose(probs, np.asarray(model(images)), atol=1e-5)


def test_warm_gradcam_refuses_a_model_without_a_softmax_output():
    """Check that a model ending in a linear layer is refused, naming that layer."""
    import keras

    x = keras.Input((SIZE, SIZE, 3))
    fmap = keras.layers.Conv2D(2, 3, name="conv")(x)
    out = keras.layers.Dense(2, name="scores")(keras.layers.GlobalAveragePooling2D()(fmap))
    with pytest.raises(InvalidParameterError, match="scores"):
        WarmGradcam(keras.Model(x, out), "conv")

"""Tests for the per-class augmentation ops and the greyscale conversion."""
import numpy as np
import pytest
import tensorflow as tf

from backend.data.augment import AugmentConfig, augment_batch, class_strengths, to_greyscale
from backend.params import InvalidParameterError


@pytest.fixture
def batch():
    """8 random float32 images of 32x32 in [0, 1]."""
    return np.random.default_rng(0).random((8, 32, 32, 3), dtype=np.float32)


def test_augment_keeps_shape_dtype_and_range(batch):
    """Check that the output has the input's shape, float32 dtype and values in [0, 1]."""
    out = augment_batch(batch, np.full(8, 2.0), AugmentConfig(greyscale_prob=0.5), (1, 2)).numpy()
    assert out.shape == (8, 32, 32, 3) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_augment_changes_images_at_strength_one(batch):
    """Check that strength 1 actually transforms every image."""
    out = augment_batch(batch, np.ones(8), AugmentConfig(), (1, 2)).numpy()
    assert all(not np.array_equal(out[i], batch[i]) for i in range(8))


def test_augment_is_deterministic_for_a_seed_pair(batch):
    """Check that one (seed, step) pair repeats the output and another step changes it."""
    cfg = AugmentConfig(greyscale_prob=0.5)
    first = augment_batch(batch, np.ones(8), cfg, (7, 0)).numpy()
    assert np.array_equal(first, augment_batch(batch, np.ones(8), cfg, (7, 0)).numpy())
    assert not np.array_equal(first, augment_batch(batch, np.ones(8), cfg, (7, 1)).numpy())


def test_strength_zero_is_the_identity(batch):
    """Check that images with strength 0 come back unchanged, flip and greyscale included."""
    cfg = AugmentConfig(horizontal_flip=True, greyscale_prob=1.0)
    out = augment_batch(batch, np.zeros(8), cfg, (3, 4)).numpy()
    assert np.array_equal(out, batch)


def test_flip_only_gives_the_image_or_its_mirror(batch):
    """Check that with no affine ranges each image is either itself or mirrored, both occurring."""
    cfg = AugmentConfig(rotation=0, width_shift=0, height_shift=0, shear=0, zoom=0)
    out = augment_batch(batch, np.ones(8), cfg, (0, 1)).numpy()
    flipped = [np.array_equal(out[i], batch[i, :, ::-1]) for i in range(8)]
    same = [np.array_equal(out[i], batch[i]) for i in range(8)]
    assert all(f != s for f, s in zip(flipped, same)) and any(flipped) and any(same)


def test_greyscale_prob_one_gives_three_equal_channels(batch):
    """Check that greyscale_prob=1 turns every image into 3 identical channels."""
    out = augment_batch(batch, np.ones(8), AugmentConfig(greyscale_prob=1.0), (0, 0)).numpy()
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])


def test_augment_in_a_tf_data_map_matches_eager(batch):
    """Check that the op runs in graph mode inside tf.data and gives the eager result."""
    cfg = AugmentConfig(greyscale_prob=0.5)
    ds = tf.data.Dataset.from_tensors(batch).map(
        lambda x: augment_batch(x, tf.ones([8]), cfg, tf.constant([5, 9], tf.int64)))
    graph = next(iter(ds)).numpy()
    assert np.array_equal(graph, augment_batch(batch, np.ones(8), cfg, (5, 9)).numpy())


def test_class_strengths_rise_linearly_as_classes_shrink():
    """Check that the largest class gets 1, half its size 1.5 and an empty class max_strength."""
    strengths = class_strengths([100, 50, 0], AugmentConfig(max_strength=2.0))
    assert strengths.tolist() == [1.0, 1.5, 2.0]


def test_class_strengths_of_no_images_are_one():
    """Check that all-zero counts give strength 1 everywhere."""
    assert class_strengths([0, 0], AugmentConfig()).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("field, value", [("rotation", -1), ("zoom", 1.5), ("greyscale_prob", 2),
                                          ("max_strength", 0.5), ("fill_mode", "mirror")])
def test_config_rejects_bad_values(field, value):
    """Check that a bad config value raises naming the field and the value."""
    with pytest.raises(InvalidParameterError) as info:
        AugmentConfig(**{field: value})
    assert f"'{field}'" in str(info.value) and repr(value) in str(info.value)


def test_to_greyscale_numpy_uint8_rounds_the_luminance():
    """Check that pure red becomes round(0.299 x 255) = 76 in all 3 channels, as uint8."""
    out = to_greyscale(np.array([[[255, 0, 0]]], dtype=np.uint8))
    assert out.dtype == np.uint8 and out.tolist() == [[[76, 76, 76]]]


def test_to_greyscale_numpy_float_keeps_dtype():
    """Check that a float32 array stays float32 with 3 equal luminance channels."""
    out = to_greyscale(np.array([[0.0, 1.0, 0.0]], dtype=np.float32))
    assert out.dtype == np.float32 and out.tolist() == [[np.float32(0.587)] * 3]


def test_to_greyscale_tensor_matches_numpy():
    """Check that a uint8 tf tensor gives the same uint8 result as the numpy path."""
    images = np.random.default_rng(1).integers(0, 256, (2, 4, 4, 3), dtype=np.uint8)
    out = to_greyscale(tf.constant(images))
    assert tf.is_tensor(out) and out.dtype == tf.uint8
    assert np.array_equal(out.numpy(), to_greyscale(images))

"""Tests for the tf.data pipeline over uint8 face arrays."""
import numpy as np
import pytest

from backend.data.augment import AugmentConfig
from backend.data.input_pipeline import make_dataset, steps_per_epoch
from backend.params import InvalidParameterError


@pytest.fixture
def data():
    """8 distinct uint8 images of 32x32 and labels in 3 classes."""
    images = np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
    return images, np.array([0, 1, 2, 0, 1, 2, 0, 1])


def epoch(ds):
    """All images and labels of one pass, concatenated."""
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    return np.concatenate(xs), np.concatenate(ys)


def test_eval_batches_have_the_right_shapes_and_one_hot_labels(data):
    """Check batch shapes, float32 dtype and one-hot labels in the input's order."""
    images, labels = data
    ds = make_dataset(images, labels, n_classes=3, batch_size=3)
    assert [tuple(x.shape) for x, _ in ds] == [(3, 32, 32, 3), (3, 32, 32, 3), (2, 32, 32, 3)]
    x, y = epoch(ds)
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert np.array_equal(y, np.eye(3, dtype=np.float32)[labels])


def test_eval_yields_scaled_images_in_order_every_pass(data):
    """Check that eval gives images / 255 in array order, the same on every pass."""
    images, labels = data
    ds = make_dataset(images, labels, n_classes=3, batch_size=3)
    first, second = epoch(ds)[0], epoch(ds)[0]
    assert np.array_equal(first, images.astype(np.float32) / 255.0)
    assert np.array_equal(first, second)


def test_image_size_resizes(data):
    """Check that image_size=40 gives 40x40 images still in [0, 1]."""
    images, labels = data
    x, _ = epoch(make_dataset(images, labels, n_classes=3, batch_size=8, image_size=40))
    assert x.shape == (8, 40, 40, 3) and x.min() >= 0.0 and x.max() <= 1.0


def test_training_batches_differ_across_epochs(data):
    """Check that training reshuffles (and re-augments) on every pass."""
    images, labels = data
    ds = make_dataset(images, labels, n_classes=3, batch_size=4, training=True,
                      augment=AugmentConfig(), seed=1)
    assert not np.array_equal(epoch(ds)[0], epoch(ds)[0])


def test_training_without_augment_only_reorders(data):
    """Check that a training epoch without augmentation holds each image once with its label."""
    images, labels = data
    x, y = epoch(make_dataset(images, labels, n_classes=3, batch_size=4, training=True, seed=1))
    expected = images.astype(np.float32) / 255.0
    order = [next(i for i in range(8) if np.array_equal(img, expected[i])) for img in x]
    assert sorted(order) == list(range(8)) and order != list(range(8))
    assert np.array_equal(y, np.eye(3, dtype=np.float32)[labels[order]])


def test_training_is_deterministic_for_a_seed(data):
    """Check that two datasets built with one seed give the same augmented first epoch."""
    images, labels = data
    build = lambda: make_dataset(images, labels, n_classes=3, batch_size=4, training=True,
                                 augment=AugmentConfig(greyscale_prob=0.5), seed=3)
    assert np.array_equal(epoch(build())[0], epoch(build())[0])


def test_zero_strengths_switch_augmentation_off(data):
    """Check that training with all-zero class strengths and no shuffle equals eval."""
    images, labels = data
    train = make_dataset(images, labels, n_classes=3, batch_size=4, training=True, shuffle=False,
                         augment=AugmentConfig(greyscale_prob=1.0), strengths=[0, 0, 0])
    assert np.array_equal(epoch(train)[0], epoch(make_dataset(images, labels, n_classes=3))[0])


def test_greyscale_gives_three_equal_channels(data):
    """Check that greyscale=True turns every image grey."""
    images, labels = data
    x, _ = epoch(make_dataset(images, labels, n_classes=3, greyscale=True))
    assert np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 1], x[..., 2])


@pytest.mark.parametrize("cache", [False, True])
def test_memmap_input_gives_the_arrays_images(data, tmp_path, cache):
    """Check that a np.memmap of images.npy feeds the same images, with or without cache."""
    images, labels = data
    np.save(tmp_path / "images.npy", images)
    mapped = np.load(tmp_path / "images.npy", mmap_mode="r")
    x, _ = epoch(make_dataset(mapped, labels, n_classes=3, batch_size=3, cache=cache))
    assert np.array_equal(x, images.astype(np.float32) / 255.0)


def test_labels_outside_the_classes_raise(data):
    """Check that a label >= n_classes raises naming 'labels' and the value."""
    images, labels = data
    with pytest.raises(InvalidParameterError, match="'labels'.* 3 "):
        make_dataset(images, np.where(labels == 2, 3, labels), n_classes=3)


def test_float_images_raise(data):
    """Check that non-uint8 images raise naming 'images'."""
    images, labels = data
    with pytest.raises(InvalidParameterError, match="'images'.*float32"):
        make_dataset(images.astype(np.float32), labels, n_classes=3)


@pytest.mark.parametrize("n, batch_size, steps", [(10, 3, 4), (9, 3, 3), (0, 3, 0), (1, 32, 1)])
def test_steps_per_epoch_rounds_up(n, batch_size, steps):
    """Check that steps_per_epoch is ceil(n / batch_size)."""
    assert steps_per_epoch(n, batch_size) == steps

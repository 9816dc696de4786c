"""Tests for the plain baselines of the speed benchmark."""
import numpy as np

from backend.data.augment_config import AugmentConfig
from bench.baselines import affine_coefficients, augment


def test_zero_draw_gives_the_identity_transform():
    """Check that all-zero random draws give PIL's identity affine (1, 0, 0, 0, 1, 0)."""
    coefficients = affine_coefficients(np.zeros(5), 64, AugmentConfig())
    assert np.allclose(coefficients, (1.0, 0.0, 0.0, 0.0, 1.0, 0.0))


def test_shift_draw_moves_the_sampling_point_by_the_configured_fraction():
    """Check that a full x-shift draw offsets the input x by width_shift * size pixels."""
    coefficients = affine_coefficients(np.array([0.0, 1.0, 0.0, 0.0, 0.0]), 100,
                                       AugmentConfig(width_shift=0.1))
    assert np.isclose(coefficients[2], 10.0)


def test_strength_zero_leaves_the_image_unchanged():
    """Check that an image of a class with strength 0 comes back as it was, scaled to [0, 1]."""
    image = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    out = augment(image, 0.0, np.random.default_rng(1), AugmentConfig())
    assert np.array_equal(out, image.astype(np.float32) / 255.0)

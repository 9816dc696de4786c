"""Tests of backend/explain/overlay.py."""
from __future__ import annotations

import numpy as np
import pytest

from backend.explain.overlay import overlay, viridis


def test_viridis_maps_zero_to_purple_and_one_to_yellow():
    """Check that 0 is #440154 and 1 is #fde725, as in the paper's colour map."""
    assert viridis(0.0).tolist() == [0x44, 0x01, 0x54]
    assert viridis(1.0).tolist() == [0xFD, 0xE7, 0x25]


def test_viridis_middle_is_matplotlibs_teal():
    """Check that 128/255 is viridis entry 128, #21918c."""
    assert viridis(128 / 255).tolist() == [0x21, 0x91, 0x8C]


def test_viridis_adds_an_rgb_axis_in_uint8():
    """Check that a (2, 3) map becomes a (2, 3, 3) uint8 image."""
    colours = viridis(np.linspace(0, 1, 6).reshape(2, 3))
    assert colours.shape == (2, 3, 3) and colours.dtype == np.uint8


def test_viridis_clips_values_outside_the_unit_range():
    """Check that -1 draws like 0 and 2 like 1."""
    assert np.array_equal(viridis([-1.0, 2.0]), viridis([0.0, 1.0]))


def test_overlay_with_alpha_zero_is_the_image():
    """Check that alpha 0 leaves the face unchanged."""
    image = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    assert np.array_equal(overlay(image, np.ones((8, 8)), alpha=0.0), image)


def test_overlay_with_alpha_one_is_the_colour_map():
    """Check that alpha 1 shows only the viridis colours of the heatmap."""
    image = np.zeros((4, 4, 3), np.uint8)
    heat = np.linspace(0, 1, 16).reshape(4, 4)
    assert np.array_equal(overlay(image, heat, alpha=1.0), viridis(heat))


def test_overlay_blends_with_the_given_weight():
    """Check that a white face under a zero map at alpha 0.45 is 0.55*255 + 0.45*#440154."""
    image = np.full((2, 2, 3), 255, np.uint8)
    blended = overlay(image, np.zeros((2, 2)), alpha=0.45)
    expected = np.rint(0.55 * 255 + 0.45 * np.array([0x44, 0x01, 0x54])).astype(np.uint8)
    assert np.array_equal(blended[0, 0], expected)


def test_overlay_refuses_a_heatmap_of_another_size():
    """Check that a heatmap that does not match the image raises."""
    with pytest.raises(ValueError, match="same"):
        overlay(np.zeros((8, 8, 3), np.uint8), np.zeros((4, 4)))


def test_overlay_refuses_a_float_image():
    """Check that a float [0, 1] image is refused rather than blended on the wrong scale."""
    with pytest.raises(ValueError, match="uint8"):
        overlay(np.zeros((8, 8, 3), np.float32), np.zeros((8, 8)))

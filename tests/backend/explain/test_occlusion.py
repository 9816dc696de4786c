"""Tests of backend/explain/occlusion.py with numpy-only predict functions."""
from __future__ import annotations

import numpy as np
import pytest

from backend.explain.occlusion import cell_edges, occlusion_maps, upsample
from backend.params import InvalidParameterError
from tests.backend.explain.quadrant_model import HALF, SIZE, noise_images, quadrant_mass


def quadrant_predict(batch: np.ndarray) -> np.ndarray:
    """Two classes: class 0 grows with the contrast (std) of the top-left quadrant only."""
    contrast = np.asarray(batch)[:, :HALF, :HALF].std(axis=(1, 2, 3))
    p0 = 1.0 / (1.0 + np.exp(-40.0 * (contrast - 0.2)))
    return np.stack([p0, 1.0 - p0], axis=1)


def test_class_map_mass_lies_in_the_quadrant_the_class_reads():
    """Check that the occlusion map of class 0, which reads only the top-left quadrant,
    puts most of its mass there (bilinear upsampling spills half a cell beyond it)."""
    maps = occlusion_maps(quadrant_predict, noise_images(3), 0, grid=4)
    assert quadrant_mass(maps).min() > 0.8


def test_maps_are_per_image_in_unit_range_at_the_image_size():
    """Check that the maps have the images' height and width and peak at exactly 1."""
    maps = occlusion_maps(quadrant_predict, noise_images(2), [0, 0], grid=4)
    assert maps.shape == (2, SIZE, SIZE) and maps.dtype == np.float32
    assert maps.min() >= 0 and np.allclose(maps.max(axis=(1, 2)), 1.0)


def test_a_model_that_ignores_the_image_gives_flat_maps():
    """Check that a constant predictor (nothing covered changes it) gives all-zero maps."""
    constant = lambda batch: np.tile([[0.7, 0.3]], (len(batch), 1))  # noqa: E731
    assert not occlusion_maps(constant, noise_images(2), 0, grid=4).any()


def test_batch_size_changes_only_the_calls_not_the_maps():
    """Check that batches of 1 and of 64 give the same maps, and no call exceeds its size."""
    sizes = []

    def counting(batch):
        sizes.append(len(batch))
        return quadrant_predict(batch)

    small = occlusion_maps(counting, noise_images(2), 0, grid=4, batch_size=5)
    assert max(sizes) <= 5
    np.testing.assert_allclose(small, occlusion_maps(quadrant_predict, noise_images(2), 0,
                                                     grid=4, batch_size=64), atol=1e-6)


def test_every_cell_is_covered_once_per_image():
    """Check that a grid of g cells per side costs g*g predictions per image, plus the
    unoccluded images."""
    calls = []
    occlusion_maps(lambda b: calls.append(len(b)) or quadrant_predict(b), noise_images(3), 0,
                   grid=4, batch_size=1000)
    assert sum(calls) == 3 * 16 + 3


def test_cell_edges_cover_the_side_without_gaps():
    """Check that the cells of an uneven split start at 0, end at the side and never shrink
    to nothing."""
    edges = cell_edges(30, 8)
    assert edges[0] == 0 and edges[-1] == 30 and (np.diff(edges) >= 3).all()


def test_upsampling_keeps_a_constant_map_constant_and_the_cell_order():
    """Check that bilinear upsampling keeps a constant map constant and a left-to-right
    ramp increasing."""
    assert np.allclose(upsample(np.full((4, 4), 0.5), (32, 32)), 0.5)
    ramp = upsample(np.tile(np.arange(4.0), (4, 1)), (8, 16))
    assert ramp.shape == (8, 16) and (np.diff(ramp[0]) >= 0).all() and ramp[0, 0] == 0


def test_a_grid_finer_than_the_image_is_refused():
    """Check that more cells per side than pixels is an error naming the parameter."""
    with pytest.raises(InvalidParameterError, match="'grid'"):
        occlusion_maps(quadrant_predict, noise_images(1), 0, grid=SIZE + 1)


def test_a_predict_function_with_the_wrong_answer_shape_is_refused():
    """Check that a predict function returning one number per image is named in the error."""
    with pytest.raises(InvalidParameterError, match="'predict_fn'"):
        occlusion_maps(lambda b: np.zeros(len(b)), noise_images(1), 0, grid=2)

"""Tests of backend/explain/scores.py."""
from __future__ import annotations

import math

import numpy as np
import pytest

from backend.explain.scores import (FACE_REGION, deletion_auc, face_region_share,
                                    insertion_auc, normalised_entropy, perturbation_baseline,
                                    random_heatmap, region_mask, top_mass_share)
from backend.params import InvalidParameterError


def one_hot(shape=(40, 40), at=(3, 7)):
    h = np.zeros(shape)
    h[at] = 1.0
    return h


def test_entropy_of_a_uniform_map_is_one():
    """Check that mass spread evenly over all pixels has normalised entropy 1."""
    assert normalised_entropy(np.full((40, 40), 0.7)) == pytest.approx(1.0)


def test_entropy_of_a_one_hot_map_is_zero():
    """Check that all mass on one pixel has entropy 0."""
    assert normalised_entropy(one_hot()) == pytest.approx(0.0, abs=1e-12)


def test_entropy_of_two_equal_pixels_is_log2_over_log_n():
    """Check that two equal peaks in 1600 pixels give log(2) / log(1600)."""
    h = one_hot() + one_hot(at=(20, 20))
    assert normalised_entropy(h) == pytest.approx(math.log(2) / math.log(1600))


def test_top_mass_of_a_uniform_map_is_the_fraction():
    """Check that the top 10% of a uniform map hold 10% of its mass."""
    assert top_mass_share(np.ones((40, 40)), 0.1) == pytest.approx(0.1)


def test_top_mass_of_a_one_hot_map_is_one():
    """Check that a single bright pixel holds all the mass of the top 10%."""
    assert top_mass_share(one_hot(), 0.1) == pytest.approx(1.0)


def test_top_mass_counts_only_the_brightest_pixels():
    """Check that in a 0..99 ramp the top 10 pixels (90..99) hold 945 / 4950 of the mass."""
    ramp = np.arange(100, dtype=float).reshape(10, 10)
    assert top_mass_share(ramp, 0.1) == pytest.approx(945 / 4950)


def test_face_share_of_a_uniform_map_is_the_face_box_area():
    """Check that a uniform 30x30 map has 4/9 of its mass in the central 1/6..5/6 box."""
    assert face_region_share(np.ones((30, 30))) == pytest.approx(4 / 9)


def test_face_share_of_a_map_on_the_face_box_is_one():
    """Check that mass only inside the face box gives share 1 and outside gives 0."""
    inside = region_mask((30, 30), FACE_REGION).astype(float)
    assert face_region_share(inside) == pytest.approx(1.0)
    assert face_region_share(1.0 - inside) == pytest.approx(0.0)


def test_face_box_is_the_central_two_thirds():
    """Check that the default box covers rows and columns 5..24 of a 30-pixel side."""
    rows = np.flatnonzero(region_mask((30, 30)).any(axis=1))
    assert rows.tolist() == list(range(5, 25))


@pytest.mark.parametrize("score", [top_mass_share, normalised_entropy, face_region_share])
def test_scores_of_an_all_zero_map_are_nan(score):
    """Check that a map without mass has no defined share or entropy."""
    assert math.isnan(score(np.zeros((8, 8))))


def test_negative_heatmap_is_rejected():
    """Check that a map with negative values raises rather than giving a wrong share."""
    with pytest.raises(InvalidParameterError, match="non-negative"):
        normalised_entropy(np.array([[1.0, -0.5], [0.2, 0.1]]))


def mean_brightness(batch):
    """A fake classifier: p(class 0) = mean pixel value, p(class 1) = the rest."""
    p = np.asarray(batch).mean(axis=(1, 2, 3))
    return np.stack([p, 1 - p], axis=1)


def test_deletion_auc_uses_the_trapezoid_rule_on_a_unit_axis():
    """Check that deleting a white image to black in 4 chunks, p = 1 - k/4, has AUC 0.5."""
    heat = np.random.default_rng(0).random((8, 8))
    curve = deletion_auc(mean_brightness, np.ones((8, 8, 3)), heat, 0, steps=4, baseline="black")
    np.testing.assert_allclose(curve.fractions, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(curve.scores, [1, 0.75, 0.5, 0.25, 0])
    assert curve.auc == pytest.approx(0.5)


def test_deletion_removes_pixels_in_heatmap_order():
    """Check that deleting the bright half of an image first drops p fastest: AUC 1/4 vs 3/4."""
    image = np.zeros((8, 8, 3))
    image[:, :4] = 1.0
    toward_bright = np.zeros((8, 8))
    toward_bright[:, :4] = 1.0
    good = deletion_auc(mean_brightness, image, toward_bright, 0, steps=8, baseline="black")
    bad = deletion_auc(mean_brightness, image, 1.0 - toward_bright, 0, steps=8, baseline="black")
    assert good.auc == pytest.approx(0.125)
    assert bad.auc == pytest.approx(0.375)


def test_insertion_goes_from_the_baseline_to_the_image():
    """Check that insertion starts at the baseline's score and ends at the image's."""
    image = np.full((8, 8, 3), 0.8)
    curve = insertion_auc(mean_brightness, image, np.ones((8, 8)), 0, steps=5, baseline="black")
    assert curve.scores[0] == pytest.approx(0.0)
    assert curve.scores[-1] == pytest.approx(0.8)


def test_a_curve_is_one_predict_call_with_all_steps():
    """Check that steps + 1 images go to predict_fn in a single call."""
    calls = []

    def predict(batch):
        calls.append(len(batch))
        return mean_brightness(batch)

    deletion_auc(predict, np.ones((8, 8, 3)), np.ones((8, 8)), 0, steps=20)
    assert calls == [21]


def test_curve_config_records_steps_and_baseline():
    """Check that the returned config names the steps, the baseline and the blur used."""
    curve = insertion_auc(mean_brightness, np.ones((32, 32, 3)), np.ones((32, 32)), 0,
                          steps=10, baseline="blur")
    assert curve.config["steps"] == 10
    assert curve.config["baseline"] == "blur"
    assert curve.config["blur_sigma"] == pytest.approx(2.0)
    assert curve.config["kind"] == "insertion"


def test_blur_baseline_keeps_the_mean_but_removes_detail():
    """Check that the blurred copy of noise keeps its mean and loses most of its variance."""
    noise = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)
    blurred = perturbation_baseline(noise, "blur")
    assert blurred.mean() == pytest.approx(noise.mean(), abs=0.02)
    assert blurred.std() < 0.2 * noise.std()


def test_random_heatmap_is_reproducible_from_its_seed():
    """Check that the same seed gives the same map and another seed another map."""
    assert np.array_equal(random_heatmap((16, 20), 3), random_heatmap((16, 20), 3))
    assert not np.array_equal(random_heatmap((16, 20), 3), random_heatmap((16, 20), 4))


def test_random_heatmap_is_smooth_and_in_the_unit_range():
    """Check that the random map spans [0, 1] with neighbours far closer than in white noise."""
    h = random_heatmap((64, 64), 0)
    assert h.shape == (64, 64) and h.min() == 0.0 and h.max() == 1.0
    assert np.abs(np.diff(h, axis=1)).mean() < 0.05


def test_real_map_deletes_the_class_faster_than_a_random_map():
    """Check that on the quadrant model the GradCAM map's deletion AUC is below that of
    random smooth maps, for every image."""
    from backend.explain.heatmaps import class_heatmaps
    from tests.backend.explain.quadrant_model import noise_images, quadrant_model

    model = quadrant_model()
    images = noise_images(3, seed=0)

    def predict(batch):
        return np.asarray(model(batch, training=False))

    maps = class_heatmaps(model, images, 0, layer="features")
    for image, h in zip(images, maps):
        real = deletion_auc(predict, image, h, 0).auc
        random = [deletion_auc(predict, image, random_heatmap(h.shape, s), 0).auc for s in range(3)]
        assert real < min(random)

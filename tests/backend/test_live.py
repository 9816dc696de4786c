"""Tests of backend/live.py on untrained tiny run folders (32 px, random weights)."""
from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from backend.live import CropSpec, LiveRun, Member, annotated_photo, face_overlay
from tests.tiny_runs import SIZE, write_ensemble, write_member

pytestmark = pytest.mark.timeout(600)
CROP = CropSpec("cnn", 0.25, SIZE)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    image = write_member(root / "image", "efficientnet_lite0")
    descriptor = write_member(root / "descriptor", "dlib_face")
    return {"image": image, "descriptor": descriptor,
            "ensemble": write_ensemble(root / "ensemble", ["image#1", "descriptor#2"])}


@pytest.fixture(scope="module")
def single(folders):
    return LiveRun.load([folders["image"]], CROP)


@pytest.fixture(scope="module")
def ensemble(folders):
    return LiveRun.load([folders["image"], folders["descriptor"]], CROP,
                        ensemble_dir=folders["ensemble"])


def test_crop_spec_for_photos_finds_faces_for_a_dataset_of_cut_faces():
    """Check that a dataset cropped with 'none' (faces came cut) uses the CNN's boxes on
    photos, and that other detectors are kept."""
    assert CropSpec.for_photos("none", 0.25, 128).detector == "cnn"
    assert CropSpec.for_photos("hog", 0.3, 64) == CropSpec("hog", 0.3, 64)


def test_faces_finds_the_astronaut_with_probabilities_and_a_gradcam_map(single):
    """Check that the astronaut photo gives one face: its box on the face, probabilities
    summing to 1 and a GradCAM map in [0, 1] at the model's input size."""
    faces = single.faces(data.astronaut())
    assert len(faces) == 1
    face = faces[0]
    left, top, right, bottom = face.box
    assert left < 218 < right and top < 117 < bottom
    assert face.probs.shape == (5,) and face.probs.sum() == pytest.approx(1.0, abs=1e-4)
    assert face.method == "gradcam" and face.heatmap.shape == (SIZE, SIZE)
    assert 0.0 <= face.heatmap.min() and face.heatmap.max() <= 1.0
    assert face.crop.shape == (SIZE, SIZE, 3)


def test_faces_of_a_photo_without_a_face_is_empty(single):
    """Check that a grey photo gives no face and no error."""
    assert single.faces(np.full((240, 320, 3), 128, np.uint8)) == []


def test_ensemble_probabilities_average_its_members(folders, ensemble):
    """Check that an averaging ensemble answers the mean of its members' probabilities and
    explains with its image member's GradCAM."""
    crops = np.random.default_rng(0).integers(0, 255, (2, SIZE, SIZE, 3), dtype=np.uint8)
    probs, maps, method = ensemble.predict(crops)
    expected = np.mean([m.predict(crops) for m in ensemble.members], axis=0)
    np.testing.assert_allclose(probs, expected, atol=1e-5)
    assert method == "gradcam" and maps.shape == (2, SIZE, SIZE)


def test_a_run_without_a_feature_map_is_explained_by_occlusion(folders):
    """Check that a dlib_face run, which has no feature map, gets occlusion maps at the
    crop's size."""
    run = LiveRun.load([folders["descriptor"]], CROP, occlusion_grid=2)
    probs, maps, method = run.predict(np.zeros((1, SIZE, SIZE, 3), np.uint8))
    assert method == "occlusion" and maps.shape == (1, SIZE, SIZE) and probs.shape == (1, 5)


def test_adjusted_probabilities_choose_the_class_explained(single):
    """Check that `adjust` (a prior shift) gives the answered probabilities, and that the
    map explains the class they choose, not the unadjusted one."""
    crops = np.zeros((1, SIZE, SIZE, 3), np.uint8)
    raw, _, _ = single.predict(crops, explain=False)
    target = int(np.argmin(raw[0]))
    certain = np.eye(5, dtype=np.float32)[target][None]
    probs, maps, _ = single.predict(crops, adjust=lambda p: certain)
    _, every_class = single.explained.predict_and_explain(crops)
    np.testing.assert_allclose(probs, certain)
    np.testing.assert_allclose(maps[0], every_class[0, target], atol=1e-6)


def test_no_explanation_is_made_unless_asked(single):
    """Check that explain=False gives probabilities without any map."""
    _, maps, method = single.predict(np.zeros((1, SIZE, SIZE, 3), np.uint8), explain=False)
    assert (maps, method) == (None, "none")


def test_member_predictions_match_the_run_folder_s_own(folders):
    """Check that the warm member predicts what backend.training.run_folder predicts."""
    from backend.training.run_folder import predict_probs

    crops = np.random.default_rng(1).integers(0, 255, (3, SIZE, SIZE, 3), dtype=np.uint8)
    np.testing.assert_allclose(Member(folders["image"]).predict(crops),
                               predict_probs(folders["image"], crops), atol=1e-5)


def test_a_mirrored_run_explains_both_views(folders):
    """Check that a member trained with tta (the cpu preset's) gives the mean of the
    crop's and its mirror's probabilities with the maps, as it does without them."""
    member = Member(folders["image"])
    assert member.config.tta
    crops = np.random.default_rng(2).integers(0, 255, (2, SIZE, SIZE, 3), dtype=np.uint8)
    probs, maps = member.predict_and_explain(crops)
    np.testing.assert_allclose(probs, member.predict(crops), atol=1e-5)
    assert maps.shape == (2, 5, SIZE, SIZE)


def test_face_overlay_is_the_crop_under_its_map(single):
    """Check that the overlay has the map's size and colours the crop."""
    face = single.faces(data.astronaut())[0]
    drawn = face_overlay(face)
    assert drawn.shape == (SIZE, SIZE, 3) and drawn.dtype == np.uint8
    assert not np.array_equal(drawn, face.crop)


def test_annotated_photo_is_shrunk_and_boxed():
    """Check that a 1800 px photo comes back 900 px wide with the box drawn in yellow."""
    photo = np.zeros((1200, 1800, 3), np.uint8)
    drawn = annotated_photo(photo, [(400, 200, 800, 600)])
    assert drawn.shape == (600, 900, 3)
    assert (drawn[100:300, 200] == (255, 214, 0)).all(axis=1).any()

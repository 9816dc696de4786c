"""Tests for dlib face descriptors and the descriptor model."""
from __future__ import annotations

import numpy as np
import pytest
from skimage.data import astronaut

from backend.models import dlib_face
from backend.models.dlib_face import build_descriptor_model, central_box, face_descriptors
from backend.params import InvalidParameterError

# dlib's HOG detector finds the astronaut's face at rows 76-166, cols 175-265 (~90 px);
# the crop adds a 25% margin (22 px) on each side, like the dataset's crops.
FACE = (76, 166, 175, 265)
CROP = (slice(54, 188), slice(153, 287))


@pytest.fixture(scope="module")
def crops() -> np.ndarray:
    """One astronaut face crop with a 25% margin, as a batch of one."""
    return np.ascontiguousarray(astronaut()[CROP])[None]


@pytest.fixture(scope="module")
def whole_image_descriptor() -> np.ndarray:
    """dlib's own descriptor of the face, detected and aligned in the whole 512 px image."""
    detector, predictor, network = dlib_face._dlib_models()
    image = astronaut()
    box = max(detector(image, 1), key=lambda r: r.area())
    return np.asarray(network.compute_face_descriptor(image, predictor(image, box)), np.float32)


@pytest.fixture(scope="module")
def descriptor(crops) -> np.ndarray:
    return face_descriptors(crops)


def test_descriptor_is_128_float32_per_crop(descriptor):
    """Check that each crop gives one float32 vector of 128 values."""
    assert descriptor.shape == (1, 128) and descriptor.dtype == np.float32


def test_crop_descriptor_matches_the_whole_image_one(descriptor, whole_image_descriptor):
    """Check that the crop's descriptor is dlib's descriptor of that face (well under dlib's 0.6)."""
    assert np.linalg.norm(descriptor[0] - whole_image_descriptor) < 0.1


def test_descriptor_norm_is_dlibs_scale(descriptor):
    """Check the descriptor's length: dlib's are not unit vectors (this face: about 1.46)."""
    assert 1.0 < np.linalg.norm(descriptor[0]) < 2.0


def test_descriptor_is_deterministic(crops, descriptor):
    """Check that describing the same crop again gives the same numbers."""
    np.testing.assert_array_equal(face_descriptors(crops), descriptor)


def test_central_box_is_where_the_margin_puts_the_face(crops):
    """Check that the fallback box lies within a few pixels of the detected face in the crop."""
    top, bottom, left, right = FACE
    dy, dx = CROP[0].start, CROP[1].start
    expected = (left - dx, top - dy, right - dx, bottom - dy)
    assert np.abs(np.subtract(central_box(crops.shape[1], 0.25), expected)).max() <= 3


def test_undetectable_crop_falls_back_to_the_central_box(crops, descriptor, monkeypatch):
    """Check that with no detection the central box still gives the face's descriptor."""
    detector, predictor, network = dlib_face._dlib_models()
    monkeypatch.setattr(dlib_face, "_dlib_models", lambda: (lambda img, up: [], predictor, network))
    assert np.linalg.norm(face_descriptors(crops)[0] - descriptor[0]) < 0.1


def test_second_call_reads_the_cache_and_computes_nothing(crops, descriptor, tmp_path, monkeypatch):
    """Check that a rerun with the same cache_dir returns the cached descriptors without dlib."""
    face_descriptors(crops, cache_dir=tmp_path)

    def refuse(crop, margin, jitter=0):
        raise AssertionError("dlib was called on a cached crop")

    monkeypatch.setattr(dlib_face, "_describe", refuse)
    np.testing.assert_array_equal(face_descriptors(crops, cache_dir=tmp_path), descriptor)


def test_cache_holds_one_file_per_distinct_crop(crops, tmp_path):
    """Check that two identical crops and one different crop leave two cached files."""
    flipped = np.ascontiguousarray(crops[:, :, ::-1])
    face_descriptors(np.concatenate([crops, crops, flipped]), cache_dir=tmp_path)
    assert len(list(tmp_path.rglob("*.npy"))) == 2


def test_jitter_describes_the_same_face_differently(crops, descriptor):
    """Check that a jittered descriptor differs from the clean one yet stays the same
    person by dlib's threshold (0.6)."""
    jittered = face_descriptors(crops, jitter=1)
    assert 0 < np.linalg.norm(jittered[0] - descriptor[0]) < 0.6


def test_jitters_are_cached_apart_from_the_clean_descriptor(crops, tmp_path):
    """Check that the clean descriptor and jitters 1 and 2 of one crop are three files."""
    for jitter in (0, 1, 2):
        face_descriptors(crops, cache_dir=tmp_path, jitter=jitter)
    assert len(list(tmp_path.rglob("*.npy"))) == 3


def test_progress_reports_done_and_total(crops):
    """Check that progress is called with (done, total), ending at (N, N)."""
    calls = []
    face_descriptors(np.concatenate([crops, crops]), chunk=1,
                     progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 2), (1, 2), (2, 2)]


@pytest.mark.slow
def test_worker_processes_give_the_same_descriptors(crops, descriptor):
    """Check that workers=2 (separate processes) matches the in-process result."""
    both = face_descriptors(np.concatenate([crops, crops]), workers=2, chunk=1)
    np.testing.assert_allclose(both, np.repeat(descriptor, 2, axis=0), atol=1e-6)


def test_non_uint8_images_are_rejected(crops):
    """Check that float images raise an error naming the parameter and the expected array."""
    with pytest.raises(InvalidParameterError, match=r"'images'.*uint8 array of shape \(N, S, S, 3\)"):
        face_descriptors(crops.astype(np.float32))


def test_descriptor_model_predicts_probabilities():
    """Check that build_descriptor_model maps (B, 128) descriptors to probabilities summing to 1."""
    model = build_descriptor_model(8)
    probs = model.predict(np.random.default_rng(0).normal(size=(3, 128)).astype(np.float32), verbose=0)
    assert model.inputs[0].name == "descriptor" and probs.shape == (3, 8)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def _descriptors_in_a_daemon(queue, crop):
    from backend.models.dlib_face import face_descriptors

    queue.put(face_descriptors(np.stack([crop] * 130), workers=2, chunk=64).shape)


def test_worker_processes_fall_back_to_one_inside_a_daemon_process():
    """Check that asking for 2 workers inside a daemon process (a Celery prefork child)
    computes the descriptors in that process instead of failing to start a pool."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    crop = np.zeros((64, 64, 3), np.uint8)
    child = ctx.Process(target=_descriptors_in_a_daemon, args=(queue, crop), daemon=True)
    child.start()
    shape = queue.get(timeout=300)
    child.join(timeout=60)
    assert shape == (130, 128)

"""Tests for backend.data.faces: detection, square margin boxes and crops."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

from backend.data.faces import (
    DETECTORS,
    crop_face,
    detect_faces,
    expand_box,
    extract_face,
    find_faces,
    largest_box,
    make_detector,
)
from backend.data.images import load_image
from backend.params import InvalidParameterError

# The astronaut's face centre (x, y) in skimage's 512x512 portrait, measured once.
FACE_CENTRE = (218, 117)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return data.astronaut()


def _centre(box) -> np.ndarray:
    left, top, right, bottom = box
    return np.array([(left + right) / 2, (top + bottom) / 2])


@pytest.mark.parametrize("detector", ["cnn", "hog"])
def test_detector_finds_the_astronaut_face(astronaut, detector):
    """Check that the detector puts its largest box on the astronaut's face."""
    box = largest_box(detect_faces(astronaut, detector))
    assert np.abs(_centre(box) - FACE_CENTRE).max() < 15
    assert 70 <= box[2] - box[0] <= 130


@pytest.mark.parametrize("detector", ["cnn", "hog"])
def test_extract_face_crop_is_centred_on_the_face(astronaut, detector):
    """Check that the 128 px crop has the face in its middle (found again in the crop)."""
    crop = extract_face(astronaut, detector)
    assert crop.shape == (128, 128, 3) and crop.dtype == np.uint8
    again = largest_box(detect_faces(crop, detector))
    assert np.abs(_centre(again) - 64).max() <= 10


def test_detect_faces_maps_boxes_back_from_the_downscaled_copy(astronaut):
    """Check that a face found on the shrunken copy of a 1024 px photo gets full-size coordinates."""
    big = np.asarray(Image.fromarray(astronaut).resize((1024, 1024), Image.BILINEAR))
    box = largest_box(detect_faces(big, "hog", max_side=512))
    assert np.abs(_centre(box) - 2 * np.array(FACE_CENTRE)).max() < 30


def test_detect_faces_accepts_greyscale(astronaut):
    """Check that a 2-D greyscale array is searched like an RGB one."""
    grey = np.asarray(Image.fromarray(astronaut).convert("L"))
    assert len(detect_faces(grey, "hog")) >= 1


def test_noise_image_has_no_face():
    """Check that random noise gives None rather than a crop."""
    noise = np.random.default_rng(0).integers(0, 256, (300, 300, 3), dtype=np.uint8)
    assert extract_face(noise, "cnn") is None


def test_blank_image_has_no_face():
    """Check that a uniform grey image gives None with HOG."""
    assert extract_face(np.full((300, 300, 3), 128, np.uint8), "hog") is None


def test_none_detector_returns_the_whole_image_resized():
    """Check that 'none' returns the whole square photo resized to `size`."""
    photo = np.random.default_rng(1).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    expected = np.asarray(Image.fromarray(photo).resize((64, 64), Image.LANCZOS))
    assert np.array_equal(extract_face(photo, "none", size=64), expected)


def test_none_detector_pads_a_tall_photo_to_a_centred_square():
    """Check that 'none' on a 100x50 photo keeps it whole, with black bands left and right."""
    tall = np.full((100, 50, 3), 255, np.uint8)
    crop = extract_face(tall, "none", size=100)
    assert crop[:, :20].max() == 0 and crop[:, 80:].max() == 0 and crop[:, 30:70].min() == 255


def test_expand_box_grows_a_square_by_the_margin_on_each_side():
    """Check that a 40 px box with 25% margin becomes a 60 px square with the same centre."""
    assert expand_box((10, 20, 50, 60), 0.25, (100, 100)).tolist() == [0, 10, 60, 70]


def test_expand_box_uses_the_longer_side():
    """Check that a 20x40 box becomes a 40 px square (margin 0) with the same centre."""
    assert expand_box((30, 10, 50, 50), 0.0, (100, 100)).tolist() == [20, 10, 60, 50]


def test_expand_box_rejects_a_box_outside_the_image():
    """Check that a box wholly outside the photo is an error naming the box and size."""
    with pytest.raises(InvalidParameterError, match="100x80"):
        expand_box((200, 200, 240, 240), 0.25, (80, 100))


def test_crop_face_fills_outside_the_photo_with_black():
    """Check that the part of the square beyond the top-left border is black, the rest kept."""
    white = np.full((100, 100, 3), 255, np.uint8)
    crop = crop_face(white, expand_box((0, 0, 40, 40), 0.25, white.shape), size=60)
    assert crop[:10].max() == 0 and crop[:, :10].max() == 0 and crop[12:, 12:].min() == 255


def test_largest_box_picks_the_biggest_area():
    """Check that largest_box returns the box with the largest area."""
    boxes = np.array([[0, 0, 10, 10], [0, 0, 30, 5], [5, 5, 25, 25]])
    assert largest_box(boxes).tolist() == [5, 5, 25, 25]


def test_largest_box_of_no_boxes_is_none():
    """Check that largest_box of an empty (0, 4) array is None."""
    assert largest_box(np.zeros((0, 4), dtype=np.int64)) is None


def test_unknown_detector_is_rejected_with_the_choices():
    """Check that an unknown detector name is an error listing the allowed names."""
    with pytest.raises(InvalidParameterError, match="'cnn', 'hog', 'none'.*'mtcnn'"):
        detect_faces(np.zeros((10, 10, 3), np.uint8), "mtcnn")


def test_make_detector_loads_once_per_process():
    """Check that make_detector returns the same detector object on a second call."""
    assert make_detector("cnn") is make_detector("cnn")


def test_detectors_are_declared_once():
    """Check the detector names, which the CLI and dashboard offer as choices."""
    assert DETECTORS == ("cnn", "hog", "none")


# A fixed sample: every 50th FG-NET photo in name order, 20 in all.
@pytest.mark.slow
@pytest.mark.shared_data
def test_cnn_finds_faces_in_fgnet_portraits(shared_data):
    """Check that the CNN detector finds a face in at least 90% of 20 FG-NET portraits."""
    paths = sorted((shared_data / "fgnet" / "images").iterdir())[::50][:20]
    assert len(paths) == 20
    found = sum(extract_face(load_image(p), "cnn") is not None for p in paths)
    assert found >= 18


def test_find_faces_puts_the_cnn_style_box_on_the_astronaut_face(astronaut):
    """Check that the fast CNN-style finder (HOG moved onto the CNN's boxes) lands within
    15% of the face's side of the CNN's own box (a 25% margin crop hardly moves)."""
    fast = find_faces(astronaut, "cnn")[0]
    cnn = largest_box(detect_faces(astronaut, "cnn"))
    assert np.abs(fast - cnn).max() <= 0.15 * (cnn[2] - cnn[0])


def test_find_faces_lists_every_face_largest_first(astronaut):
    """Check that two faces side by side are both found, the bigger one first."""
    head = astronaut[:300, 70:370]  # the face, about 100 px wide
    bigger = np.asarray(Image.fromarray(head).resize((390, 390), Image.BILINEAR))
    photo = np.zeros((390, 700, 3), np.uint8)
    photo[:, 310:] = bigger
    photo[45:345, :300] = head
    boxes = find_faces(photo, "hog")
    sides = boxes[:, 2] - boxes[:, 0]
    assert len(boxes) == 2 and sides[0] > sides[1] and boxes[0][0] >= 310


def test_find_faces_falls_back_to_the_cnn_when_hog_finds_nothing(astronaut, monkeypatch):
    """Check that 'cnn' runs the CNN detector itself, on its smaller fallback copy, when
    HOG trusts no face: here a head-and-shoulders crop where the face is a third wide."""
    import backend.data.faces as faces

    monkeypatch.setattr(faces, "_trusted_hog_boxes", lambda image: np.zeros((0, 4), np.int64))
    head = astronaut[:300, 70:370]
    box = find_faces(head, "cnn")[0]
    assert np.abs(_centre(box) - (FACE_CENTRE[0] - 70, FACE_CENTRE[1])).max() < 15


def test_find_faces_of_a_blank_photo_is_empty():
    """Check that a grey photo has no face, CNN fallback included."""
    assert find_faces(np.full((200, 200, 3), 128, np.uint8), "cnn").shape == (0, 4)


def test_find_faces_ignores_a_weak_hog_detection_in_a_jpeg_portrait(astronaut):
    """Check that the JPEG astronaut, where HOG also scores her shoulder patch 0.1 as a
    face, gives only her face."""
    import io

    buffer = io.BytesIO()
    Image.fromarray(astronaut).save(buffer, format="JPEG", quality=90)
    photo = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
    boxes = find_faces(photo, "cnn")
    assert len(boxes) == 1 and np.abs(_centre(boxes[0]) - FACE_CENTRE).max() < 20


def test_a_photo_below_min_face_side_is_refused_with_detector_none():
    """Check that with detector 'none' a photo whose shorter side is below min_face_side
    raises FaceTooSmallError naming both sizes, and 0 accepts it."""
    from backend.data.faces import FaceTooSmallError

    thin = np.zeros((20, 200, 3), np.uint8)
    with pytest.raises(FaceTooSmallError, match="20 px on its shorter side, below "
                                                "min_face_side 32"):
        extract_face(thin, "none", min_face_side=32)
    assert extract_face(thin, "none", size=16, min_face_side=0).shape == (16, 16, 3)


def test_a_face_below_min_face_side_is_refused(astronaut):
    """Check that a detected face smaller than min_face_side raises FaceTooSmallError,
    and crop_largest_face reports the face's side."""
    from backend.data.faces import FaceTooSmallError, crop_largest_face

    crop, side = crop_largest_face(astronaut, "hog")
    assert 50 < side < 300 and crop.shape == (128, 128, 3)
    with pytest.raises(FaceTooSmallError):
        extract_face(astronaut, "hog", min_face_side=side + 1)


@pytest.mark.parametrize("shape", [(1, 1), (8, 8), (4, 400), (3000, 20)])
def test_the_cnn_finds_no_face_in_a_photo_too_small_for_it(shape):
    """Check that a photo (or its downscaled copy) under CNN_MIN_SIDE on a side gives no
    face, where dlib's CNN would throw and take the whole batch (or an interactive
    answer) down with it; find_faces too."""
    image = np.zeros((*shape, 3), np.uint8)
    assert detect_faces(image, "cnn").shape == (0, 4)
    assert find_faces(image, "cnn").shape == (0, 4)

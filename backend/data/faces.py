"""Find faces with dlib and cut square, margin-padded crops (paper section 3.1).

Boxes are int arrays (left, top, right, bottom) in pixels, right/bottom
exclusive like Python slices and PIL boxes.

Detection runs on a downscaled copy of the photo (longer side at most
`max_side`) because dlib's CNN detector costs time in proportion to the pixel
count; boxes are mapped back to the full photo. At `upsample=0` the CNN finds
faces from about 60 px at that working size (HOG from about 64 px, or 32 px
with `upsample=1`), so the default CNN finds faces that span at least about
15% of the photo's longer side: right for portraits such as FG-NET and
IMDB-WIKI.
Pass a larger `max_side` or `upsample` for group photos with small faces.

At the border the square crop keeps the face centred: the parts of the square
that fall outside the photo are filled with black, never shifted or squashed.
"""
from __future__ import annotations

import functools

import dlib
import face_recognition_models
import numpy as np
from PIL import Image

from backend.params import InvalidParameterError, check_choice, check_float, check_int

DETECTORS = ("cnn", "hog", "none")

# Per detector: (upsample, max_side). Upsampling costs ~4x per step, and
# without it both find every face of a fixed FG-NET sample that upsampling
# finds (see tests); HOG is cheap, so it can afford a larger copy.
DETECT_DEFAULTS = {"cnn": (0, 400), "hog": (0, 640), "none": (0, 0)}
# dlib's CNN fails ("filter windows must be small enough to fit into the padded image")
# on an image under about 10 px a side, and may leave its heap damaged when it does: a
# (downscaled) photo below this has no face for it.
CNN_MIN_SIDE = 16
# The default smallest face side (of the photo, with 'none') in pixels that is cropped:
# a smaller face, blown up to the crop size, would be mostly blur.
MIN_FACE_SIDE = 32


@functools.cache
def make_detector(name: str):
    """Return the dlib detector called `name` (None for 'none'), loaded once per process."""
    check_choice(name, DETECTORS, param="detector", func="make_detector")
    if name == "cnn":
        return dlib.cnn_face_detection_model_v1(
            face_recognition_models.cnn_face_detector_model_location())
    if name == "hog":
        return dlib.get_frontal_face_detector()
    return None


def detect_faces(image: np.ndarray, detector: str = "cnn", upsample: int | None = None,
                 max_side: int | None = None) -> np.ndarray:
    """Return the faces in `image` as an (N, 4) int64 array of boxes, best score first.

    'none' returns the whole image as one box. `upsample` and `max_side`
    default to DETECT_DEFAULTS[detector]; max_side=0 means no downscaling.
    """
    func = "detect_faces"
    image = _check_image(image, func)
    check_choice(detector, DETECTORS, param="detector", func=func)
    default_upsample, default_side = DETECT_DEFAULTS[detector]
    upsample = check_int(default_upsample if upsample is None else upsample,
                         param="upsample", func=func, low=0, high=3)
    max_side = check_int(default_side if max_side is None else max_side,
                         param="max_side", func=func, low=0)
    height, width = image.shape[:2]
    if detector == "none":
        return np.array([[0, 0, width, height]], dtype=np.int64)
    # Detect on a smaller copy: CNN time grows with the pixel count.
    small, scale = _downscale(image, max_side)
    if detector == "cnn" and min(small.shape[:2]) < CNN_MIN_SIDE:
        # No face fits, and dlib's CNN throws on it (its filters outgrow the image).
        return np.empty((0, 4), dtype=np.int64)
    found = make_detector(detector)(small, upsample)
    # The CNN wraps each rectangle with a confidence; HOG returns them bare.
    rects = [getattr(item, "rect", item) for item in found]
    boxes = np.array([[r.left(), r.top(), r.right() + 1, r.bottom() + 1] for r in rects],
                     dtype=np.float64).reshape(-1, 4)
    # Map back to the full photo's pixels.
    return np.rint(boxes / scale).astype(np.int64)


# HOG's boxes moved onto the CNN's: on 73 FG-NET portraits where both detectors found
# the face (every 12th photo), the CNN's box side was 0.96 x HOG's, its centre 0.05 of
# a side to the left and 0.08 up (medians). (scale, dx, dy), in units of HOG's side.
HOG_TO_CNN = (0.96, -0.05, -0.08)
# HOG detections scoring below this are not trusted: on 100 FG-NET portraits 95 of 97
# faces scored above 0.44, and the astronaut's shoulder patch scores 0.10 as a "face".
HOG_MIN_SCORE = 0.2
# The CNN's working size when HOG trusts no face: faces of about a quarter of the photo's
# side and more (portraits, a webcam shot), in about a second on 2 cores where the
# default 400 px costs three or four.
CNN_FALLBACK_SIDE = 240


def find_faces(image: np.ndarray, detector: str = "cnn") -> np.ndarray:
    """Every face in a photo, fast, as (N, 4) boxes in `detector`'s convention, largest first.

    For interactive use: dlib's CNN costs about a second a photo on 2 cores, its HOG
    detector some 40 ms. 'cnn' runs HOG and moves its boxes onto the CNN's
    (HOG_TO_CNN), and runs the CNN itself only when HOG finds no face it trusts
    (HOG_MIN_SCORE: a profile, a child's face, a dark one), on a CNN_FALLBACK_SIDE copy;
    'hog' is HOG alone; 'none' the whole photo.
    """
    check_choice(detector, DETECTORS, param="detector", func="find_faces")
    if detector == "none":
        return detect_faces(image, "none")
    boxes = _trusted_hog_boxes(_check_image(image, "find_faces"))
    if detector == "cnn":
        boxes = _hog_to_cnn(boxes) if len(boxes) else detect_faces(
            image, "cnn", max_side=CNN_FALLBACK_SIDE)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return boxes[np.argsort(-areas, kind="stable")]


def _trusted_hog_boxes(image: np.ndarray) -> np.ndarray:
    """HOG's boxes scoring at least HOG_MIN_SCORE, in the full photo's pixels."""
    upsample, max_side = DETECT_DEFAULTS["hog"]
    small, scale = _downscale(image, max_side)
    rects, scores, _ = make_detector("hog").run(small, upsample, HOG_MIN_SCORE)
    boxes = np.array([[r.left(), r.top(), r.right() + 1, r.bottom() + 1] for r in rects],
                     dtype=np.float64).reshape(-1, 4)
    return np.rint(boxes / scale).astype(np.int64)


def _hog_to_cnn(boxes: np.ndarray) -> np.ndarray:
    """HOG boxes as the CNN would have drawn them (HOG_TO_CNN)."""
    scale, dx, dy = HOG_TO_CNN
    b = boxes.astype(np.float64)
    side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    cx = (b[:, 0] + b[:, 2]) / 2 + dx * side
    cy = (b[:, 1] + b[:, 3]) / 2 + dy * side
    half = scale * side / 2
    return np.rint(np.stack([cx - half, cy - half, cx + half, cy + half], axis=1)).astype(np.int64)


def largest_box(boxes: np.ndarray) -> np.ndarray | None:
    """Return the box with the largest area, or None when there is none."""
    boxes = np.asarray(boxes).reshape(-1, 4)
    if len(boxes) == 0:
        return None
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return boxes[int(np.argmax(areas))]


def expand_box(box, margin: float, image_shape: tuple[int, ...]) -> np.ndarray:
    """Return the square box centred on `box`, grown by `margin` x its side on each side.

    The side is max(width, height) * (1 + 2 * margin). The square may reach
    past the photo's border; `crop_face` fills that part with black so the
    face stays centred and its scale stays the same across photos.
    """
    func = "expand_box"
    margin = check_float(margin, param="margin", func=func, low=0.0, high=2.0)
    left, top, right, bottom = (float(v) for v in np.asarray(box).reshape(4))
    height, width = image_shape[:2]
    # A box with no area or wholly outside the photo would crop only padding.
    if right <= left or bottom <= top or right <= 0 or bottom <= 0 \
            or left >= width or top >= height:
        raise InvalidParameterError("box", func, f"a non-empty (left, top, right, bottom) "
                                    f"box overlapping the {width}x{height} image",
                                    tuple(np.asarray(box).tolist()))
    side = max(1, round(max(right - left, bottom - top) * (1.0 + 2.0 * margin)))
    # Keep the centre; round the corner once so the side stays exact.
    new_left = round((left + right - side) / 2.0)
    new_top = round((top + bottom - side) / 2.0)
    return np.array([new_left, new_top, new_left + side, new_top + side], dtype=np.int64)


def crop_face(image: np.ndarray, box, size: int = 128) -> np.ndarray:
    """Return the `box` region of `image` resized to (size, size, 3) uint8; outside is black."""
    image = _check_image(image, "crop_face")
    size = check_int(size, param="size", func="crop_face", low=8, high=2048)
    left, top, right, bottom = (int(v) for v in np.asarray(box).reshape(4))
    # PIL's crop fills the area outside the photo with zeros (black).
    region = Image.fromarray(_as_rgb(image)).crop((left, top, right, bottom))
    # LANCZOS averages over the source pixels, so big reductions do not alias.
    return np.asarray(region.resize((size, size), Image.LANCZOS), dtype=np.uint8)


class FaceTooSmallError(ValueError):
    """The largest face (with detector 'none', the whole photo) is below the minimum side."""

    def __init__(self, side: int, min_face_side: int, detector: str):
        self.side, self.min_face_side = side, min_face_side
        what = "the photo" if detector == "none" else "the largest face found"
        super().__init__(f"{what} is {side} px on its shorter side, below min_face_side "
                         f"{min_face_side} px")


def extract_face(image: np.ndarray, detector: str = "cnn", margin: float = 0.25,
                 size: int = 128, upsample: int | None = None,
                 max_side: int | None = None, min_face_side: int = 0) -> np.ndarray | None:
    """Return the largest face as a (size, size, 3) uint8 crop, or None when none is found.

    'none' skips detection and returns the whole photo, padded with black to a
    centred square, for input already cropped to the face (UTKFace). A face (or with
    'none', a photo) whose shorter side is below `min_face_side` pixels raises
    FaceTooSmallError: blown up to `size` it would be mostly blur.
    """
    found = crop_largest_face(image, detector, margin, size, upsample, max_side, min_face_side)
    return None if found is None else found[0]


def crop_largest_face(image: np.ndarray, detector: str = "cnn", margin: float = 0.25,
                      size: int = 128, upsample: int | None = None,
                      max_side: int | None = None,
                      min_face_side: int = 0) -> tuple[np.ndarray, int] | None:
    """`extract_face`, returning the crop with the face's shorter side in the photo's
    pixels; None when no face is found."""
    func = "extract_face"
    check_choice(detector, DETECTORS, param="detector", func=func)
    margin = check_float(margin, param="margin", func=func, low=0.0, high=2.0)
    min_face_side = check_int(min_face_side, param="min_face_side", func=func, low=0)
    image = _check_image(image, func)
    if detector == "none":
        # The whole photo is the face: no margin to add around it.
        box, margin = detect_faces(image, "none")[0], 0.0
    else:
        box = largest_box(detect_faces(image, detector, upsample, max_side))
        if box is None:
            return None
    side = int(min(box[2] - box[0], box[3] - box[1]))
    if side < min_face_side:
        raise FaceTooSmallError(side, min_face_side, detector)
    return crop_face(image, expand_box(box, margin, image.shape), size), side


def _downscale(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Shrink so the longer side is at most max_side (0: never); return it and the scale."""
    height, width = image.shape[:2]
    if max_side == 0 or max(height, width) <= max_side:
        return np.ascontiguousarray(image), 1.0
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # BILINEAR with PIL's reducing filter is antialiased and cheap.
    small = Image.fromarray(image).resize(size, Image.BILINEAR)
    return np.asarray(small), scale


def _check_image(image, func: str) -> np.ndarray:
    """Return `image` if it is a non-empty uint8 (H, W) or (H, W, 3) array."""
    array = np.asarray(image)
    ok = array.dtype == np.uint8 and (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3))
    if not ok or array.size == 0:
        raise InvalidParameterError("image", func, "a non-empty uint8 array of shape (H, W) "
                                    "or (H, W, 3)",
                                    f"array of shape {array.shape} and dtype {array.dtype}")
    return array


def _as_rgb(image: np.ndarray) -> np.ndarray:
    """Repeat a greyscale (H, W) array into three channels."""
    return np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image

"""Read a photo file into an RGB array, failing clearly on bad files.

Truncated JPEGs must fail, not be padded with grey: this module never turns on
PIL's `ImageFile.LOAD_TRUNCATED_IMAGES` and refuses to read while it is on.

The size is read from the header before anything is decoded, so a small file that
claims to be huge (a pixel bomb) costs no memory: above `max_pixels` it fails as
'too_large', below `min_side` on its shorter side as 'too_small'.
"""
from __future__ import annotations

import hashlib
import io
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

READ_REASONS = ("missing_file", "unreadable", "truncated", "not_an_image", "too_large",
                "too_small")
# The default limit for photos given as bytes (uploads); the same number as
# AGEREC_MAX_IMAGE_PIXELS's default, which the worker passes for files.
DEFAULT_MAX_PIXELS = 40_000_000

# The first bytes of the formats we expect; a file starting with one of them is
# a damaged image ('unreadable') rather than some other kind of file.
_IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM", b"II*\x00",
                     b"MM\x00*", b"RIFF")
_PIL_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError,
               Image.DecompressionBombError)


class ImageReadError(ValueError):
    """A photo that cannot be read; `reason` is one of READ_REASONS."""

    def __init__(self, path: str | os.PathLike, reason: str, detail: str):
        self.path, self.reason, self.detail = str(path), reason, detail
        super().__init__(f"Cannot read image {self.path!r} ({reason}): {detail}")


def load_image(path: str | os.PathLike, *, max_pixels: int | None = None,
               min_side: int = 0) -> np.ndarray:
    """Return the photo at `path` as an (H, W, 3) uint8 RGB array, upright per EXIF;
    more than `max_pixels` pixels (None: no limit) or a shorter side below `min_side`
    fails from the header, before decoding."""
    path = Path(path)
    with _opened(path) as handle:
        return _decode(handle, path, max_pixels, min_side)


def read_header(path: str | os.PathLike, *, max_pixels: int | None = None,
                min_side: int = 0) -> tuple[int, int]:
    """(width, height) from the file's header, without decoding the pixels; the same
    ImageReadError as `load_image` for a file that is missing, no image, or outside the
    size limits."""
    path = Path(path)
    with _opened(path) as handle:
        try:
            with _open(handle) as image:
                return check_size(path, image.size, max_pixels, min_side)
        except _PIL_ERRORS as error:
            raise _read_error(handle, path, error) from None


def decode_image(data: bytes, name: str = "upload", *,
                 max_pixels: int | None = DEFAULT_MAX_PIXELS, min_side: int = 0) -> np.ndarray:
    """Return photo bytes (an upload, a camera shot) as an (H, W, 3) uint8 RGB array,
    upright per EXIF, decoded in memory: nothing is written anywhere. `name` only
    labels errors; the limits are those of `load_image` (uploads get a cap by default)."""
    _check_switch(name)
    if not data:
        raise ImageReadError(name, "truncated", "empty file (0 bytes)")
    return _decode(io.BytesIO(data), name, max_pixels, min_side)


def check_size(path: str | os.PathLike, size: tuple[int, int], max_pixels: int | None,
               min_side: int = 0) -> tuple[int, int]:
    """`size` (width, height) if it has at most `max_pixels` pixels and a shorter side of
    at least `min_side`, else ImageReadError 'too_large' or 'too_small'."""
    width, height = size
    if max_pixels is not None and width * height > max_pixels:
        raise ImageReadError(path, "too_large", f"{width}x{height} is {width * height:,} "
                             f"pixels, above the limit of {max_pixels:,} "
                             "(AGEREC_MAX_IMAGE_PIXELS); it is not decoded")
    if min(width, height) < min_side:
        raise ImageReadError(path, "too_small", f"{width}x{height}: the shorter side is below "
                             f"the minimum of {min_side} px (min_face_side)")
    return width, height


def image_bytes_problem(content: bytes, max_pixels: int | None) -> str | None:
    """Why `content` cannot be shown as an image (not one, damaged, truncated, above
    `max_pixels`), or None when it decodes in full."""
    try:
        decode_image(content, "<bytes>", max_pixels=max_pixels)
    except ImageReadError as error:
        return f"{error.reason}: {error.detail}"
    return None


def _decode(handle: BinaryIO, label: str | os.PathLike, max_pixels: int | None,
            min_side: int) -> np.ndarray:
    """Check the size from the header, then decode an open binary file fully; errors
    name `label` (a path or a name)."""
    try:
        with _open(handle) as image:
            check_size(label, image.size, max_pixels, min_side)
            # Decode every byte now so truncation and corrupt data raise here.
            image.load()
            upright = ImageOps.exif_transpose(image)
            return np.asarray(_to_rgb(upright), dtype=np.uint8)
    except _PIL_ERRORS as error:
        raise _read_error(handle, label, error) from None


@contextmanager
def _open(source: BinaryIO) -> Iterator[Image.Image]:
    """Image.open without PIL's DecompressionBombWarning: the size limit is checked here,
    by `check_size`, before anything is decoded."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image = Image.open(source)
    try:
        yield image
    finally:
        image.close()


def _check_switch(label: str | os.PathLike) -> None:
    # A process-wide switch set elsewhere would silently pad truncated files.
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise ImageReadError(label, "unreadable", "PIL's ImageFile.LOAD_TRUNCATED_IMAGES is "
                             "on, so truncation cannot be detected; turn it off")


@contextmanager
def _opened(path: Path) -> Iterator[BinaryIO]:
    """`path` open for reading, or ImageReadError unless it is a non-empty regular file
    that may be read."""
    _check_switch(path)
    if not path.exists():
        raise ImageReadError(path, "missing_file", "no such file")
    if not path.is_file():
        raise ImageReadError(path, "unreadable", "not a regular file (a folder?)")
    # An empty file is most often an interrupted download or copy.
    if path.stat().st_size == 0:
        raise ImageReadError(path, "truncated", "empty file (0 bytes)")
    try:
        handle = open(path, "rb")
    except OSError as error:  # permission denied, and the like
        raise ImageReadError(path, "unreadable", str(error)) from None
    with handle:
        yield handle


def _read_error(handle: BinaryIO, label: str | os.PathLike,
                error: BaseException) -> ImageReadError:
    """The ImageReadError for an exception PIL raised while opening or decoding."""
    if isinstance(error, ImageReadError):
        return error
    if isinstance(error, UnidentifiedImageError):
        handle.seek(0)
        if handle.read(8).startswith(_IMAGE_SIGNATURES):
            return ImageReadError(label, "unreadable", "starts like an image but its header "
                                  "is damaged")
        return ImageReadError(label, "not_an_image", "not a recognised image format "
                              "(expected JPEG, PNG, GIF, BMP, TIFF or WebP)")
    if isinstance(error, Image.DecompressionBombError):
        return ImageReadError(label, "too_large", str(error))
    if isinstance(error, OSError):
        reason = "truncated" if "truncated" in str(error) else "unreadable"
        return ImageReadError(label, reason, str(error))
    return ImageReadError(label, "unreadable", str(error))


def file_digest(path: str | os.PathLike) -> str:
    """Return the sha256 hex digest of the file's bytes, read in chunks."""
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        raise ImageReadError(path, "missing_file", "no such file") from None
    except OSError as error:
        raise ImageReadError(path, "unreadable", str(error)) from None


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any PIL mode to RGB; transparency is composited onto black."""
    if image.mode == "RGB":
        return image
    # Palette images may carry transparency: go through RGBA to keep it.
    if image.mode in ("P", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "La", "RGBa"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, image).convert("RGB")
    # 16/32-bit greyscale would be clipped by convert(): rescale to 8 bits first.
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        values = np.asarray(image, dtype=np.float64)
        peak = values.max() if values.size and values.max() > 255 else 255.0
        image = Image.fromarray(np.clip(values * 255.0 / peak, 0, 255).astype(np.uint8))
    return image.convert("RGB")

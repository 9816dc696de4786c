"""Read a photo file into an RGB array, failing clearly on bad files.

Truncated JPEGs must fail, not be padded with grey: this module never turns on
PIL's `ImageFile.LOAD_TRUNCATED_IMAGES` and refuses to read while it is on.
"""
from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

READ_REASONS = ("missing_file", "unreadable", "truncated", "not_an_image", "too_large")

# The first bytes of the formats we expect; a file starting with one of them is
# a damaged image ('unreadable') rather than some other kind of file.
_IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM", b"II*\x00",
                     b"MM\x00*", b"RIFF")


class ImageReadError(ValueError):
    """A photo that cannot be read; `reason` is one of READ_REASONS."""

    def __init__(self, path: str | os.PathLike, reason: str, detail: str):
        self.path, self.reason, self.detail = str(path), reason, detail
        super().__init__(f"Cannot read image {self.path!r} ({reason}): {detail}")


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Return the photo at `path` as an (H, W, 3) uint8 RGB array, upright per EXIF."""
    path = Path(path)
    # A process-wide switch set elsewhere would silently pad truncated files.
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise ImageReadError(path, "unreadable", "PIL's ImageFile.LOAD_TRUNCATED_IMAGES is "
                             "on, so truncation cannot be detected; turn it off")
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
        return _decode(handle, path)


def decode_image(data: bytes, name: str = "upload", *, max_pixels: int | None = None
                 ) -> np.ndarray:
    """Return photo bytes (an upload, a camera shot) as an (H, W, 3) uint8 RGB array,
    upright per EXIF, decoded in memory: nothing is written anywhere. `name` only
    labels errors. A photo of more than `max_pixels` pixels, read from its header before
    any decoding, fails as 'too_large'."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise ImageReadError(name, "unreadable", "PIL's ImageFile.LOAD_TRUNCATED_IMAGES is "
                             "on, so truncation cannot be detected; turn it off")
    if not data:
        raise ImageReadError(name, "truncated", "empty file (0 bytes)")
    if max_pixels is not None:
        try:
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
        except Image.DecompressionBombError as error:
            raise ImageReadError(name, "too_large", str(error)) from None
        except (OSError, ValueError, SyntaxError):  # not an image: _decode says which way
            width = height = 0
        if width * height > max_pixels:
            raise ImageReadError(name, "too_large", f"{width}x{height} is more than "
                                 f"{max_pixels:,} pixels")
    return _decode(io.BytesIO(data), name)


def _decode(handle: BinaryIO, label: str | os.PathLike) -> np.ndarray:
    """Decode an open binary file fully; errors name `label` (a path or a name)."""
    try:
        with Image.open(handle) as image:
            # Decode every byte now so truncation and corrupt data raise here.
            image.load()
            upright = ImageOps.exif_transpose(image)
            return np.asarray(_to_rgb(upright), dtype=np.uint8)
    except UnidentifiedImageError:
        handle.seek(0)
        if handle.read(8).startswith(_IMAGE_SIGNATURES):
            raise ImageReadError(label, "unreadable", "starts like an image but its "
                                 "header is damaged") from None
        raise ImageReadError(label, "not_an_image", "not a recognised image format "
                             "(expected JPEG, PNG, GIF, BMP, TIFF or WebP)") from None
    except OSError as error:
        reason = "truncated" if "truncated" in str(error) else "unreadable"
        raise ImageReadError(label, reason, str(error)) from None
    except (SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ImageReadError(label, "unreadable", str(error)) from None


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

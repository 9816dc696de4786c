"""Tests for backend.data.images: reading photos and hashing files."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image, ImageFile
from skimage import data

from backend.data.images import ImageReadError, decode_image, file_digest, load_image


@pytest.fixture
def jpeg(tmp_path):
    """A real JPEG photo (the astronaut portrait)."""
    path = tmp_path / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(path, quality=90)
    return path


def _read_error(path) -> ImageReadError:
    with pytest.raises(ImageReadError) as caught:
        load_image(path)
    return caught.value


def test_load_image_returns_rgb_uint8(jpeg):
    """Check that a colour JPEG loads as an (H, W, 3) uint8 array."""
    image = load_image(jpeg)
    assert image.shape == (512, 512, 3) and image.dtype == np.uint8


def test_load_image_converts_greyscale_to_three_equal_channels(tmp_path):
    """Check that a greyscale photo becomes RGB with equal channels."""
    path = tmp_path / "grey.png"
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8)).save(path)
    image = load_image(path)
    assert image.shape == (8, 8, 3)
    assert (image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all()


def test_load_image_converts_palette_to_rgb(tmp_path):
    """Check that a palette PNG loads with its palette colours."""
    path = tmp_path / "palette.png"
    Image.new("RGB", (4, 4), (200, 10, 30)).convert("P", palette=Image.ADAPTIVE).save(path)
    assert load_image(path)[0, 0].tolist() == [200, 10, 30]


def test_load_image_composites_transparency_on_black(tmp_path):
    """Check that a fully transparent RGBA pixel becomes black, an opaque one keeps its colour."""
    pixels = np.zeros((1, 2, 4), dtype=np.uint8)
    pixels[0, 0] = (255, 255, 255, 0)
    pixels[0, 1] = (10, 20, 30, 255)
    path = tmp_path / "alpha.png"
    Image.fromarray(pixels, "RGBA").save(path)
    assert load_image(path).tolist() == [[[0, 0, 0], [10, 20, 30]]]


def test_load_image_applies_exif_orientation(tmp_path):
    """Check that a photo stored sideways with EXIF orientation 6 comes back upright."""
    stored = Image.new("RGB", (40, 20))  # 40 wide, 20 high as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = tmp_path / "sideways.jpg"
    stored.save(path, exif=exif)
    assert load_image(path).shape == (40, 20, 3)


def test_corrupt_jpeg_is_unreadable(tmp_path, jpeg):
    """Check that a JPEG whose header is followed by garbage fails as 'unreadable'."""
    path = tmp_path / "corrupt.jpg"
    garbage = np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    path.write_bytes(jpeg.read_bytes()[:20] + garbage)
    error = _read_error(path)
    assert error.reason == "unreadable" and str(path) in str(error)


def test_truncated_jpeg_is_detected(tmp_path, jpeg):
    """Check that a JPEG cut in half fails as 'truncated' rather than loading padded."""
    path = tmp_path / "half.jpg"
    content = jpeg.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    error = _read_error(path)
    assert error.reason == "truncated" and str(path) in str(error)


def test_empty_file_is_truncated(tmp_path):
    """Check that a zero-byte file fails as 'truncated'."""
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    assert _read_error(path).reason == "truncated"


def test_missing_file_is_reported(tmp_path):
    """Check that a missing path fails as 'missing_file' and names the path."""
    path = tmp_path / "nowhere.jpg"
    error = _read_error(path)
    assert error.reason == "missing_file" and error.path == str(path)
    assert str(path) in str(error)


def test_text_file_is_not_an_image(tmp_path):
    """Check that a text file fails as 'not_an_image' and names the path."""
    path = tmp_path / "notes.jpg"
    path.write_text("not a photo\n")
    error = _read_error(path)
    assert error.reason == "not_an_image" and str(path) in str(error)


def test_load_image_refuses_while_truncated_loading_is_on(jpeg, monkeypatch):
    """Check that load_image refuses to run while PIL would pad truncated files."""
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    assert "LOAD_TRUNCATED_IMAGES" in str(_read_error(jpeg))


def test_file_digest_is_sha256_of_bytes(jpeg):
    """Check that file_digest equals the sha256 of the file's bytes."""
    assert file_digest(jpeg) == hashlib.sha256(jpeg.read_bytes()).hexdigest()


def test_file_digest_of_missing_file_names_it(tmp_path):
    """Check that hashing a missing file fails as 'missing_file' with its path."""
    path = tmp_path / "nowhere.jpg"
    with pytest.raises(ImageReadError, match="nowhere.jpg") as caught:
        file_digest(path)
    assert caught.value.reason == "missing_file"


def test_decode_image_reads_bytes_like_the_file(jpeg):
    """Check that decoding a file's bytes in memory gives the same array as loading it."""
    assert np.array_equal(decode_image(jpeg.read_bytes(), "photo.jpg"), load_image(jpeg))


def test_decode_image_names_the_upload_when_the_bytes_are_not_an_image():
    """Check that bytes that are no image fail as not_an_image, naming the upload."""
    with pytest.raises(ImageReadError) as info:
        decode_image(b"hello, not a photo", "notes.jpg")
    assert info.value.reason == "not_an_image" and "notes.jpg" in str(info.value)


def test_decode_image_of_a_damaged_jpeg_is_unreadable():
    """Check that bytes with a JPEG signature and a damaged header fail as unreadable."""
    with pytest.raises(ImageReadError) as info:
        decode_image(b"\xff\xd8\xff" + b"\x00" * 20, "camera.jpg")
    assert info.value.reason == "unreadable"


def test_decode_image_of_no_bytes_is_truncated():
    """Check that an empty upload fails as truncated."""
    with pytest.raises(ImageReadError) as info:
        decode_image(b"", "empty.png")
    assert info.value.reason == "truncated"


def test_decode_image_refuses_a_photo_above_the_pixel_cap(jpeg):
    """Check that a 512x512 photo is refused as too_large under a 100,000-pixel cap."""
    with pytest.raises(ImageReadError) as info:
        decode_image(jpeg.read_bytes(), "big.jpg", max_pixels=100_000)
    assert info.value.reason == "too_large" and "512x512" in str(info.value)


def test_a_pixel_bomb_fails_as_too_large_from_its_header(tmp_path, monkeypatch):
    """Check that a 12000x12000 PNG (a 140 KB file) fails as too_large under a 40 Mpx
    limit without being decoded: PIL's load is never called."""
    from PIL import ImageFile as PilImageFile

    from tests.bad_inputs import pixel_bomb

    bomb = pixel_bomb(tmp_path / "bomb.png")
    monkeypatch.setattr(PilImageFile.ImageFile, "load",
                        lambda self: pytest.fail("the pixel bomb was decoded"))
    with pytest.raises(ImageReadError) as caught:
        load_image(bomb, max_pixels=40_000_000)
    assert caught.value.reason == "too_large" and "144,000,000 pixels" in str(caught.value)


def test_read_header_gives_the_size_without_decoding(tmp_path):
    """Check that read_header returns (width, height) and applies both limits."""
    from backend.data.images import read_header

    path = tmp_path / "wide.png"
    Image.new("RGB", (40, 20)).save(path)
    assert read_header(path) == (40, 20)
    with pytest.raises(ImageReadError, match="too_small"):
        read_header(path, min_side=32)
    with pytest.raises(ImageReadError, match="too_large"):
        read_header(path, max_pixels=799)


def test_a_one_pixel_photo_is_too_small_for_a_minimum_side(tmp_path):
    """Check that a 1x1 photo fails as too_small when a minimum side is asked for."""
    from tests.bad_inputs import one_pixel

    with pytest.raises(ImageReadError) as caught:
        load_image(one_pixel(tmp_path / "tiny.png"), min_side=32)
    assert caught.value.reason == "too_small"


def test_image_bytes_problem_names_what_is_wrong(tmp_path):
    """Check that truncated, empty, text and oversized bytes each get a reason, and a good
    PNG none."""
    from backend.data.images import image_bytes_problem
    from tests.bad_inputs import good_jpeg, text_as_jpeg, truncated_jpeg

    good = good_jpeg(tmp_path / "good.jpg").read_bytes()
    assert image_bytes_problem(good, None) is None
    assert "truncated" in image_bytes_problem(truncated_jpeg(tmp_path / "t.jpg").read_bytes(), None)
    assert image_bytes_problem(b"", None) == "truncated: empty file (0 bytes)"
    assert image_bytes_problem(text_as_jpeg(tmp_path / "x.jpg").read_bytes(), None)
    assert "too_large" in image_bytes_problem(good, 100)


def test_decode_image_refuses_a_pixel_bomb_by_default(tmp_path):
    """Check that uploaded bytes of a 12000x12000 PNG fail as too_large without any limit
    given (uploads are capped at 40 Mpx by default), naming the upload."""
    from tests.bad_inputs import pixel_bomb

    data = pixel_bomb(tmp_path / "bomb.png").read_bytes()
    with pytest.raises(ImageReadError) as caught:
        decode_image(data, "camera.png")
    assert caught.value.reason == "too_large" and "camera.png" in str(caught.value)

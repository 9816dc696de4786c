"""Tests for backend.data.crop_cache: batch cropping, the content-hash cache, workers."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from backend.data import crop_cache
from backend.data.crop_cache import CropSpec, count_detections, extract_crops
from backend.data.images import load_image
from backend.params import InvalidParameterError
from tests.conftest import REPO, pool_survivors

HOG = CropSpec("hog")  # HOG keeps these tests fast; the CNN is covered in test_faces


@pytest.fixture
def photos(tmp_path):
    """Seven inputs: four astronaut variants, a corrupt JPEG, a blank image, a missing path."""
    folder = tmp_path / "photos"
    folder.mkdir()
    astronaut = Image.fromarray(data.astronaut())
    astronaut.save(folder / "plain.jpg", quality=90)
    astronaut.transpose(Image.FLIP_LEFT_RIGHT).save(folder / "mirrored.png")
    astronaut.convert("L").save(folder / "grey.jpg")
    # Stored sideways with EXIF orientation 6: upright only if EXIF is applied.
    exif = Image.Exif()
    exif[0x0112] = 6
    astronaut.rotate(90, expand=True).save(folder / "sideways.jpg", exif=exif)
    (folder / "corrupt.jpg").write_bytes((folder / "plain.jpg").read_bytes()[:20] + b"\x00" * 500)
    Image.new("RGB", (300, 300), (128, 128, 128)).save(folder / "blank.png")
    names = ["plain.jpg", "corrupt.jpg", "mirrored.png", "blank.png", "grey.jpg",
             "missing.jpg", "sideways.jpg"]
    return [folder / name for name in names]


def _statuses(outcomes) -> list[str]:
    return [o.status for o in outcomes]


def test_extract_crops_gives_each_status_in_input_order(photos, tmp_path):
    """Check the status of each input, in input order, including the bad ones."""
    outcomes = extract_crops(photos, tmp_path / "cache", HOG, workers=1)
    assert [o.path for o in outcomes] == [str(p) for p in photos]
    assert _statuses(outcomes) == ["detected", "unreadable", "detected", "no_face",
                                   "detected", "missing_file", "detected"]


def test_failed_outcomes_name_the_file_and_reason(photos, tmp_path):
    """Check that the corrupt and missing files' details name the path and the reason."""
    outcomes = extract_crops(photos, tmp_path / "cache", HOG, workers=1)
    assert str(photos[1]) in outcomes[1].detail and "unreadable" in outcomes[1].detail
    assert str(photos[5]) in outcomes[5].detail and "missing_file" in outcomes[5].detail


def test_crops_are_lossless_pngs_under_the_spec_key_and_content_hash(photos, tmp_path):
    """Check that a crop is stored at <key>/<h[:2]>/<h>.png as a 128x128 RGB image."""
    outcome = extract_crops(photos[:1], tmp_path / "cache", HOG, workers=1)[0]
    digest = hashlib.sha256(photos[0].read_bytes()).hexdigest()
    expected = tmp_path / "cache" / HOG.key / digest[:2] / f"{digest}.png"
    assert outcome.crop_path == str(expected)
    assert load_image(expected).shape == (128, 128, 3)


def test_second_run_is_all_cached_and_detects_nothing(photos, tmp_path, monkeypatch):
    """Check that a rerun serves every face and no-face result from the cache."""
    readable = [photos[i] for i in (0, 2, 3, 4, 6)]
    extract_crops(readable, tmp_path / "cache", HOG, workers=1)
    # Any detection now would fail loudly.
    monkeypatch.setattr(crop_cache, "crop_largest_face", _no_detection)
    again = extract_crops(readable, tmp_path / "cache", HOG, workers=1)
    assert _statuses(again) == ["cached", "cached", "no_face", "cached", "cached"]
    assert all(o.cached for o in again) and count_detections(again) == 0


def test_copy_under_another_name_hits_the_cache(photos, tmp_path):
    """Check that the same bytes under a new name are served from the cache."""
    first = extract_crops(photos[:1], tmp_path / "cache", HOG, workers=1)[0]
    copy = tmp_path / "renamed.jpg"
    shutil.copy(photos[0], copy)
    again = extract_crops([copy], tmp_path / "cache", HOG, workers=1)[0]
    assert again.status == "cached" and again.crop_path == first.crop_path


def test_copies_in_one_batch_are_detected_once(photos, tmp_path):
    """Check that two files with the same bytes in one batch run the detector once."""
    copy = tmp_path / "copy.jpg"
    shutil.copy(photos[0], copy)
    outcomes = extract_crops([photos[0], copy], tmp_path / "cache", HOG, workers=1)
    assert _statuses(outcomes) == ["detected", "cached"] and count_detections(outcomes) == 1


def test_unreadable_files_are_not_cached(photos, tmp_path):
    """Check that a corrupt file leaves nothing in the cache."""
    extract_crops([photos[1]], tmp_path / "cache", HOG, workers=1)
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


def test_other_settings_use_another_cache_folder(photos, tmp_path):
    """Check that a different crop size is detected again, not served a 128 px crop."""
    extract_crops(photos[:1], tmp_path / "cache", HOG, workers=1)
    other = extract_crops(photos[:1], tmp_path / "cache", CropSpec("hog", size=64), workers=1)
    assert other[0].status == "detected" and load_image(other[0].crop_path).shape == (64, 64, 3)


def test_cancel_stops_early_and_marks_the_rest(photos, tmp_path):
    """Check that cancelling after the first finished item leaves the rest 'cancelled'."""
    seen = []
    outcomes = extract_crops([photos[i] for i in (0, 2, 4, 6)], tmp_path / "cache", HOG,
                             workers=1, progress=lambda done, total: seen.append(done),
                             cancel=lambda: bool(seen) and seen[-1] >= 1)
    assert _statuses(outcomes) == ["detected", "cancelled", "cancelled", "cancelled"]


def test_progress_is_throttled_and_ends_with_the_total(tmp_path):
    """Check that 40 quick items give at most a few progress calls, the last one (40, 40)."""
    calls = []
    missing = [tmp_path / f"missing{i}.jpg" for i in range(40)]
    extract_crops(missing, tmp_path / "cache", HOG, workers=1,
                  progress=lambda done, total: calls.append((done, total)))
    assert len(calls) <= 3 and calls[-1] == (40, 40)


@pytest.mark.slow
def test_two_worker_processes_give_the_same_results(photos, tmp_path):
    """Check that two worker processes give the statuses and crops that one process gives."""
    inline = extract_crops(photos, tmp_path / "inline", HOG, workers=1)
    pooled = extract_crops(photos, tmp_path / "pooled", HOG, workers=2)
    assert _statuses(pooled) == _statuses(inline)
    for one, two in zip(inline, pooled):
        if one.crop_path:
            assert np.array_equal(load_image(one.crop_path), load_image(two.crop_path))


def test_spec_key_is_stable_and_names_the_settings():
    """Check that equal settings give one key, with defaults written out."""
    assert CropSpec("cnn").key == CropSpec("cnn", 128, 0.25, 0, 400).key == "cnn-128px-m0.25-u0-w400"


def test_spec_rejects_an_unknown_detector():
    """Check that CropSpec names the bad detector and the allowed ones."""
    with pytest.raises(InvalidParameterError, match="'cnn', 'hog', 'none'.*'retina'"):
        CropSpec("retina")


def _no_detection(*args, **kwargs):
    raise AssertionError("a detector ran on a cached item")


CROPPING_PARENT = """
import sys
from pathlib import Path
from pathlib import Path
from backend.data.crop_cache import CropSpec, extract_crops

folder = Path(sys.argv[1])
extract_crops(sorted(folder.glob("*.png")), folder / "cache", CropSpec("cnn"), workers=2)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc")
def test_crop_workers_die_when_the_cropping_process_is_killed(tmp_path):
    """Check that kill -9 of a process cropping in parallel (a job's runner) ends its
    detector processes within seconds instead of leaving them running."""
    rng = np.random.default_rng(0)
    for i in range(8):  # faceless photos that keep the CNN detector busy
        Image.fromarray(rng.integers(0, 255, (400, 400, 3), dtype=np.uint8)).save(
            tmp_path / f"{i}.png")
    parent = subprocess.Popen([sys.executable, "-c", CROPPING_PARENT, str(tmp_path)],
                              cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert pool_survivors(parent, 2) == []


def test_a_pixel_bomb_is_skipped_as_too_large_before_any_worker(tmp_path, monkeypatch):
    """Check that a photo above max_pixels is skipped as too_large from its header, in the
    parent, so no worker ever decodes it."""
    from tests.bad_inputs import good_jpeg, pixel_bomb

    paths = [pixel_bomb(tmp_path / "bomb.png"), good_jpeg(tmp_path / "good.jpg")]
    decoded = []
    monkeypatch.setattr(crop_cache, "load_image", lambda path, **kw: decoded.append(path)
                        or load_image(path, **kw))
    out = extract_crops(paths, tmp_path / "cache", CropSpec("none", size=32,
                                                            max_pixels=40_000_000), workers=1)
    assert [o.status for o in out] == ["too_large", "detected"]
    assert decoded == [str(paths[1])] and "40,000,000" in out[0].detail


def test_a_photo_below_min_face_side_is_skipped_with_detector_none(tmp_path):
    """Check that with detector 'none' a 1x1 photo is skipped as too_small and a 48 px one
    is cropped."""
    from tests.bad_inputs import good_jpeg, one_pixel

    paths = [one_pixel(tmp_path / "tiny.png"), good_jpeg(tmp_path / "good.jpg")]
    out = extract_crops(paths, tmp_path / "cache", CropSpec("none", size=32, min_face_side=32),
                        workers=1)
    assert [o.status for o in out] == ["too_small", "detected"]


def test_a_cached_crop_is_held_to_the_minimum_face_side_of_the_reader(photos, tmp_path):
    """Check that a crop cached without a minimum is served as too_small to a later run
    whose min_face_side is above the face's recorded side, and still served below it."""
    plain = [photos[0]]
    [first] = extract_crops(plain, tmp_path / "cache", HOG, workers=1)
    side = crop_cache._cached_face_side(Path(first.crop_path))
    assert side is not None and side > 50
    strict = CropSpec("hog", min_face_side=side + 1)
    lax = CropSpec("hog", min_face_side=side)
    assert strict.key == HOG.key  # the limit never splits the cache
    [refused] = extract_crops(plain, tmp_path / "cache", strict, workers=1)
    [served] = extract_crops(plain, tmp_path / "cache", lax, workers=1)
    assert (refused.status, refused.cached, served.status) == ("too_small", True, "cached")

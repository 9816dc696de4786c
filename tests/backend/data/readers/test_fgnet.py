"""Tests for backend.data.readers.fgnet."""
from __future__ import annotations

import pytest

from backend.data.readers.fgnet import read_fgnet


def _dataset(tmp_path, make_jpeg, *names):
    """An FG-NET layout with `names` in images/ and an empty points/ beside it."""
    for name in names:
        make_jpeg(tmp_path / "images", name)
    (tmp_path / "points").mkdir()
    return tmp_path / "images"


def test_reads_subject_and_age_from_the_name(tmp_path, make_jpeg):
    """Check that 001A02.JPG is subject 1, age 2, with no gender."""
    [record] = read_fgnet(_dataset(tmp_path, make_jpeg, "001A02.JPG")).records
    assert (record.extras["subject"], record.age, record.gender) == (1, 2, None)
    assert record.path == str(tmp_path / "images" / "001A02.JPG")


def test_reads_second_photos_and_any_case(tmp_path, make_jpeg):
    """Check that a trailing a/b and lower-case letters still parse."""
    result = read_fgnet(_dataset(tmp_path, make_jpeg, "001A43a.JPG", "002a07b.jpg"))
    assert [(r.extras["subject"], r.age) for r in result.records] == [(1, 43), (2, 7)]


def test_links_landmarks_by_lowercased_stem(tmp_path, make_jpeg):
    """Check that 001A43a.JPG gets ../points/001a43a.pts when that file exists."""
    images = _dataset(tmp_path, make_jpeg, "001A43a.JPG")
    (tmp_path / "points" / "001a43a.pts").write_text("version: 1\n")
    assert read_fgnet(images).records[0].extras["landmarks"] == str(
        tmp_path / "points" / "001a43a.pts")


def test_landmarks_are_none_without_a_points_file(tmp_path, make_jpeg):
    """Check that an image without a .pts file has landmarks None."""
    images = _dataset(tmp_path, make_jpeg, "001A02.JPG")
    assert read_fgnet(images).records[0].extras["landmarks"] is None


def test_accepts_the_dataset_folder(tmp_path, make_jpeg):
    """Check that the folder holding images/ reads the same as images/ itself."""
    _dataset(tmp_path, make_jpeg, "001A02.JPG")
    assert read_fgnet(tmp_path).records == read_fgnet(tmp_path / "images").records


def test_skips_a_malformed_name(tmp_path, make_jpeg):
    """Check that a name off the SSSAyy pattern is skipped, naming the file."""
    [skip] = read_fgnet(_dataset(tmp_path, make_jpeg, "portrait.JPG")).skipped
    assert (skip.item, skip.reason) == ("portrait.JPG", "malformed_name")
    assert "SSSAyy" in skip.detail


@pytest.mark.shared_data
def test_real_folder(shared_data):
    """Check the real FG-NET: 1,002 records of 82 people aged 0-69, each with landmarks."""
    result = read_fgnet(shared_data / "fgnet" / "images")
    ages = [r.age for r in result.records]
    assert (len(result.records), result.skipped) == (1002, [])
    assert (min(ages), max(ages)) == (0, 69)
    assert len({r.extras["subject"] for r in result.records}) == 82
    assert all(r.extras["landmarks"] for r in result.records)


def test_a_name_that_is_not_utf8_is_skipped_as_undecodable(tmp_path, make_jpeg):
    """Check that an FG-NET file whose name is not UTF-8 is skipped as undecodable_name."""
    from tests.bad_inputs import non_utf8_name

    make_jpeg(tmp_path, "001A02.JPG")
    non_utf8_name(tmp_path, stem=b"002A05\xfe", suffix=b".JPG")
    result = read_fgnet(tmp_path)
    assert [r.age for r in result.records] == [2]
    assert [(s.item, s.reason) for s in result.skipped] == [("002A05\\xfe.JPG",
                                                             "undecodable_name")]

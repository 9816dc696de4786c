"""Tests for backend.data.readers.imdb_wiki."""
from __future__ import annotations

import functools
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from backend.data.readers.imdb_wiki import read_imdb_wiki
from backend.params import InvalidParameterError


def _datenum(day: date) -> float:
    """The MATLAB datenum of `day`."""
    return float(day.toordinal() + 366)


def _read_rows(tmp_path, make_mat, *changes, **options):
    """Write one row per dict of `changes` and read the file back."""
    return read_imdb_wiki(make_mat(tmp_path / "wiki.mat", list(changes)), **options)


@functools.lru_cache(maxsize=1)
def _read_real(root: Path):
    """The shared wiki.mat read once for all real-data tests."""
    return read_imdb_wiki(root / "imdb-wiki" / "wiki.mat")


def test_age_counts_years_completed_by_first_of_july(tmp_path, make_mat):
    """Check that birthdays on 1 July count and those after it do not."""
    births = [date(1981, 5, 5), date(1981, 7, 1), date(1981, 7, 2)]
    result = _read_rows(tmp_path, make_mat, *({"dob": _datenum(b)} for b in births))
    assert [r.age for r in result.records] == [28, 28, 27]


def test_dob_matches_the_documented_conversion(tmp_path, make_mat):
    """Check that dob = date.fromordinal(int(dob)) - 366 days, ignoring the day fraction."""
    dob = 726780.75
    result = _read_rows(tmp_path, make_mat, {"dob": dob})
    expected = date.fromordinal(int(dob)) - timedelta(days=366)
    assert result.records[0].extras["dob"] == expected.isoformat()


def test_gender_codes(tmp_path, make_mat):
    """Check that 1 reads as 'M', 0 as 'F' and NaN as None."""
    result = _read_rows(tmp_path, make_mat, {"gender": 1.0}, {"gender": 0.0}, {"gender": np.nan})
    assert [r.gender for r in result.records] == ["M", "F", None]


def test_skips_an_unknown_gender_code(tmp_path, make_mat):
    """Check that a gender code other than 0, 1 or NaN is skipped as bad_gender."""
    result = _read_rows(tmp_path, make_mat, {"gender": 2.0})
    assert result.skipped[0].reason == "bad_gender" and "2.0" in result.skipped[0].detail


def test_skips_rows_without_a_face(tmp_path, make_mat):
    """Check that face_score -inf is skipped as no_face, naming the image."""
    result = _read_rows(tmp_path, make_mat, {"face_score": -np.inf})
    [skip] = result.skipped
    assert (skip.item, skip.reason) == ("00/0.jpg", "no_face")


def test_skips_faces_below_min_face_score(tmp_path, make_mat):
    """Check that a face_score below the threshold is skipped with both numbers."""
    result = _read_rows(tmp_path, make_mat, {"face_score": 0.5})
    assert result.skipped[0].reason == "low_face_score"
    assert "0.500" in result.skipped[0].detail and "1.0" in result.skipped[0].detail


def test_min_face_score_is_configurable(tmp_path, make_mat):
    """Check that lowering min_face_score keeps a weaker face."""
    result = _read_rows(tmp_path, make_mat, {"face_score": 0.5}, min_face_score=0.25)
    assert len(result.records) == 1


def test_rejects_a_non_numeric_min_face_score(tmp_path, make_mat):
    """Check that min_face_score='high' raises the standard parameter error."""
    with pytest.raises(InvalidParameterError, match="'min_face_score' parameter of read_imdb_wiki"):
        _read_rows(tmp_path, make_mat, {}, min_face_score="high")


def test_skips_photos_with_a_second_face(tmp_path, make_mat):
    """Check that a non-NaN second_face_score is skipped as second_face by default."""
    result = _read_rows(tmp_path, make_mat, {"second_face_score": 2.0})
    assert result.skipped[0].reason == "second_face"


def test_allow_second_face_keeps_them(tmp_path, make_mat):
    """Check that allow_second_face=True keeps a photo with a second face."""
    result = _read_rows(tmp_path, make_mat, {"second_face_score": 2.0}, allow_second_face=True)
    assert len(result.records) == 1


def test_skips_a_dob_that_is_no_date(tmp_path, make_mat):
    """Check that a datenum before year 1 is skipped as bad_birth_date, naming the value."""
    result = _read_rows(tmp_path, make_mat, {"dob": 12.0})
    assert result.skipped[0].reason == "bad_birth_date" and "12.0" in result.skipped[0].detail


def test_skips_a_birth_after_the_photo(tmp_path, make_mat):
    """Check that a birth date after 1 July of the photo year is skipped as bad_birth_date."""
    result = _read_rows(tmp_path, make_mat, {"dob": _datenum(date(2010, 1, 1))})
    assert result.skipped[0].reason == "bad_birth_date"
    assert "2010-01-01" in result.skipped[0].detail and "2009" in result.skipped[0].detail


def test_paths_default_to_the_mat_folder(tmp_path, make_mat):
    """Check that image paths join the .mat's folder and full_path without the images existing."""
    result = _read_rows(tmp_path, make_mat, {})
    assert result.records[0].path == str(tmp_path / "00" / "0.jpg")


def test_image_root_overrides_the_mat_folder(tmp_path, make_mat):
    """Check that image_root is the folder full_path resolves against."""
    result = _read_rows(tmp_path, make_mat, {}, image_root=tmp_path / "crops")
    assert result.records[0].path == str(tmp_path / "crops" / "00" / "0.jpg")


def test_extras_carry_the_metadata(tmp_path, make_mat):
    """Check that name, face box, face score, photo year and birth date are extras."""
    extras = _read_rows(tmp_path, make_mat, {}).records[0].extras
    assert extras == {"name": "Sami", "face_location": [1.0, 2.0, 3.0, 4.0], "face_score": 4.3,
                      "photo_taken": 2009, "dob": "1981-05-05"}


def test_an_empty_name_is_none(tmp_path, make_mat):
    """Check that an empty MATLAB name cell reads as None."""
    result = _read_rows(tmp_path, make_mat, {"name": None})
    assert result.records[0].extras["name"] is None


def test_reads_an_imdb_struct(tmp_path, make_mat):
    """Check that a file whose struct is named 'imdb' is read the same way."""
    path = make_mat(tmp_path / "imdb.mat", [{}], struct="imdb")
    assert read_imdb_wiki(path).records[0].age == 28


def test_rejects_a_mat_without_wiki_or_imdb(tmp_path, make_mat):
    """Check that another struct name raises ValueError naming the file and what it holds."""
    path = make_mat(tmp_path / "other.mat", [{}], struct="celeb")
    with pytest.raises(ValueError, match=r"other\.mat.*'wiki' or 'imdb'.*'celeb'"):
        read_imdb_wiki(path)


@pytest.mark.shared_data
def test_real_file_accounts_for_every_entry(shared_data):
    """Check that the 62,328 entries of wiki.mat are all records or skipped."""
    result = _read_real(shared_data)
    assert len(result.records) + len(result.skipped) == 62328


@pytest.mark.shared_data
def test_real_known_row_age(shared_data):
    """Check Sami Jauhojaervi's age: born 1981-05-05 (datenum 723671), photo 2009, so 28."""
    [record] = [r for r in _read_real(shared_data).records
                if r.path.endswith("17/10000217_1981-05-05_2009.jpg")]
    assert (record.age, record.gender, record.extras["dob"]) == (28, "M", "1981-05-05")


@pytest.mark.shared_data
def test_real_birth_dates_match_the_file_names(shared_data):
    """Check that each converted dob equals the birth date written in the image's name."""
    pattern = re.compile(r"_(\d{4}-\d{2}-(?!00)\d{2})_(\d{4})\.jpg$")
    named = [(r, pattern.search(r.path)) for r in _read_real(shared_data).records]
    wrong = [r.path for r, m in named if m and m.group(1) != r.extras["dob"]]
    assert len(named) > 38000 and wrong == []


@pytest.mark.shared_data
def test_real_file_has_unknown_genders(shared_data):
    """Check that NaN genders in wiki.mat come through as None."""
    assert any(r.gender is None for r in _read_real(shared_data).records)


@pytest.mark.shared_data
def test_real_file_reports_each_skip_reason(shared_data):
    """Check that no face, weak faces and second faces are all found in wiki.mat."""
    counts = _read_real(shared_data).skipped_counts()
    assert {"no_face", "low_face_score", "second_face"} <= set(counts)
    assert counts["no_face"] == 18016


@pytest.mark.parametrize("maker,name", [("empty_mat", "empty.mat"), ("junk_mat", "junk.mat")])
def test_a_broken_mat_file_names_the_file_and_what_was_expected(tmp_path, maker, name):
    """Check that an empty or junk .mat raises a ValueError naming the file and the
    expected wiki/imdb struct, not scipy's MatReadError or an IndexError."""
    import tests.bad_inputs as bad

    path = getattr(bad, maker)(tmp_path / name)
    with pytest.raises(ValueError, match=rf"{name} is not a readable MATLAB \.mat file .*"
                                         r"expected IMDB-WIKI's wiki\.mat or imdb\.mat"):
        read_imdb_wiki(path)


def test_a_struct_with_fields_of_unequal_length_is_refused(tmp_path):
    """Check that a wiki struct whose fields differ in length names the lengths and file."""
    import scipy.io

    fields = {name: np.zeros((1, 2)) for name in ("dob", "photo_taken", "gender", "face_score",
                                                  "second_face_score")}
    fields["dob"] = np.zeros((1, 3))
    for name in ("full_path", "name", "face_location"):
        fields[name] = np.empty((1, 2), dtype=object)
        fields[name][0, 0], fields[name][0, 1] = "a", "b"
    scipy.io.savemat(tmp_path / "odd.mat", {"wiki": fields})
    with pytest.raises(ValueError, match=r"odd\.mat differ in length"):
        read_imdb_wiki(tmp_path / "odd.mat")


@pytest.mark.parametrize("full_path", ["/etc/hostname", "../../outside.jpg", "00/../../x.jpg"])
def test_a_full_path_that_leaves_the_image_root_is_skipped(tmp_path, make_mat, full_path):
    """Check that a row whose full_path is absolute or climbs out of the image root with
    '..' is skipped as outside_root, and the other row is kept."""
    result = _read_rows(tmp_path, make_mat, {}, {"full_path": full_path})
    assert [r.path for r in result.records] == [str(tmp_path / "00" / "0.jpg")]
    [skip] = result.skipped
    assert (skip.item, skip.reason) == (full_path, "outside_root")


def test_a_photo_year_that_overflows_is_skipped_with_its_row(tmp_path, make_mat):
    """Check that a photo_taken far beyond any age (an overflow in the age) is skipped as
    bad_birth_date naming its row, not an OverflowError."""
    import scipy.io

    path = make_mat(tmp_path / "wiki.mat", [{}, {}])
    mat = scipy.io.loadmat(path)
    mat["wiki"]["photo_taken"][0, 0] = np.array([[2009.0, 1e30]])
    scipy.io.savemat(path, {"wiki": mat["wiki"]})
    result = read_imdb_wiki(path)
    assert len(result.records) == 1
    [skip] = result.skipped
    assert skip.reason == "bad_birth_date" and skip.detail.startswith("row 1:")

"""Tests for backend.data.readers.utkface."""
from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path

import pytest

from backend.data.readers.utkface import read_utkface

# The five names of the shared copy that break the pattern, and what each still says.
MALFORMED = {
    "24_0_1_20170116220224657 .jpg.chip.jpg": (24, "M", 1),
    "39_1_20170116174525125.jpg.chip.jpg": (39, "F", None),
    "55_0_0_20170116232725357jpg.chip.jpg": (55, "M", 0),
    "61_1_20170109142408075.jpg.chip.jpg": (61, "F", None),
    "61_1_20170109150557335.jpg.chip.jpg": (61, "F", None),
}
# Counts per age group of the well-formed names, from shared/data/README.md.
README_GROUPS = {"1-19": 3925, "20-39": 10108, "40-59": 3875, "60-79": 1721, "80-99": 540,
                 "100+": 25}
STRICT = re.compile(r"^[0-9]+_[01]_[0-4]_[0-9]+\.jpg\.chip\.jpg$")


def _group(age: int) -> str:
    """The README's age group of `age`."""
    for low, high in ((1, 19), (20, 39), (40, 59), (60, 79), (80, 99)):
        if age <= high:
            return f"{low}-{high}"
    return "100+"


@functools.lru_cache(maxsize=1)
def _read_real(root: Path):
    """The shared UTKFace folder read once for all real-data tests."""
    return read_utkface(root / "utkface")


def _read_one(tmp_path, make_jpeg, name):
    """Read a folder holding the single image `name`."""
    make_jpeg(tmp_path, name)
    return read_utkface(tmp_path)


def test_reads_labels_from_a_well_formed_name(tmp_path, make_jpeg):
    """Check that age, gender, race, race name and date come from the file name."""
    result = _read_one(tmp_path, make_jpeg, "26_1_2_20170116174525125.jpg.chip.jpg")
    [record] = result.records
    assert (record.age, record.gender) == (26, "F")
    assert record.extras == {"race": 2, "race_name": "Asian", "datetime": "20170116174525125"}


def test_race_is_kept_as_a_group_by_its_name(tmp_path, make_jpeg):
    """Check that the race field becomes the record's 'race' group, by name, and a
    name without the race field has an empty (unknown) one."""
    make_jpeg(tmp_path, "26_1_1_20170116174525125.jpg.chip.jpg")
    make_jpeg(tmp_path, "39_1_20170116174525125.jpg.chip.jpg")
    groups = sorted(r.groups["race"] for r in read_utkface(tmp_path).records)
    assert groups == ["", "Black"]


def test_gender_zero_is_male(tmp_path, make_jpeg):
    """Check that gender field 0 reads as 'M'."""
    result = _read_one(tmp_path, make_jpeg, "30_0_0_20170116174525125.jpg.chip.jpg")
    assert result.records[0].gender == "M"


def test_record_path_is_absolute(tmp_path, make_jpeg, monkeypatch):
    """Check that a relative root still gives absolute image paths."""
    make_jpeg(tmp_path / "faces", "30_0_0_20170116174525125.jpg.chip.jpg")
    monkeypatch.chdir(tmp_path)
    record = read_utkface("faces").records[0]
    assert Path(record.path).is_absolute() and Path(record.path).is_file()


def test_ignores_files_that_are_not_images(tmp_path, make_jpeg):
    """Check that a non-image file is neither read nor reported."""
    make_jpeg(tmp_path, "30_0_0_20170116174525125.jpg.chip.jpg")
    (tmp_path / "notes.txt").write_text("not a face")
    result = read_utkface(tmp_path)
    assert (len(result.records), result.skipped) == (1, [])


def test_keeps_ages_outside_1_to_99(tmp_path, make_jpeg):
    """Check that the reader keeps an age of 116 (filtering is a later step)."""
    result = _read_one(tmp_path, make_jpeg, "116_1_0_20170116174525125.jpg.chip.jpg")
    assert result.records[0].age == 116


def test_repairs_a_space_before_the_extension(tmp_path, make_jpeg):
    """Check that a space before '.jpg' is removed and the repair reported."""
    result = _read_one(tmp_path, make_jpeg, "24_0_1_20170116220224657 .jpg.chip.jpg")
    assert (result.records[0].age, result.records[0].extras["race"]) == (24, 1)
    assert "whitespace" in result.repaired[0].detail


def test_repairs_a_missing_dot(tmp_path, make_jpeg):
    """Check that 'DATETIMEjpg.chip.jpg' is read as 'DATETIME.jpg.chip.jpg' and reported."""
    result = _read_one(tmp_path, make_jpeg, "55_0_0_20170116232725357jpg.chip.jpg")
    assert result.records[0].extras["datetime"] == "20170116232725357"
    assert "missing dot" in result.repaired[0].detail


def test_repairs_a_missing_race_with_race_none(tmp_path, make_jpeg):
    """Check that AGE_GENDER_DATETIME keeps age and gender and sets race to None."""
    result = _read_one(tmp_path, make_jpeg, "39_1_20170116174525125.jpg.chip.jpg")
    record = result.records[0]
    assert (record.age, record.gender, record.extras["race"]) == (39, "F", None)
    assert "race field is missing" in result.repaired[0].detail


def test_repairs_an_unknown_race_with_race_none(tmp_path, make_jpeg):
    """Check that a race outside 0-4 is reported and set to None."""
    result = _read_one(tmp_path, make_jpeg, "39_1_7_20170116174525125.jpg.chip.jpg")
    assert result.records[0].extras["race_name"] is None
    assert "race 7" in result.repaired[0].detail


def test_skips_an_unparsable_name(tmp_path, make_jpeg):
    """Check that a name without labels is skipped as malformed, naming the file."""
    result = _read_one(tmp_path, make_jpeg, "holiday.jpg")
    [skip] = result.skipped
    assert (skip.item, skip.reason) == ("holiday.jpg", "malformed_name")
    assert "'holiday.jpg'" in skip.detail and "AGE_GENDER_RACE_DATETIME" in skip.detail


def test_skips_an_unknown_gender(tmp_path, make_jpeg):
    """Check that gender field 2 is skipped as bad_gender with the allowed values."""
    result = _read_one(tmp_path, make_jpeg, "30_2_0_20170116174525125.jpg.chip.jpg")
    assert result.skipped[0].reason == "bad_gender"
    assert "'2'" in result.skipped[0].detail and "0 (male), 1 (female)" in result.skipped[0].detail


@pytest.mark.shared_data
def test_real_folder_accounts_for_every_file(shared_data):
    """Check that every one of the 20,199 real files is either a record or skipped."""
    result = _read_real(shared_data)
    assert len(result.records) + len(result.skipped) == 20199


@pytest.mark.shared_data
def test_real_folder_reports_the_five_malformed_names(shared_data):
    """Check that exactly the five malformed real names are repaired, with their labels."""
    result = _read_real(shared_data)
    assert {r.item for r in result.repaired} == set(MALFORMED)
    by_name = {Path(r.path).name: r for r in result.records}
    found = {n: (by_name[n].age, by_name[n].gender, by_name[n].extras["race"]) for n in MALFORMED}
    assert found == MALFORMED


@pytest.mark.shared_data
def test_real_well_formed_names_match_readme_age_groups(shared_data):
    """Check that the README's group counts (well-formed names only) are reproduced."""
    records = _read_real(shared_data).records
    counts = Counter(_group(r.age) for r in records if STRICT.match(Path(r.path).name))
    assert counts == README_GROUPS


@pytest.mark.shared_data
def test_real_records_add_the_repaired_names_to_readme_groups(shared_data):
    """Check that all records are the README's counts plus the five repaired names."""
    records = _read_real(shared_data).records
    expected = Counter(README_GROUPS) + Counter(_group(age) for age, _, _ in MALFORMED.values())
    assert Counter(_group(r.age) for r in records) == expected


def test_a_name_that_is_not_utf8_is_skipped_as_undecodable_and_shown_escaped(tmp_path, make_jpeg):
    """Check that a file whose name holds the byte 0xff is skipped as undecodable_name,
    its item and detail written with a \\xff escape (safe for any UTF-8 file), and the
    other photos are read."""
    from tests.bad_inputs import non_utf8_name

    make_jpeg(tmp_path, "30_0_0_20170116174525125.jpg.chip.jpg")
    non_utf8_name(tmp_path)
    result = read_utkface(tmp_path)
    assert [r.age for r in result.records] == [30]
    [skip] = result.skipped
    assert skip.reason == "undecodable_name"
    assert skip.item == "40_1_0_20170109150557335\\xff.jpg.chip.jpg"
    (skip.item + skip.detail).encode("utf-8")  # no surrogate is left

"""Tests for backend.data.readers.csv_manifest."""
from __future__ import annotations

import pytest

from backend.data.readers.csv_manifest import read_csv_manifest


def _manifest(tmp_path, make_jpeg, text, images=("a.jpg",)):
    """A manifest.csv with `text` next to an images/ folder holding `images`."""
    for name in images:
        make_jpeg(tmp_path / "images", name)
    path = tmp_path / "manifest.csv"
    path.write_text(text)
    return path


def test_reads_a_row(tmp_path, make_jpeg):
    """Check that path, age and gender become a record with a path next to the CSV."""
    path = _manifest(tmp_path, make_jpeg, "path,age,gender\nimages/a.jpg,34,F\n")
    [record] = read_csv_manifest(path).records
    assert (record.path, record.age, record.gender) == (str(tmp_path / "images" / "a.jpg"), 34, "F")


def test_root_overrides_the_csv_folder(tmp_path, make_jpeg):
    """Check that relative paths resolve against `root` when given."""
    path = _manifest(tmp_path, make_jpeg, "path,age,gender\na.jpg,34,F\n")
    record = read_csv_manifest(path, root=tmp_path / "images").records[0]
    assert record.path == str(tmp_path / "images" / "a.jpg")


def test_keeps_absolute_paths(tmp_path, make_jpeg):
    """Check that an absolute path is used as it is."""
    image = make_jpeg(tmp_path / "elsewhere", "b.jpg")
    path = _manifest(tmp_path, make_jpeg, f"path,age,gender\n{image},34,F\n")
    assert read_csv_manifest(path, root=tmp_path / "images").records[0].path == str(image)


def test_gender_words(tmp_path, make_jpeg):
    """Check that m, Male, F, FEMALE and empty read as M, M, F, F and None."""
    rows = "".join(f"images/a.jpg,30,{g}\n" for g in ("m", "Male", "F", "FEMALE", ""))
    records = read_csv_manifest(_manifest(tmp_path, make_jpeg, "path,age,gender\n" + rows)).records
    assert [r.gender for r in records] == ["M", "M", "F", "F", None]


def test_other_columns_become_extras(tmp_path, make_jpeg):
    """Check that columns besides path, age and gender are kept as extras."""
    path = _manifest(tmp_path, make_jpeg, "subject,path,age,gender\nx7,images/a.jpg,3,M\n")
    assert read_csv_manifest(path).records[0].extras == {"subject": "x7"}


def test_other_columns_are_carried_as_groups(tmp_path, make_jpeg):
    """Check that extra columns (race, skin tone) become the record's groups, trimmed,
    an empty cell an empty (unknown) label."""
    path = _manifest(tmp_path, make_jpeg, "path,age,gender,race,skin_tone\n"
                     "images/a.jpg,3,M, Asian ,IV\nimages/a.jpg,30,F,,II\n")
    records = read_csv_manifest(path).records
    assert [r.groups for r in records] == [{"race": "Asian", "skin_tone": "IV"},
                                           {"race": "", "skin_tone": "II"}]


def test_missing_columns_raise(tmp_path, make_jpeg):
    """Check that a header without age and gender names both and the file."""
    path = _manifest(tmp_path, make_jpeg, "path,years\nimages/a.jpg,3\n")
    with pytest.raises(ValueError, match=r"manifest\.csv lacks the columns \['age', 'gender'\]"):
        read_csv_manifest(path)


def test_skips_a_bad_age_with_its_row(tmp_path, make_jpeg):
    """Check that age 'ten' is skipped as bad_age naming row 2 and the value."""
    text = "path,age,gender\nimages/a.jpg,10,M\nimages/a.jpg,ten,M\n"
    [skip] = read_csv_manifest(_manifest(tmp_path, make_jpeg, text)).skipped
    assert (skip.item, skip.reason) == ("row 2", "bad_age")
    assert "'ten'" in skip.detail and "line 3 of manifest.csv" in skip.detail


def test_skips_a_negative_or_fractional_age(tmp_path, make_jpeg):
    """Check that ages -1 and 3.5 are skipped while 4.0 is read as 4."""
    text = "path,age,gender\nimages/a.jpg,-1,M\nimages/a.jpg,3.5,M\nimages/a.jpg,4.0,M\n"
    result = read_csv_manifest(_manifest(tmp_path, make_jpeg, text))
    assert [s.reason for s in result.skipped] == ["bad_age", "bad_age"]
    assert [r.age for r in result.records] == [4]


def test_skips_an_unknown_gender(tmp_path, make_jpeg):
    """Check that gender 'x' is skipped as bad_gender listing the accepted words."""
    text = "path,age,gender\nimages/a.jpg,10,x\n"
    [skip] = read_csv_manifest(_manifest(tmp_path, make_jpeg, text)).skipped
    assert skip.reason == "bad_gender" and "'x'" in skip.detail and "female" in skip.detail


def test_skips_a_missing_image(tmp_path, make_jpeg):
    """Check that a row naming no existing file is skipped as missing_file."""
    text = "path,age,gender\nimages/gone.jpg,10,M\n"
    [skip] = read_csv_manifest(_manifest(tmp_path, make_jpeg, text)).skipped
    assert skip.reason == "missing_file" and "gone.jpg" in skip.detail


def test_skips_an_empty_path(tmp_path, make_jpeg):
    """Check that a row with an empty path is skipped as bad_path."""
    [skip] = read_csv_manifest(_manifest(tmp_path, make_jpeg, "path,age,gender\n,10,M\n")).skipped
    assert skip.reason == "bad_path"


def test_skips_a_row_with_surplus_fields(tmp_path, make_jpeg):
    """Check that a row with more fields than the header is skipped as bad_row."""
    text = "path,age,gender\nimages/a.jpg,10,M,extra\n"
    [skip] = read_csv_manifest(_manifest(tmp_path, make_jpeg, text)).skipped
    assert skip.reason == "bad_row"


def test_reads_a_byte_order_mark(tmp_path, make_jpeg):
    """Check that a spreadsheet's UTF-8 byte-order mark does not hide the 'path' column."""
    path = _manifest(tmp_path, make_jpeg, "\ufeffpath,age,gender\nimages/a.jpg,34,F\n")
    assert len(read_csv_manifest(path).records) == 1

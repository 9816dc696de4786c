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


def test_keeps_an_absolute_path_inside_the_root(tmp_path, make_jpeg):
    """Check that an absolute path under the root is used as it is."""
    path = _manifest(tmp_path, make_jpeg, f"path,age,gender\n{tmp_path / 'images' / 'a.jpg'},34,F\n")
    assert read_csv_manifest(path, root=tmp_path / "images").records[0].path == \
        str(tmp_path / "images" / "a.jpg")


@pytest.mark.parametrize("row", ["/etc/hostname", "../elsewhere/b.jpg", "images/../../b.jpg"])
def test_a_path_that_escapes_the_root_is_skipped_as_outside_root(tmp_path, make_jpeg, row):
    """Check that a row naming a file outside the manifest's folder (absolute elsewhere, or
    climbing out with '..') is skipped as outside_root with its line, never opened."""
    make_jpeg(tmp_path.parent / "elsewhere", "b.jpg")
    make_jpeg(tmp_path / "elsewhere", "b.jpg")
    path = _manifest(tmp_path, make_jpeg, f"path,age,gender\nimages/a.jpg,30,F\n{row},34,F\n")
    result = read_csv_manifest(path)
    assert [r.path for r in result.records] == [str(tmp_path / "images" / "a.jpg")]
    [skip] = result.skipped
    assert skip.reason == "outside_root" and "line 3" in skip.detail and row in skip.detail


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


@pytest.mark.parametrize("age", ["99999999999999999999999", "1e300", "151", "-3", "inf", "nan"])
def test_an_age_that_overflows_or_is_negative_is_skipped_with_its_line(tmp_path, make_jpeg, age):
    """Check that an age too large for any person (or for an int64), negative, inf or nan
    is skipped as bad_age naming its line, and the good row is still read."""
    path = _manifest(tmp_path, make_jpeg, f"path,age,gender\nimages/a.jpg,{age},F\n"
                     "images/a.jpg,30,M\n")
    result = read_csv_manifest(path)
    assert [r.age for r in result.records] == [30]
    [skip] = result.skipped
    assert skip.reason == "bad_age" and "line 2" in skip.detail and "[0, 150]" in skip.detail


def test_a_latin1_manifest_names_the_file_line_and_encoding(tmp_path, make_jpeg):
    """Check that a Latin-1 manifest fails with a ValueError naming the file, the line of
    the first bad byte and UTF-8, not a bare UnicodeDecodeError."""
    path = _manifest(tmp_path, make_jpeg, "")
    path.write_bytes("path,age,gender,city\nimages/a.jpg,30,F,Zurich\nimages/a.jpg,31,M,Z\u00fcrich\n"
                     .encode("latin-1"))
    with pytest.raises(ValueError, match=r"manifest\.csv is not UTF-8 text: byte 0xfc on line 3"):
        read_csv_manifest(path)

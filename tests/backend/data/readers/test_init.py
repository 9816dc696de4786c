"""Tests for backend.data.readers (read_source)."""
from __future__ import annotations

import pytest

from backend.data.readers import SOURCES, read_source
from backend.params import InvalidParameterError

UTK_NAME = "30_0_0_20170116174525125.jpg.chip.jpg"


def test_sources():
    """Check the names of the sources read_source accepts."""
    assert SOURCES == ("utkface", "imdb-wiki", "fgnet", "csv")


def test_rejects_an_unknown_source(tmp_path):
    """Check that source 'celeba' raises the standard message listing the sources."""
    expected = ("The 'source' parameter of read_source must be one of {'utkface', 'imdb-wiki', "
                "'fgnet', 'csv'}. Got 'celeba' instead.")
    with pytest.raises(InvalidParameterError) as error:
        read_source("celeba", tmp_path)
    assert str(error.value) == expected


def test_missing_path_names_the_parameter_and_path(tmp_path):
    """Check that a missing path raises FileNotFoundError naming 'path' and the path."""
    with pytest.raises(FileNotFoundError, match=r"'path'.*nowhere"):
        read_source("utkface", tmp_path / "nowhere")


def test_missing_meta_names_the_parameter_and_path(tmp_path):
    """Check that a missing meta file raises FileNotFoundError naming 'meta'."""
    with pytest.raises(FileNotFoundError, match=r"'meta'.*wiki\.mat"):
        read_source("imdb-wiki", tmp_path, meta=tmp_path / "wiki.mat")


def test_rejects_a_folder_without_meta_for_imdb_wiki(tmp_path):
    """Check that an image folder given without the .mat as meta raises the parameter error."""
    with pytest.raises(InvalidParameterError, match="'path' parameter of read_source must be "
                                                    "the label file for source 'imdb-wiki'"):
        read_source("imdb-wiki", tmp_path)


def test_rejects_meta_for_name_labelled_sources(tmp_path):
    """Check that utkface with a meta file raises the standard parameter error."""
    with pytest.raises(InvalidParameterError, match="'meta' parameter of read_source must be "
                                                    "None for source 'utkface'"):
        read_source("utkface", tmp_path, meta=tmp_path)


def test_reads_utkface(tmp_path, make_jpeg):
    """Check that 'utkface' reads a UTKFace folder."""
    make_jpeg(tmp_path, UTK_NAME)
    assert read_source("utkface", tmp_path).records[0].extras["race_name"] == "White"


def test_reads_fgnet(tmp_path, make_jpeg):
    """Check that 'fgnet' reads an FG-NET folder."""
    make_jpeg(tmp_path / "images", "001A02.JPG")
    assert read_source("fgnet", tmp_path).records[0].extras["subject"] == 1


def test_reads_imdb_wiki_from_the_mat(tmp_path, make_mat):
    """Check that 'imdb-wiki' with the .mat as path resolves images beside it."""
    mat = make_mat(tmp_path / "wiki.mat", [{}])
    assert read_source("imdb-wiki", mat).records[0].path == str(tmp_path / "00" / "0.jpg")


def test_meta_makes_path_the_image_root(tmp_path, make_mat):
    """Check that 'imdb-wiki' with meta reads the .mat and joins paths to `path`."""
    mat = make_mat(tmp_path / "wiki.mat", [{}])
    (tmp_path / "crops").mkdir()
    result = read_source("imdb-wiki", tmp_path / "crops", meta=mat)
    assert result.records[0].path == str(tmp_path / "crops" / "00" / "0.jpg")


def test_passes_options_to_the_reader(tmp_path, make_mat):
    """Check that keyword options (min_face_score) reach the reader."""
    mat = make_mat(tmp_path / "wiki.mat", [{"face_score": 0.5}])
    assert len(read_source("imdb-wiki", mat, min_face_score=0.25).records) == 1


def test_reads_csv(tmp_path, make_jpeg):
    """Check that 'csv' with meta reads that manifest and resolves rows against `path`."""
    make_jpeg(tmp_path / "images", "a.jpg")
    (tmp_path / "m.csv").write_text("path,age,gender\na.jpg,20,F\n")
    result = read_source("csv", tmp_path / "images", meta=tmp_path / "m.csv")
    assert result.records[0].path == str(tmp_path / "images" / "a.jpg")

"""Tests for storage.datasets."""
from __future__ import annotations

import pytest

from storage.datasets import (create_dataset, get_dataset, get_or_create_source, get_source,
                              list_datasets)
from storage.errors import (ArtifactPathError, DatasetNotFound, JobNotFound, SourceNotFound)
from storage.jobs import create_job
from storage.records import Dataset, Source


def test_get_or_create_source_returns_same_source(db):
    """Check that asking twice for the same (kind, path, meta_path) gives one source."""
    first = get_or_create_source(db, "imdb-wiki", "/data/wiki", "/data/wiki/wiki.mat")
    again = get_or_create_source(db, "imdb-wiki", "/data/wiki", "/data/wiki/wiki.mat")
    assert isinstance(first, Source) and again == first
    assert first.meta_path == "/data/wiki/wiki.mat"


def test_get_or_create_source_without_meta_path_is_unique(db):
    """Check that sources without a metadata file are also created only once."""
    first = get_or_create_source(db, "utkface", "/data/utk")
    assert get_or_create_source(db, "utkface", "/data/utk") == first
    assert first.meta_path is None


def test_sources_differ_by_kind_path_and_meta(db):
    """Check that a different kind, path or meta_path makes a new source."""
    ids = {get_or_create_source(db, "csv", "/a", "/a/m.csv").id,
           get_or_create_source(db, "csv", "/a", "/a/n.csv").id,
           get_or_create_source(db, "csv", "/b", "/a/m.csv").id,
           get_or_create_source(db, "fgnet", "/a", "/a/m.csv").id}
    assert len(ids) == 4


def test_source_path_is_made_absolute(db, tmp_path, monkeypatch):
    """Check that a relative source path is stored as an absolute, normalised path."""
    monkeypatch.chdir(tmp_path)
    source = get_or_create_source(db, "utkface", "data/./utk")
    assert source.path == str(tmp_path / "data" / "utk")


def test_empty_source_kind_is_value_error(db):
    """Check that an empty source kind raises a ValueError naming what is allowed."""
    with pytest.raises(ValueError, match="non-empty name of at most 32 characters; got ''"):
        get_or_create_source(db, "", "/data/lfw")


def test_get_source_missing(db):
    """Check that a missing source raises SourceNotFound with its id."""
    with pytest.raises(SourceNotFound, match="dataset source 5 does not exist"):
        get_source(db, 5)


def test_dataset_round_trip(db, agerec_home):
    """Check that every field of a created dataset comes back from get_dataset."""
    source = get_or_create_source(db, "utkface", "/data/utk")
    job = create_job(db, "preprocess")
    summary = {"splits": {"train": 8, "val": 1, "test": 1},
               "gender_by_class": {"0": {"male": 2, "female": 2}}, "skipped": {"no_face": 3}}
    created = create_dataset(db, source.id, params={"margin": 0.25}, summary=summary,
                             class_scheme={"edges": [0, 13, 20, 40]}, n_images=10,
                             dir=agerec_home / "datasets" / "custom", job_id=job.id)
    loaded = get_dataset(db, created.id)
    assert isinstance(loaded, Dataset) and loaded == created
    assert (loaded.source, loaded.params, loaded.summary, loaded.n_images, loaded.job_id) == \
        (source, {"margin": 0.25}, summary, 10, job.id)
    assert loaded.class_scheme == {"edges": [0, 13, 20, 40]}
    assert loaded.dir == "datasets/custom"
    assert loaded.created_at.utcoffset().total_seconds() == 0


def test_dataset_dir_defaults_to_datasets_id(dataset):
    """Check that a dataset created without dir lives at datasets/<id>."""
    assert dataset.dir == f"datasets/{dataset.id}"


def test_dataset_dir_outside_home_is_refused(db, tmp_path):
    """Check that a dataset folder outside AGEREC_HOME raises ArtifactPathError."""
    source = get_or_create_source(db, "utkface", "/data/utk")
    with pytest.raises(ArtifactPathError):
        create_dataset(db, source.id, params={}, summary={}, class_scheme={}, n_images=0,
                       dir=tmp_path / "elsewhere")


def test_create_dataset_missing_source(db):
    """Check that a dataset of a missing source raises SourceNotFound."""
    with pytest.raises(SourceNotFound, match="9"):
        create_dataset(db, 9, params={}, summary={}, class_scheme={}, n_images=0)


def test_create_dataset_missing_job(db):
    """Check that a dataset naming a missing job raises JobNotFound."""
    source = get_or_create_source(db, "utkface", "/data/utk")
    with pytest.raises(JobNotFound, match="job 4 "):
        create_dataset(db, source.id, params={}, summary={}, class_scheme={}, n_images=0,
                       job_id=4)


def test_get_dataset_missing(db):
    """Check that a missing dataset raises DatasetNotFound naming its id."""
    with pytest.raises(DatasetNotFound, match="dataset 12 does not exist"):
        get_dataset(db, 12)


def test_list_datasets_newest_first_and_by_source(db):
    """Check that list_datasets orders newest first and filters by source."""
    utk = get_or_create_source(db, "utkface", "/data/utk")
    fg = get_or_create_source(db, "fgnet", "/data/fg")
    made = [create_dataset(db, source.id, params={}, summary={}, class_scheme={}, n_images=1)
            for source in (utk, fg, utk)]
    assert [d.id for d in list_datasets(db)] == [made[2].id, made[1].id, made[0].id]
    assert [d.id for d in list_datasets(db, source_id=utk.id)] == [made[2].id, made[0].id]
    assert [d.id for d in list_datasets(db, limit=1, offset=1)] == [made[1].id]

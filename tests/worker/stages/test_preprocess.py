"""The preprocess stage: what it records about a prepared dataset."""
from __future__ import annotations

import pandas as pd
import pytest

from storage import datasets
from storage.errors import SourceNotFound
from tests.csv_source import make_csv_source
from worker.context import AppContext
from worker.stages.preprocess import run_preprocess
from worker.stages.stage_context import StageContext


def test_source_class_counts_are_recorded_in_the_dataset_version(app, tmp_path):
    """Check that the dataset_versions record holds the source's class counts before
    balancing: every face of the manifest and of unused.csv, per class."""
    csv = make_csv_source(tmp_path / "src", n=80, ages=(5, 25, 25, 25, 45, 65, 85, 25))
    out = run_preprocess(StageContext(app=app), {"source": "csv", "path": str(csv),
                                                 "detector": "none", "image_size": 32})
    record = datasets.get_dataset(app.db, out["dataset_id"])
    root = app.paths.resolve(record.dir)
    labels = pd.concat([pd.read_csv(root / name) for name in ("manifest.csv", "unused.csv")])
    expected = {str(k): int(v) for k, v in labels["label"].value_counts().sort_index().items()}
    assert record.summary["source_class_counts"] == expected == {"0": 10, "1": 40, "2": 10,
                                                                 "3": 10, "4": 10}


def test_a_source_without_a_usable_image_fails_and_registers_nothing(app, tmp_path):
    """Check that preprocessing a folder with no usable image (the issue's `--path /`)
    raises NoUsableImages naming the path, and records neither a dataset nor its source,
    and leaves no dataset folder behind."""
    from backend.preprocess import NoUsableImages

    empty = tmp_path / "nothing"
    empty.mkdir()
    (empty / "notes.txt").write_text("no photos here\n")
    with pytest.raises(NoUsableImages, match="no usable image in .*nothing"):
        run_preprocess(StageContext(app=app), {"source": "utkface", "path": str(empty),
                                               "detector": "none", "image_size": 32})
    assert datasets.list_datasets(app.db) == []
    with pytest.raises(SourceNotFound):
        datasets.get_source(app.db, 1)
    assert not list((app.paths.home / "datasets").glob("*"))


def test_max_image_pixels_comes_from_the_settings(app, tmp_path, monkeypatch):
    """Check that the stage holds photos to AGEREC_MAX_IMAGE_PIXELS: under a 1000-pixel
    limit every 48 px photo is skipped as too_large (so nothing is left)."""
    from backend.preprocess import NoUsableImages

    monkeypatch.setenv("AGEREC_MAX_IMAGE_PIXELS", "1000")
    csv = make_csv_source(tmp_path / "src", n=10)
    with pytest.raises(NoUsableImages, match="too_large: 10"):
        run_preprocess(StageContext(app=AppContext()), {"source": "csv", "path": str(csv),
                                                        "detector": "none", "image_size": 32})

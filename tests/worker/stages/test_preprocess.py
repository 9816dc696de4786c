"""The preprocess stage: what it records about a prepared dataset."""
from __future__ import annotations

import pandas as pd

from storage import datasets
from tests.csv_source import make_csv_source
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

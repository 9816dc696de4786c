"""How a stage that records a run ends it: never left running by a failure."""
from __future__ import annotations

import pytest

from storage import runs
from tests.csv_source import make_csv_source
from worker.cli import main
from worker.context import AppContext
from worker.stages.preprocess import run_preprocess
from worker.stages.stage_context import StageContext


@pytest.fixture
def broken_dataset(agerec_home, tmp_path) -> int:
    """A recorded dataset whose image array has gone missing from disk."""
    app = AppContext()
    csv = make_csv_source(tmp_path / "src", n=40)
    out = run_preprocess(StageContext(app=app), {"source": "csv", "path": str(csv),
                                                 "detector": "none", "image_size": 32})
    (app.paths.resolve(out["dir"]) / "images.npy").unlink()
    return out["dataset_id"]


def _command(kind: str, dataset_id: int) -> list[str]:
    if kind == "train":
        return ["train", "--dataset-id", str(dataset_id), "--backbone", "efficientnet_lite0",
                "--preset", "smoke"]
    db = AppContext().db
    members = [runs.create_run(db, dataset_id, "train", "efficientnet_lite0",
                               status="succeeded").id for _ in range(2)]
    return ["ensemble", "--runs", *map(str, members), "--method", "average"]


@pytest.mark.parametrize("kind", ["train", "ensemble"])
def test_a_stage_failing_on_an_unusable_dataset_ends_its_run_as_failed(kind, broken_dataset,
                                                                     capsys):
    """Check that `agerec train` / `agerec ensemble` on a dataset whose images are gone
    exit 2 naming the missing file, and the run they recorded ends 'failed', not 'running'."""
    argv = _command(kind, broken_dataset)
    assert main(argv) == 2
    assert "images.npy" in capsys.readouterr().err
    (made,) = [r for r in runs.list_runs(AppContext().db, kind=kind)
               if r.status not in ("succeeded",)]
    assert made.status == "failed"

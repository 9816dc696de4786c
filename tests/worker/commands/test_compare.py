"""`agerec compare`: the paired test of runs from their recorded per-face predictions."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from storage import artifacts, datasets, runs
from tests.worker.commands.test_cli import run_json
from worker.cli import main
from worker.context import AppContext


def _run_with_predictions(app, dataset_id, true, pred, paths, scope="test"):
    run = runs.create_run(app.db, dataset_id, "train", "vgg19", status="succeeded")
    folder = app.paths.resolve(run.dir)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "predictions.csv"
    pd.DataFrame({"row": range(len(true)), "source_path": paths, "true": true,
                  "pred": pred}).to_csv(out, index=False)
    artifacts.add_artifact(app.db, "predictions", out, run_id=run.id,
                           meta={"split": "test", "scope": scope})
    return run.id


@pytest.fixture
def three_runs(agerec_home):
    """A baseline, a run that fixes 50 of its mistakes, and one on other faces."""
    app = AppContext()
    source = datasets.get_or_create_source(app.db, "utkface", agerec_home / "src")
    dataset = datasets.create_dataset(app.db, source.id, params={}, summary={},
                                      class_scheme={"edges": [1, 20, 40, 60, 80, 100]},
                                      n_images=400)
    rng = np.random.default_rng(0)
    true = rng.integers(0, 5, 400)
    pred = np.where(rng.random(400) < 0.6, true, (true + 2) % 5)
    fixed = pred.copy()
    wrong = np.flatnonzero(pred != true)[:50]
    fixed[wrong] = true[wrong]
    paths = [f"/faces/{i}.jpg" for i in range(400)]
    ids = [_run_with_predictions(app, dataset.id, true, p, paths) for p in (pred, fixed)]
    ids.append(_run_with_predictions(app, dataset.id, true, pred,
                                     [f"/other/{i}.jpg" for i in range(400)]))
    return ids


def test_compare_json_gives_the_paired_difference_interval_and_p_value(three_runs, capsys):
    """Check the documented shape: baseline, and per run n, accuracy_diff, ci95, p_value."""
    base, better, _ = three_runs
    code, out = run_json(capsys, "compare", "--runs", str(base), str(better))
    assert code == 0 and out["baseline"] == base
    (pair,) = out["pairs"]
    assert pair["run"] == better and pair["n"] == 400
    assert pair["accuracy_diff"] == pytest.approx(50 / 400)
    assert pair["ci95"][0] > 0 and pair["p_value"] < 1e-6 and pair["verdict"] == "better"


def test_compare_refuses_runs_scored_on_different_faces(three_runs, capsys):
    """Check that a run evaluated on other faces exits 2 with a clear error."""
    base, _, elsewhere = three_runs
    code, out = run_json(capsys, "compare", "--runs", str(base), str(elsewhere))
    assert code == 2 and "different faces" in out["error"]


def test_compare_without_predictions_for_the_scope_says_how_to_make_them(three_runs, capsys):
    """Check that a scope the runs were never evaluated on exits 2 naming the command."""
    base, better, _ = three_runs
    code, out = run_json(capsys, "compare", "--runs", str(base), str(better), "--scope",
                         "test+prior:source")
    assert code == 2 and "agerec evaluate --run-id" in out["error"]
    assert "--target-prior source" in out["error"]


def test_compare_prints_a_verdict_per_run(three_runs, capsys):
    """Check the readable text: one line per run with its verdict and McNemar's p."""
    base, better, _ = three_runs
    assert main(["compare", "--runs", str(base), str(better)]) == 0
    text = capsys.readouterr().out
    assert f"run {better}: better" in text and "McNemar p" in text

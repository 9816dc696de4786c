"""The bad-input corpus (tests/bad_inputs.py) through preprocess, evaluate and predict,
as a user meets them: the command line and the job system. Whatever the input, no
traceback, either exit code 2 naming the problem or the bad item skipped with its
reason, every good file still processed, and no job or run left queued or running."""
from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from storage import datasets, jobs, runs
from tests.bad_inputs import Source, csv_source, failing_sources, utkface_source
from tests.csv_source import make_csv_source
from worker.cli import main
from worker.context import AppContext
from worker.execute import execute
from worker.job_control import submit

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
PREP = ["--detector", "none", "--image-size", "32"]
CASES = ("csv-mixed", "utkface-non-utf8-name", "empty-mat", "junk-mat", "latin1-csv",
         "no-usable-image")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    """A home with a smoke run trained on 32 px crops, and the corpus, made once."""
    home = tmp_path_factory.mktemp("home")
    corpus = tmp_path_factory.mktemp("corpus")
    patch = pytest.MonkeyPatch()
    patch.setenv("AGEREC_HOME", str(home))
    patch.delenv("AGEREC_BROKER_URL", raising=False)
    patch.delenv("AGEREC_DATABASE_URL", raising=False)
    patch.setenv("AGEREC_DASHBOARD_DISPATCH", "0")
    csv = make_csv_source(home / "train-src", n=100)
    code, _, _ = run_cli("preprocess", "--source", "csv", "--path", str(csv), *PREP)
    assert code == 0
    code, out, _ = run_cli("train", "--dataset-id", "1", "--backbone", "efficientnet_lite0",
                           "--preset", "smoke", "--weights", "none")
    assert code == 0
    sources = dict(zip(CASES, [csv_source(corpus / "csv"), utkface_source(corpus / "utk"),
                               *failing_sources(corpus / "failing")]))
    yield {"run_id": out["run_id"], "sources": sources, "home": home}
    patch.undo()


def run_cli(*argv: str) -> tuple[int, dict, str]:
    """agerec with --json, in this process: exit code, its one JSON object, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*argv, "--json"])
    assert "Traceback" not in err.getvalue() + out.getvalue()
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, out.getvalue()
    return code, json.loads(lines[0]), err.getvalue()


def check_preprocess(source: Source, app: AppContext) -> None:
    """Foreground: exit 2 naming the problem and nothing registered, or every bad item in
    skipped.csv with its reason and every good file kept."""
    before = len(datasets.list_datasets(app.db))
    code, out, _ = run_cli("preprocess", *source.args(), *PREP)
    if source.fails:
        assert code == 2 and source.fails in out["error"], out
        assert len(datasets.list_datasets(app.db)) == before
        return
    assert code == 0, out
    folder = app.paths.resolve(out["dir"])
    skipped = pd.read_csv(folder / "skipped.csv")
    assert dict(zip(skipped["item"], skipped["reason"])) == source.bad
    used = pd.concat([pd.read_csv(folder / name) for name in ("manifest.csv", "unused.csv")])
    assert set(used["source_path"]) == set(source.good)


def check_preprocess_job(source: Source, app: AppContext) -> None:
    """As a job: it ends succeeded, or failed with the same one-line reason."""
    params = {"source": source.source, "path": str(source.path), "detector": "none",
              "image_size": 32, **({"meta": str(source.meta)} if source.meta else {})}
    job = execute(app, submit(app, "preprocess", params, dispatch=False).id)
    if source.fails:
        assert job.status == "failed" and source.fails in job.error, job.error
    else:
        assert job.status == "succeeded" and set(job.outputs["skipped"]) == \
            set(source.bad.values())


def check_evaluate(source: Source, run_id: int) -> None:
    """Exit 2 naming the problem, or every good face scored and every bad one counted
    under its reason."""
    code, out, _ = run_cli("evaluate", "--run-id", str(run_id), *source.args())
    if source.fails:
        assert code == 2 and source.fails in out["error"], out
        return
    assert code == 0, out
    assert out["n"] == len(source.good)
    assert out["skipped"] == dict(Counter(source.bad.values()))


def check_predict(source: Source, run_id: int) -> None:
    """Each image gets a label or an error naming why it cannot be read; exit 0 when any
    face was found, else 2."""
    if not source.images:
        return
    code, out, _ = run_cli("predict", "--run", str(run_id), *map(str, source.images))
    results = out["predictions"]
    assert len(results) == len(source.images)
    reasons = {str(p): source.bad.get(str(p)) for p in source.images}
    for path, result in zip(source.images, results):
        expected = reasons[str(path)]
        if expected == "too_large":
            assert "too_large" in result["error"], result
        elif expected == "unreadable":
            assert "Cannot read image" in result["error"], result
        elif expected == "too_small":  # a 1x1 photo: no face in it
            assert "error" in result, result
        else:
            assert "label" in result, result
    assert code == (0 if any("label" in r for r in results) else 2)


@pytest.mark.parametrize("case", CASES)
def test_bad_inputs_are_refused_or_skipped_with_a_reason(world, case):
    """Check that preprocess (command and job), evaluate and predict meet one source of
    the corpus with no traceback: exit 2 naming the problem, or each bad item skipped
    with its reason and every good file processed; no job or run is left queued or
    running."""
    source = world["sources"][case]
    app = AppContext()
    check_preprocess(source, app)
    check_preprocess_job(source, app)
    check_evaluate(source, world["run_id"])
    check_predict(source, world["run_id"])
    statuses = [j.status for j in jobs.list_jobs(app.db, limit=None)] + \
        [r.status for r in runs.list_runs(app.db, limit=None)]
    assert not {"queued", "running"} & set(statuses)


def test_the_corpus_holds_every_kind_of_bad_input(world):
    """Check that the corpus covers what the issue lists: truncated, zero-byte,
    text-as-JPEG, a pixel bomb, 1x1, a non-UTF-8 name, overflowing and negative ages,
    escaping paths, empty and junk .mat files, a Latin-1 CSV, and no usable image."""
    sources = world["sources"]
    names = {Path(item).name for item in sources["csv-mixed"].bad}
    assert {"truncated.jpg", "zero.jpg", "text.jpg", "bomb.png", "tiny.png"} <= names
    manifest = sources["csv-mixed"].path.read_text()
    assert "99999999999999999999999" in manifest and ",-4," in manifest
    assert "/etc/hostname" in manifest and "../outside.jpg" in manifest
    assert "undecodable_name" in sources["utkface-non-utf8-name"].bad.values()
    assert {s.meta.name for s in sources.values() if s.meta} == {"empty.mat", "junk.mat"}
    assert sources["latin1-csv"].path.read_bytes().count(b"\xe9") == 2

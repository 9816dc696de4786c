"""`agerec runs list|show`: the dashboard's run list from a shell."""
from __future__ import annotations

from tests.dashboard.seed import seed_home, seed_smoke_ensemble
from tests.worker.commands.test_cli import run_json
from worker.cli import main


def test_runs_list_json_has_every_field_the_dashboard_lists(agerec_home, capsys):
    """Check that runs list --json gives each run's id, name, kind, backbone, preset,
    dataset, status and test accuracy, newest first."""
    ids = seed_home(agerec_home, gallery=False, jobs=False)["runs"]
    code, out = run_json(capsys, "runs", "list")
    assert code == 0 and [r["id"] for r in out["runs"]] == ids[::-1]
    first = out["runs"][0]
    assert (first["kind"], first["backbone"], first["preset"], first["dataset"],
            first["status"]) == ("ensemble", "ensemble", "cpu", "utkface", "succeeded")
    assert 0 < first["accuracy"] < 1


def test_runs_list_hides_smoke_runs_unless_all_is_given(agerec_home, capsys):
    """Check that a smoke ensemble is listed only with --all."""
    seed_home(agerec_home, gallery=False, jobs=False)
    smoke = seed_smoke_ensemble(agerec_home)
    _, shown = run_json(capsys, "runs", "list")
    _, everything = run_json(capsys, "runs", "list", "--all")
    assert smoke not in [r["id"] for r in shown["runs"]]
    assert smoke in [r["id"] for r in everything["runs"]]


def test_runs_show_json_has_the_run_and_its_test_metrics(agerec_home, capsys):
    """Check that runs show ID --json gives the listed fields, members and test metrics."""
    ids = seed_home(agerec_home, gallery=False, jobs=False)["runs"]
    code, out = run_json(capsys, "runs", "show", str(ids[2]))
    assert code == 0 and out["id"] == ids[2] and out["members"] == ids[:2]
    assert out["metrics"]["accuracy"] == out["accuracy"] and out["n_test"] == out["metrics"]["n"]


def test_runs_show_of_a_missing_id_says_so(agerec_home, capsys):
    """Check that runs show 99 exits 2 naming the missing run."""
    code, out = run_json(capsys, "runs", "show", "99")
    assert code == 2 and "99" in out["error"]


def test_runs_list_text_has_one_line_per_run(agerec_home, capsys):
    """Check that the readable list prints one line per run, with its accuracy."""
    seed_home(agerec_home, gallery=False, jobs=False)
    assert main(["runs", "list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].split()[1] == "ensemble-meta" and lines[0].endswith("%")

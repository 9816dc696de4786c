"""The `agerec` command line as a user runs it: readable text, or exactly one JSON
object with --json, and clear errors for bad input."""
from __future__ import annotations

import json

import pytest

from tests.csv_source import make_csv_source
from worker.cli import main


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    """Run agerec with --json; the exit code and the one JSON object it printed."""
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    return code, json.loads(out)


def test_preprocess_json_has_the_documented_keys(agerec_home, tmp_path, capsys):
    """Check that preprocess --json prints dataset_id, splits, gender_by_class, skipped, params."""
    csv = make_csv_source(tmp_path / "src", n=40)
    code, out = run_json(capsys, "preprocess", "--source", "csv", "--path", str(csv),
                         "--detector", "none", "--image-size", "32")
    assert code == 0
    assert {"dataset_id", "splits", "gender_by_class", "skipped", "params"} <= set(out)
    assert set(out["splits"]) == {"train", "val", "test"}
    assert set(out["splits"]["train"]) == {"0", "1", "2", "3", "4"}
    assert all(g["M"] == g["F"] for g in out["gender_by_class"].values())


def test_unknown_source_is_one_json_error_naming_the_choices(agerec_home, capsys):
    """Check that a wrong --source gives exit 2 and a JSON error listing what is allowed."""
    with pytest.raises(SystemExit) as info:
        main(["preprocess", "--source", "flickr", "--path", "x", "--json"])
    assert info.value.code == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert "'flickr'" in error and "utkface" in error


def test_missing_path_is_a_clear_error(agerec_home, tmp_path, capsys):
    """Check that a path that does not exist is named in the error, with exit code 2."""
    code, out = run_json(capsys, "preprocess", "--source", "utkface", "--path",
                         str(tmp_path / "nowhere"), "--detector", "none")
    assert code == 2 and "nowhere" in out["error"]


def test_missing_dataset_is_a_domain_error(agerec_home, capsys):
    """Check that training on a dataset id that does not exist says so."""
    code, out = run_json(capsys, "train", "--dataset", "99", "--backbone", "vgg19")
    assert code == 2 and "dataset 99 does not exist" in out["error"]


def test_jobs_submit_rejects_a_bad_parameter_at_submit_time(agerec_home, capsys):
    """Check that jobs submit names the parameter, the value and what is allowed."""
    code, out = run_json(capsys, "jobs", "submit", "train", "--param", "dataset_id=1",
                         "--param", "backbone=vgg")
    assert code == 2
    assert "'backbone'" in out["error"] and "'vgg'" in out["error"] and "vgg19" in out["error"]


def test_jobs_show_json_has_the_documented_keys(agerec_home, capsys, monkeypatch):
    """Check that a submitted job shows id, kind, status, progress, error, parent_id, outputs."""
    monkeypatch.setattr("worker.job_control._dispatch", lambda app, job: None)
    _, job = run_json(capsys, "jobs", "submit", "preprocess", "--param", "source=utkface",
                      "--param", "path=/data/utk")
    code, shown = run_json(capsys, "jobs", "show", str(job["id"]))
    assert code == 0
    assert {"id", "kind", "status", "progress", "error", "parent_id", "outputs"} <= set(shown)
    assert (shown["kind"], shown["status"]) == ("preprocess", "queued")


def test_cancel_of_a_queued_job_is_immediate(agerec_home, capsys, monkeypatch):
    """Check that cancelling a job nobody started ends it as cancelled at once."""
    monkeypatch.setattr("worker.job_control._dispatch", lambda app, job: None)
    _, job = run_json(capsys, "jobs", "submit", "preprocess", "--param", "source=utkface",
                      "--param", "path=/data/utk")
    _, cancelled = run_json(capsys, "jobs", "cancel", str(job["id"]))
    assert cancelled["status"] == "cancelled"


@pytest.mark.parametrize("name,value", [("AGEREC_READ_ONLY", "enabled"),
                                        ("AGEREC_HEARTBEAT_TIMEOUT", "abc"),
                                        ("AGEREC_MAX_ATTEMPTS", "0")])
def test_a_bad_setting_stops_any_command_with_exit_2_naming_it(agerec_home, capsys, monkeypatch,
                                                              name, value):
    """Check that a bad AGEREC_* value stops a command at start with exit 2 and one JSON
    error naming the variable and its value."""
    monkeypatch.setenv(name, value)
    code = main(["jobs", "list", "--json"])
    error = json.loads(capsys.readouterr().out)["error"]
    assert code == 2 and f"{name}={value!r}" in error


def test_evaluate_path_without_source_exits_2_before_anything_runs(agerec_home, capsys):
    """Check that `agerec evaluate --path X` without --source exits 2 naming both, even
    for a run that does not exist (validation comes first)."""
    code, out = run_json(capsys, "evaluate", "--run-id", "7", "--path", "/data/fgnet")
    assert code == 2 and "'path'" in out["error"] and "'source'" in out["error"]


def test_metrics_text_gives_intervals_the_largest_gaps_and_calibration():
    """Check the readable evaluate output: the accuracy's interval, each attribute's
    largest gap with both groups' n, and the ECE before and after the temperature."""
    from worker.commands.foreground import _metrics_text

    out = {"run_id": 3, "accuracy": 0.7, "accuracy_ci95": [0.64, 0.76], "one_off_accuracy": 0.99,
           "macro_f1": 0.68, "n": 232, "per_class_accuracy": [0.8, None],
           "per_group": {"race": {"White": {"accuracy": 0.64, "n": 114},
                                  "Asian": {"accuracy": 0.94, "n": 34}}},
           "max_gap": {"race": {"gap": 0.301, "ci95": [0.178, 0.412], "worst": "White",
                                "best": "Asian"}},
           "ece": 0.074, "ece_calibrated": 0.07, "temperature": 1.04}
    text = _metrics_text(out)
    assert "accuracy 70.00% (95% CI 64.0 to 76.0)" in text
    assert ("largest race gap: 30.1 points (95% CI 17.8 to 41.2), White 64.0% (n=114) vs "
            "Asian 94.0% (n=34)") in text
    assert "calibration: ECE 0.074, 0.070 after the temperature 1.04" in text

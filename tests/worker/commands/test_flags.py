"""Command-line flags generated from JOB_PARAMS: one flag per parameter under its own
name, old spellings still accepted, new parameters picked up with no code."""
from __future__ import annotations

import json
import re

import pytest

from backend.params import Choice
from worker.cli import build_parser, main
from worker.commands.flags import flag, job_params
from worker.commands.foreground import COMMANDS
from worker.jobspecs import JOB_KINDS, JOB_PARAMS, Param, validate_params


def help_text(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit):
        build_parser().parse_args([*argv, "--help"])
    return capsys.readouterr().out


def parsed(*argv: str) -> dict:
    """The validated job parameters a command line asks for."""
    args = build_parser().parse_args(list(argv))
    return validate_params(args.job_kind, job_params(args, args.job_kind))


def test_a_flag_is_the_parameter_name_with_dashes():
    """Check that dataset_id is --dataset-id."""
    assert flag("dataset_id") == "--dataset-id"


@pytest.mark.parametrize("kind", sorted(COMMANDS))
def test_command_help_lists_every_parameter_of_its_job(kind, capsys):
    """Check that `agerec KIND --help` shows a flag for every parameter of the KIND job."""
    text = help_text(capsys, kind)
    assert [p.name for p in JOB_PARAMS[kind] if flag(p.name) not in text] == []


@pytest.mark.parametrize("kind", JOB_KINDS)
def test_jobs_submit_help_lists_every_parameter_of_the_kind(kind, capsys):
    """Check that `agerec jobs submit KIND --help` shows a flag for every parameter."""
    text = help_text(capsys, "jobs", "submit", kind)
    assert [p.name for p in JOB_PARAMS[kind] if flag(p.name) not in text] == []


@pytest.mark.parametrize("old, new", [
    (["train", "--dataset", "3", "--backbone", "vgg19"],
     ["train", "--dataset-id", "3", "--backbone", "vgg19"]),
    (["evaluate", "--run", "5"], ["evaluate", "--run-id", "5"]),
    (["gradcam", "--run", "1", "--run", "2"], ["gradcam", "--runs", "1", "2"]),
    (["jobs", "submit", "train", "--param", "dataset_id=3", "--param", "backbone=vgg19",
      "--param", "saliency=false"],
     ["jobs", "submit", "train", "--dataset-id", "3", "--backbone", "vgg19", "--no-saliency"]),
])
def test_old_spellings_ask_for_the_same_job(old, new):
    """Check that the flags of earlier releases give the same parameters as the new names."""
    assert parsed(*old) == parsed(*new)


@pytest.mark.parametrize("kind, old", [("train", "--dataset"), ("evaluate", "--run"),
                                       ("gradcam", "--run")])
def test_old_spellings_are_hidden_from_help(kind, old, capsys):
    """Check that an old flag still parses but is not advertised by --help."""
    assert not re.search(re.escape(old) + r"(?![-\w])", help_text(capsys, kind))


def test_switches_turn_off_with_no(capsys):
    """Check that --no-saliency and --greyscale-aug set the train job's booleans."""
    params = parsed("train", "--dataset-id", "1", "--backbone", "vgg19", "--no-saliency",
                    "--greyscale-aug")
    assert (params["saliency"], params["greyscale_aug"]) == (False, True)


def test_a_new_parameter_gets_its_flag_with_no_code(monkeypatch):
    """Check that a parameter added to JOB_PARAMS is a flag of its command at once."""
    added = Param("example_option", Choice(lambda: ("one", "two")), "one")
    monkeypatch.setitem(JOB_PARAMS, "evaluate", JOB_PARAMS["evaluate"] + (added,))
    assert parsed("evaluate", "--run-id", "4", "--example-option", "two")["example_option"] == \
        "two"


def test_preprocess_is_validated_like_a_job(agerec_home, tmp_path, capsys):
    """Check that `agerec preprocess` refuses a bad value with the job's own error, exit 2."""
    code = main(["preprocess", "--source", "csv", "--path", str(tmp_path), "--workers", "0",
                 "--json"])
    error = json.loads(capsys.readouterr().out)["error"]
    assert code == 2
    assert error == ("The 'workers' parameter of the 'preprocess' job must be an integer "
                     ">= 1. Got '0' instead.")

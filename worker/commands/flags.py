"""Command-line flags generated from the job parameter table: one flag per declared
parameter, named like it (`dataset_id` -> `--dataset-id`), so a parameter added to
worker/jobspecs.py appears on every command of its kind with no code here."""
from __future__ import annotations

import argparse
from typing import Any

from backend.params import Boolean, Choice, ListOf
from worker.jobspecs import JOB_PARAMS, Param, parse_assignments

# Spellings of earlier releases: still accepted, no longer shown by --help.
OLD_FLAGS = {
    ("train", "dataset_id"): "--dataset",
    ("evaluate", "run_id"): "--run",
    ("gradcam", "runs"): "--run",
}


def flag(name: str) -> str:
    """The flag of a parameter: its name with dashes."""
    return "--" + name.replace("_", "-")


def add_job_flags(parser: argparse.ArgumentParser, kind: str) -> None:
    """One flag per parameter of `kind`; every default is None, meaning 'not given', so
    validate_params fills in the declared default exactly as for a submitted job."""
    group = parser.add_argument_group(f"{kind} job parameters")
    for spec in JOB_PARAMS[kind]:
        group.add_argument(flag(spec.name), dest=spec.name, help=_help(spec), **_how(spec))
        old = OLD_FLAGS.get((kind, spec.name))
        if old:
            group.add_argument(old, dest=spec.name, help=argparse.SUPPRESS, **_how(spec))


def add_param_pairs(parser: argparse.ArgumentParser) -> None:
    """The generic `--param KEY=VALUE` of earlier releases, kept working but hidden."""
    parser.add_argument("--param", action="append", default=[], help=argparse.SUPPRESS)


def job_params(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """The parameters given on the command line (flags win over --param pairs)."""
    given = parse_assignments(getattr(args, "param", []))
    given.update({spec.name: getattr(args, spec.name) for spec in JOB_PARAMS[kind]
                  if getattr(args, spec.name) is not None})
    return given


def _how(spec: Param) -> dict[str, Any]:
    """argparse's action, nargs and choices for one declared constraint."""
    constraint = spec.constraint
    if isinstance(constraint, Boolean):
        return {"action": argparse.BooleanOptionalAction, "default": None}
    if isinstance(constraint, ListOf):
        # Repeating the flag adds to the list, as the old `--run ID --run ID` did.
        return {"nargs": "+", "action": "extend", "metavar": spec.name.upper()}
    if isinstance(constraint, Choice):
        return {"choices": constraint.options()}
    return {}


def _help(spec: Param) -> str:
    text = spec.help.replace("%", "%%")  # argparse %-formats help text
    if isinstance(spec.constraint, ListOf) and isinstance(spec.constraint.item, Choice):
        text += "; any of " + ", ".join(spec.constraint.item.options())
    if spec.required:
        return text + " (required)"
    if spec.default is not None and not isinstance(spec.constraint, Boolean):
        return text + f" (default: {spec.default})"
    if isinstance(spec.constraint, Boolean) and spec.default is not None:
        return text + f" (default: {'on' if spec.default else 'off'})"
    return text

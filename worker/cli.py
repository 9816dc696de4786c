"""The `agerec` command line: one console script whose subcommands are the contract."""
from __future__ import annotations

import argparse
import sys

from storage.errors import StorageError
from storage.settings import Settings
from worker.commands import COMMANDS
from worker.console import Console, configure_logging
from worker.native_stderr import filter_native_stderr


class _Parser(argparse.ArgumentParser):
    """argparse that answers usage errors with one JSON object when --json was given."""

    json_requested = False  # set by main() from the raw arguments, before parsing

    def error(self, message: str):
        if _Parser.json_requested:
            Console(True).error(ValueError(f"{self.prog}: {message}"))
            raise SystemExit(2)
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    """The full parser; each subcommand module registers itself."""
    parser = _Parser(prog="agerec", description="Facial age-group recognition.")
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in COMMANDS:
        module.register(sub)
    _add_verbose(parser)
    return parser


VERBOSE_HELP = "log every step on stderr, TensorFlow's start-up lines included"


def _add_verbose(parser: argparse.ArgumentParser) -> None:
    """--verbose on every subcommand too, so it may follow the subcommand's name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                # SUPPRESS: a subcommand that was not given --verbose keeps the top's value.
                child.add_argument("-v", "--verbose", action="store_true",
                                   default=argparse.SUPPRESS, help=VERBOSE_HELP)
                _add_verbose(child)


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; domain errors become a clear message and exit code 2."""
    argv_given, argv = argv, sys.argv[1:] if argv is None else argv
    _Parser.json_requested = "--json" in argv
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)  # before any stage imports TensorFlow
    if argv_given is None and not args.verbose:
        filter_native_stderr()  # the process's own command line: TensorFlow's C++ lines off
    console = Console(getattr(args, "json", False))
    try:
        Settings.from_env()  # a bad AGEREC_* value stops every command before it starts
        return int(args.handler(args, console) or 0)
    except KeyboardInterrupt:
        console.error(KeyboardInterrupt("interrupted"))
        return 130
    except (ValueError, LookupError, OSError, RuntimeError, StorageError) as exc:
        console.error(exc)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""One module per `agerec` subcommand; each has `register(subparsers)`."""
from worker.commands import datasets, jobs, preprocess, serve

COMMANDS = (preprocess, datasets, jobs, serve)

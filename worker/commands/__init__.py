"""One module per `agerec` subcommand group; each has `register(subparsers)`."""
from worker.commands import datasets, jobs, predict, preprocess, serve, stages

COMMANDS = (preprocess, stages, predict, datasets, jobs, serve)

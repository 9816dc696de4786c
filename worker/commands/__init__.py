"""One module per `agerec` subcommand group; each has `register(subparsers)`."""
from worker.commands import datasets, jobs, predict, serve, stages

COMMANDS = (stages, predict, datasets, jobs, serve)

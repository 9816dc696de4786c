"""One module per `agerec` subcommand group; each has `register(subparsers)`."""
from worker.commands import datasets, foreground, jobs, predict, runs, worker_dashboard

COMMANDS = (foreground, predict, datasets, runs, jobs, worker_dashboard)

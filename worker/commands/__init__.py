"""One module per `agerec` subcommand group; each has `register(subparsers)`."""
from worker.commands import datasets, foreground, jobs, predict, worker_dashboard

COMMANDS = (foreground, predict, datasets, jobs, worker_dashboard)

"""One module per `agerec` subcommand group; each has `register(subparsers)`."""
from worker.commands import compare, datasets, foreground, jobs, predict, runs, worker_dashboard

COMMANDS = (foreground, predict, compare, datasets, runs, jobs, worker_dashboard)

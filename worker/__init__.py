"""Glue: Celery tasks, the local runner and the `agerec` command line call the
backend and record what it made through storage."""

"""What each job kind does: backend calls in, storage records out. The command
line runs these directly; Celery and the local runner run them as jobs."""

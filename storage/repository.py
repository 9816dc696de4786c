"""Artifacts, and one import point for every storage function (`from storage import repository`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from storage.datasets import (create_dataset, get_dataset, get_or_create_source, get_source,
                              list_datasets)
from storage.db import Database, get_row, open_database
from storage.errors import DatasetNotFound, JobNotFound, RunNotFound
from storage.jobs import (append_log, children, count_jobs, create_job, find_stale_running,
                          finish_job, get_job, heartbeat, list_jobs, mark_lost, mark_running,
                          request_cancel, reset_for_retry, set_outputs, update_progress)
from storage.records import Artifact
from storage.runs import (count_runs, create_run, get_metrics, get_run, list_runs,
                          record_metrics, set_run_status)
from storage.tables import ArtifactRow, DatasetRow, JobRow, RunRow

__all__ = [
    "Database", "open_database", "add_artifact", "list_artifacts",
    "get_or_create_source", "get_source", "create_dataset", "get_dataset", "list_datasets",
    "create_job", "get_job", "list_jobs", "count_jobs", "children", "mark_running",
    "update_progress", "heartbeat", "append_log", "finish_job", "set_outputs",
    "request_cancel", "reset_for_retry", "find_stale_running", "mark_lost",
    "create_run", "get_run", "list_runs", "count_runs", "set_run_status", "record_metrics",
    "get_metrics",
]


def add_artifact(db: Database, kind: str, path: str | Path, *, run_id: int | None = None,
                 dataset_id: int | None = None, job_id: int | None = None,
                 meta: dict[str, Any] | None = None) -> Artifact:
    """Record a file under home; the path is stored relative to it (ArtifactPathError if not)."""
    stored = db.stored_path(path)
    with db.transaction() as session:
        for owner_id, row_type, missing in ((run_id, RunRow, RunNotFound),
                                            (dataset_id, DatasetRow, DatasetNotFound),
                                            (job_id, JobRow, JobNotFound)):
            if owner_id is not None:
                get_row(session, row_type, owner_id, missing)
        row = ArtifactRow(kind=kind, path=stored, run_id=run_id, dataset_id=dataset_id,
                          job_id=job_id, meta=dict(meta or {}))
        session.add(row)
        session.flush()
        return Artifact.from_row(row)


def list_artifacts(db: Database, run_id: int | None = None, job_id: int | None = None,
                   dataset_id: int | None = None, kind: str | None = None) -> list[Artifact]:
    """Artifacts matching every given filter, oldest first."""
    query = select(ArtifactRow).order_by(ArtifactRow.id)
    for column, value in ((ArtifactRow.run_id, run_id), (ArtifactRow.job_id, job_id),
                          (ArtifactRow.dataset_id, dataset_id), (ArtifactRow.kind, kind)):
        if value is not None:
            query = query.where(column == value)
    with db.transaction(write=False) as session:
        return [Artifact.from_row(row) for row in session.scalars(query)]

"""Artifacts: the files a run, a dataset or a job wrote under AGEREC_HOME, recorded."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from storage.db import Database, get_row
from storage.errors import DatasetNotFound, JobNotFound, RunNotFound
from storage.records import Artifact
from storage.tables import ArtifactRow, DatasetRow, JobRow, RunRow


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


def find_predictions(db: Database, run_id: int, scope: str = "test") -> Artifact | None:
    """The newest per-face predictions table a run recorded for a metrics scope ('test',
    'test+prior:source', 'external:csv'...), or None."""
    found = [a for a in list_artifacts(db, run_id=run_id, kind="predictions")
             if (a.meta.get("scope") or a.meta.get("split")) == scope]
    return found[-1] if found else None

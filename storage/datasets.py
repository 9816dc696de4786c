"""Dataset sources and prepared datasets."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage.db import Database, get_row
from storage.errors import DatasetNotFound, JobNotFound, SourceNotFound
from storage.records import Dataset, Source
from storage.tables import DatasetRow, JobRow, SourceRow


def get_or_create_source(db: Database, kind: str, path: str | Path,
                         meta_path: str | Path | None = None) -> Source:
    """The source for (kind, absolute path, absolute meta_path), created on first use."""
    # The reader kinds are backend's to declare (and validate); storage keeps any name
    # that fits its column.
    if not isinstance(kind, str) or not 0 < len(kind) <= SourceRow.kind.type.length:
        raise ValueError("source kind must be a non-empty name of at most "
                         f"{SourceRow.kind.type.length} characters; got {kind!r}")
    key = dict(kind=kind, path=_absolute(path), meta_path=_absolute(meta_path) if meta_path else "")
    with db.transaction() as session:
        row = session.scalars(select(SourceRow).filter_by(**key)).one_or_none()
        if row is None:
            try:
                with session.begin_nested():
                    row = SourceRow(**key)
                    session.add(row)
            except IntegrityError:  # another process created it first
                row = session.scalars(select(SourceRow).filter_by(**key)).one()
        return Source.from_row(row)


def get_source(db: Database, source_id: int) -> Source:
    """The source with this id; SourceNotFound otherwise."""
    with db.transaction(write=False) as session:
        return Source.from_row(get_row(session, SourceRow, source_id, SourceNotFound))


def create_dataset(db: Database, source_id: int, *, params: dict[str, Any],
                   summary: dict[str, Any], class_scheme: dict[str, Any], n_images: int,
                   dir: str | Path | None = None, job_id: int | None = None) -> Dataset:
    """Record a prepared dataset; `dir` defaults to datasets/<id> under home."""
    stored_dir = db.stored_path(dir) if dir is not None else None
    with db.transaction() as session:
        get_row(session, SourceRow, source_id, SourceNotFound)
        if job_id is not None:
            get_row(session, JobRow, job_id, JobNotFound)
        row = DatasetRow(source_id=source_id, params=dict(params), summary=dict(summary),
                         class_scheme=dict(class_scheme), n_images=int(n_images),
                         job_id=job_id, dir=stored_dir or "")
        session.add(row)
        session.flush()
        if stored_dir is None:
            row.dir = f"datasets/{row.id}"
        return Dataset.from_row(row)


def get_dataset(db: Database, dataset_id: int) -> Dataset:
    """The prepared dataset with this id; DatasetNotFound otherwise."""
    with db.transaction(write=False) as session:
        return Dataset.from_row(get_row(session, DatasetRow, dataset_id, DatasetNotFound))


def list_datasets(db: Database, *, source_id: int | None = None, limit: int | None = None,
                  offset: int = 0) -> list[Dataset]:
    """Prepared datasets, newest first."""
    query = select(DatasetRow).order_by(DatasetRow.id.desc()).offset(offset).limit(limit)
    if source_id is not None:
        query = query.where(DatasetRow.source_id == source_id)
    with db.transaction(write=False) as session:
        return [Dataset.from_row(row) for row in session.scalars(query)]


def _absolute(path: str | Path) -> str:
    """An absolute, normalised path string (links are not followed)."""
    return os.path.abspath(os.path.expanduser(os.fspath(path)))

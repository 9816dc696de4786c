"""Frozen records returned by storage functions: plain values, never live ORM rows."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.tables import (FINISHED_STATUSES, ArtifactRow, DatasetRow, JobRow, RunRow,
                            SourceRow)


@dataclass(frozen=True)
class Source:
    """A raw dataset location."""

    id: int
    kind: str
    path: str
    meta_path: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: SourceRow) -> "Source":
        """Copy a source row."""
        return cls(id=row.id, kind=row.kind, path=row.path, meta_path=row.meta_path or None,
                   created_at=row.created_at)


@dataclass(frozen=True)
class Dataset:
    """A prepared dataset; `dir` is relative to AGEREC_HOME."""

    id: int
    source: Source
    params: dict[str, Any]
    dir: str
    summary: dict[str, Any]
    class_scheme: dict[str, Any]
    n_images: int
    job_id: int | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: DatasetRow) -> "Dataset":
        """Copy a dataset row and its source."""
        return cls(id=row.id, source=Source.from_row(row.source), params=_copy(row.params),
                   dir=row.dir, summary=_copy(row.summary),
                   class_scheme=_copy(row.class_scheme), n_images=row.n_images,
                   job_id=row.job_id, created_at=row.created_at)


@dataclass(frozen=True)
class Job:
    """A background job as last recorded."""

    id: int
    kind: str
    params: dict[str, Any]
    status: str
    progress: dict[str, Any]
    heartbeat_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    traceback: str | None
    outputs: dict[str, Any]
    log_tail: str
    parent_id: int | None
    task_id: str | None
    worker: str | None
    cancel_requested: bool
    attempts: int  # how many times it started, a broker's redelivery included
    attempts_before_retry: int  # attempts made before it was last retried

    @property
    def finished(self) -> bool:
        """Whether the job reached succeeded, failed or cancelled."""
        return self.status in FINISHED_STATUSES

    @classmethod
    def from_row(cls, row: JobRow) -> "Job":
        """Copy a job row."""
        return cls(id=row.id, kind=row.kind, params=_copy(row.params), status=row.status,
                   progress=_copy(row.progress), heartbeat_at=row.heartbeat_at,
                   created_at=row.created_at, started_at=row.started_at,
                   finished_at=row.finished_at, error=row.error, traceback=row.traceback,
                   outputs=_copy(row.outputs), log_tail=row.log_tail or "",
                   parent_id=row.parent_id, task_id=row.task_id, worker=row.worker,
                   cancel_requested=bool(row.cancel_requested), attempts=row.attempts,
                   attempts_before_retry=row.attempts_before_retry)


@dataclass(frozen=True)
class Run:
    """A training run or an ensemble; `dir` is relative to AGEREC_HOME."""

    id: int
    dataset_id: int
    job_id: int | None
    kind: str
    name: str
    config: dict[str, Any]
    dir: str
    status: str
    members: tuple[int, ...]
    created_at: datetime

    @classmethod
    def from_row(cls, row: RunRow) -> "Run":
        """Copy a run row."""
        return cls(id=row.id, dataset_id=row.dataset_id, job_id=row.job_id, kind=row.kind,
                   name=row.name, config=_copy(row.config), dir=row.dir, status=row.status,
                   members=tuple(row.members or ()), created_at=row.created_at)


@dataclass(frozen=True)
class Artifact:
    """A file under AGEREC_HOME; `path` is relative to it."""

    id: int
    kind: str
    path: str
    run_id: int | None
    dataset_id: int | None
    job_id: int | None
    meta: dict[str, Any]
    created_at: datetime

    @classmethod
    def from_row(cls, row: ArtifactRow) -> "Artifact":
        """Copy an artifact row."""
        return cls(id=row.id, kind=row.kind, path=row.path, run_id=row.run_id,
                   dataset_id=row.dataset_id, job_id=row.job_id, meta=_copy(row.meta),
                   created_at=row.created_at)


def _copy(value: Any) -> Any:
    """A deep copy of a JSON value, so records never share state with a session."""
    return copy.deepcopy(value) if value is not None else {}

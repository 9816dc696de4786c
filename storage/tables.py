"""SQLAlchemy tables: sources, prepared datasets, jobs, runs, metrics and artifacts."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy import TypeDecorator, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
FINISHED_STATUSES = ("succeeded", "failed", "cancelled")
RUN_KINDS = ("train", "ensemble")
RUN_STATUSES = JOB_STATUSES


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        """Convert to UTC (naive values are taken as UTC); SQLite gets it naive."""
        if value is None:
            return None
        value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        """Attach UTC to what the database returns."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base whose metadata the migrations describe."""

    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class SourceRow(Base):
    """A raw dataset on disk: a reader kind plus its folder and optional metadata file."""

    __tablename__ = "dataset_sources"
    __table_args__ = (UniqueConstraint("kind", "path", "meta_path", name="uq_source_location"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(1024))
    meta_path: Mapped[str] = mapped_column(String(1024), default="")  # "" stands for none
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DatasetRow(Base):
    """A prepared dataset written under AGEREC_HOME."""

    __tablename__ = "dataset_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("dataset_sources.id"), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dir: Mapped[str] = mapped_column(String(1024), default="")
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    class_scheme: Mapped[dict[str, Any]] = mapped_column(default=dict)
    n_images: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    source: Mapped[SourceRow] = relationship(lazy="joined")


class JobRow(Base):
    """A unit of background work and everything the dashboard shows about it."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)
    heartbeat_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    log_tail: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(255))
    worker: Mapped[str | None] = mapped_column(String(255))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # starts, redeliveries included
    # attempts made before the last retry: a retried job gets max_attempts starts afresh
    attempts_before_retry: Mapped[int] = mapped_column(Integer, default=0)


class RunRow(Base):
    """One trained model or one ensemble of trained models."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dir: Mapped[str] = mapped_column(String(1024), default="")
    status: Mapped[str] = mapped_column(String(16), default="running")
    members: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MetricRow(Base):
    """One named number (value) or list/matrix (value_json) of a run, in a scope."""

    __tablename__ = "metrics"
    __table_args__ = (UniqueConstraint("run_id", "scope", "name", name="uq_metric_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128))
    value: Mapped[float | None] = mapped_column(Float)
    value_json: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))


class ArtifactRow(Base):
    """A file under AGEREC_HOME that belongs to a run, a dataset or a job."""

    __tablename__ = "artifacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(1024))
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

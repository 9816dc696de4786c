"""Initial schema: sources, datasets, jobs, runs, metrics, artifacts.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    """A timezone-aware timestamp column."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create every table."""
    op.create_table(
        "dataset_sources",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("meta_path", sa.String(1024), nullable=False),
        _ts("created_at", nullable=False),
        sa.UniqueConstraint("kind", "path", "meta_path", name="uq_source_location"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=False),
        _ts("heartbeat_at"),
        _ts("created_at", nullable=False),
        _ts("started_at"),
        _ts("finished_at"),
        sa.Column("error", sa.Text()),
        sa.Column("traceback", sa.Text()),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("log_tail", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("jobs.id", ondelete="SET NULL")),
        sa.Column("task_id", sa.String(255)),
        sa.Column("worker", sa.String(255)),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
    )
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_index("ix_jobs_parent_id", "jobs", ["parent_id"])
    op.create_table(
        "dataset_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("dataset_sources.id"),
                  nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("dir", sa.String(1024), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("class_scheme", sa.JSON(), nullable=False),
        sa.Column("n_images", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("jobs.id", ondelete="SET NULL")),
        _ts("created_at", nullable=False),
    )
    op.create_index("ix_dataset_versions_source_id", "dataset_versions", ["source_id"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("dataset_versions.id"),
                  nullable=False),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("jobs.id", ondelete="SET NULL")),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("dir", sa.String(1024), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        _ts("created_at", nullable=False),
    )
    op.create_index("ix_runs_dataset_id", "runs", ["dataset_id"])
    op.create_table(
        "metrics",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("scope", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("value", sa.Float()),
        sa.Column("value_json", sa.JSON()),
        sa.UniqueConstraint("run_id", "scope", "name", name="uq_metric_key"),
    )
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE")),
        sa.Column("dataset_id", sa.Integer(),
                  sa.ForeignKey("dataset_versions.id", ondelete="CASCADE")),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("jobs.id", ondelete="CASCADE")),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        _ts("created_at", nullable=False),
    )
    op.create_index("ix_artifacts_run_id", "artifacts", ["run_id"])
    op.create_index("ix_artifacts_dataset_id", "artifacts", ["dataset_id"])
    op.create_index("ix_artifacts_job_id", "artifacts", ["job_id"])


def downgrade() -> None:
    """Drop every table."""
    for table in ("artifacts", "metrics", "runs", "dataset_versions", "jobs",
                  "dataset_sources"):
        op.drop_table(table)

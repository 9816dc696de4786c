"""Attempts count starts: a job records the attempts made before its last retry.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add jobs.attempts_before_retry (0 for every existing job)."""
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("attempts_before_retry", sa.Integer(), nullable=False,
                                   server_default=sa.text("0")))


def downgrade() -> None:
    """Drop jobs.attempts_before_retry."""
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("attempts_before_retry")

"""Data versions (issue #15, docs/audit.md "Issue linking"): ``period_changes``, per
(region, period) the number of batches that changed its cases and a random token renewed
on each, which documents state as ``data_version``. A store written before it starts
empty: a period no batch changed since states no version until one does.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "period_changes",
        sa.Column("region", sa.String(8), primary_key=True),
        sa.Column("period", sa.String(16), primary_key=True),
        sa.Column("changes", sa.Integer, nullable=False),
        sa.Column("token", sa.String(32), nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("period_changes")

"""Issued data versions (#15, docs/audit.md "Cells of unchanged tables"):
``issued_versions``, per (region, period) the ``data_version`` its digest stated when an
issue last recorded it. A re-issue compares it with the store's token now: a period whose
data is unchanged is linked by every reader of both issues, so the cells the earlier issue
published in it are public and never hidden again. A store written before starts empty:
each period is taken as changed until an issue records it (the cautious side: it may be
hidden again, as before this revision).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issued_versions",
        sa.Column("region", sa.String(8), primary_key=True),
        sa.Column("period", sa.String(16), primary_key=True),
        sa.Column("token", sa.String(32), nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("issued_versions")

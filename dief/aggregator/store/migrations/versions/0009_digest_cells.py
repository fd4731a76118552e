"""Digest cells: the cells a region's published digests listed, with the count last
published or NULL once suppressed, so that every later issue keeps a suppressed cell
suppressed and knows which published counts are public (two issues compared give nothing
away).

Revision ID: 0009
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_cells",
        sa.Column("region", sa.String(8), primary_key=True),
        sa.Column("period", sa.String(16), primary_key=True),
        sa.Column("dimension", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(64), primary_key=True),
        sa.Column("count", sa.Integer, nullable=True),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("digest_cells")

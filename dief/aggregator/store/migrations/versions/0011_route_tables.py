"""Route tables (DESIGN §5 ⚑ ``related_regions``), both sides.

- ``route_tables``: the tables received from other regions, the latest per (receiving
  region, sending region, CSP cycle), as given — the verified table's canonical JSON and
  when it was issued; never a case, contributor or owner key.
- ``route_table_cells``: what the sending region's issues of each table listed, per
  (sending region, receiving region, cycle, dimension, value): the count last published,
  NULL once suppressed (then for good), so every later issue keeps the pattern and two
  issues compared give nothing away (as ``digest_cells`` for digests).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "route_tables",
        sa.Column("region", sa.String(8), primary_key=True),
        sa.Column("from_region", sa.String(8), primary_key=True),
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "route_table_cells",
        sa.Column("region", sa.String(8), primary_key=True),
        sa.Column("to_region", sa.String(8), primary_key=True),
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("dimension", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(64), primary_key=True),
        sa.Column("count", sa.Integer, nullable=True),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("route_table_cells")
    op.drop_table("route_tables")

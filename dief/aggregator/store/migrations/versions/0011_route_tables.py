"""Route tables received from other regions (DESIGN §5 ⚑ ``related_regions``): the latest
table per (receiving region, sending region, CSP cycle), as given — the verified table's
canonical JSON and when it was issued; never a case, contributor or owner key.

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


def downgrade() -> None:
    op.drop_table("route_tables")

"""Initial aggregator schema: cases, values, incremental cell counts, dedupe, DLQ counts.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applied_records",
        sa.Column("record_id", sa.String(36), primary_key=True),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("region", sa.String(8), primary_key=True),
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("owner_tag", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("contributor", sa.String(64), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("cycle", sa.String(8), nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "case_values",
        sa.Column("region", sa.String(8), primary_key=True),
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("dimension", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(64), primary_key=True),
    )
    op.create_table(
        "cell_counts",
        sa.Column("region", sa.String(8), primary_key=True),
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("dimension", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(64), primary_key=True),
        sa.Column("cycle", sa.String(8), primary_key=True),
        sa.Column("contributor", sa.String(64), primary_key=True),
        sa.Column("red", sa.Boolean, primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
    )
    op.create_index("ix_cell_counts_region_period", "cell_counts", ["region", "period"])
    op.create_table(
        "related_notices",
        sa.Column("region", sa.String(8), primary_key=True),
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("primary_region", sa.String(8), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "dead_letters",
        sa.Column("region", sa.String(8), primary_key=True),
        sa.Column("reason", sa.String(48), primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "dead_letters",
        "related_notices",
        "cell_counts",
        "case_values",
        "cases",
        "applied_records",
    ):
        op.drop_table(table)

"""Drop ix_cell_counts_region_period: the primary key already starts with (region, period),
so the index only cost every cell upsert an extra write (measured in bench/).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_cell_counts_region_period", table_name="cell_counts")


def downgrade() -> None:
    op.create_index("ix_cell_counts_region_period", "cell_counts", ["region", "period"])

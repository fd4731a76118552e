"""Released bulletins (DESIGN §13 ⚑, issue #18): ``released_bulletins``, every bulletin a
served region let out, so the release rule's audit counts them after a restart and a
revised or withdrawn case's bulletin is still retracted (see
``dief/aggregator/store/_released.py``). Never a lesson: free text stays sealed.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "released_bulletins",
        sa.Column("bulletin_id", sa.String(32), primary_key=True),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("cycle", sa.String(8), nullable=False),
        sa.Column("facts", sa.Text, nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_released_bulletins_region", "released_bulletins", ["region"])


def downgrade() -> None:
    op.drop_index("ix_released_bulletins_region", table_name="released_bulletins")
    op.drop_table("released_bulletins")

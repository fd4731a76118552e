"""Case records v2 (DESIGN §5 ⚑): a case's owner is its Ed25519 public key
(``cases.owner_tag`` becomes ``cases.owner_key``; the case id derives from it); a case goes
to its own region only, so related-region notices go (``related_notices`` is dropped) and
the regions on its route stay in its row (``cases.related_regions``, a JSON array, read by
route tables); stored times are coarsened to the hour (``applied_at``, ``updated_at``).

There are no deployments of schema 1: an owner tag kept in ``owner_key`` verifies nothing,
so a database from before holds cases no v2 record can revise. Start it afresh.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: Times to the hour, per dialect (SQLite keeps SQLAlchemy's ``YYYY-MM-DD HH:MM:SS.ffffff``).
_HOUR = {
    "sqlite": "substr({0}, 1, 13) || ':00:00.000000'",
    "postgresql": "date_trunc('hour', {0})",
}
_TIMES = (
    ("applied_records", "applied_at"),
    ("cases", "updated_at"),
    ("digest_versions", "updated_at"),
)


def upgrade() -> None:
    hour = _HOUR[op.get_bind().dialect.name]
    with op.batch_alter_table("cases") as batch:
        batch.alter_column(
            "owner_tag",
            new_column_name="owner_key",
            existing_type=sa.String(64),
            existing_nullable=False,
        )
        batch.add_column(sa.Column("related_regions", sa.Text, nullable=False, server_default="[]"))
    op.drop_table("related_notices")
    for table, column in _TIMES:
        op.execute(f"UPDATE {table} SET {column} = {hour.format(column)}")  # noqa: S608


def downgrade() -> None:
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
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("related_regions")
        batch.alter_column(
            "owner_key",
            new_column_name="owner_tag",
            existing_type=sa.String(64),
            existing_nullable=False,
        )

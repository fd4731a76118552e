"""A case's (dimension, value) pairs move into its ``cases`` row (``dimension_values``, a
JSON array of pairs): a revision rewrites one row instead of deleting and inserting a
``case_values`` row per pair. The existing pairs are copied over, then ``case_values`` goes.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# JSON arrays of [dimension, value], built in the database (both have JSON functions).
_COPY = {
    "sqlite": """
        UPDATE cases SET dimension_values = COALESCE((
            SELECT json_group_array(json_array(v.dimension, v.value))
            FROM case_values AS v
            WHERE v.region = cases.region AND v.case_id = cases.case_id
        ), '[]')
        """,
    "postgresql": """
        UPDATE cases SET dimension_values = COALESCE((
            SELECT CAST(json_agg(json_build_array(v.dimension, v.value)) AS TEXT)
            FROM case_values AS v
            WHERE v.region = cases.region AND v.case_id = cases.case_id
        ), '[]')
        """,
}

_BACK = {
    "sqlite": """
        INSERT INTO case_values (region, case_id, dimension, value)
        SELECT c.region, c.case_id, json_extract(p.value, '$[0]'), json_extract(p.value, '$[1]')
        FROM cases AS c, json_each(c.dimension_values) AS p
        """,
    "postgresql": """
        INSERT INTO case_values (region, case_id, dimension, value)
        SELECT c.region, c.case_id, p.value ->> 0, p.value ->> 1
        FROM cases AS c, json_array_elements(CAST(c.dimension_values AS JSON)) AS p
        """,
}


def upgrade() -> None:
    op.add_column(
        "cases", sa.Column("dimension_values", sa.Text, nullable=False, server_default="[]")
    )
    op.execute(_COPY[op.get_bind().dialect.name])
    op.drop_table("case_values")


def downgrade() -> None:
    op.create_table(
        "case_values",
        sa.Column("region", sa.String(8), primary_key=True),
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("dimension", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(64), primary_key=True),
    )
    op.execute(_BACK[op.get_bind().dialect.name])
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("dimension_values")

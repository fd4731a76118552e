"""Cell totals: one row per cell, so a digest reads O(cells) rows (DESIGN §7).

``cell_counts`` loses ``red`` from its key and keeps two counts per contributor instead (all
cases, and not TLP:RED), because distinct contributors over red and not-red rows do not add
up. ``cell_totals`` holds per cell the cases and distinct contributors of both scopes. The
existing rows are regrouped (rows at zero are dropped), and the totals computed from them.
Both are WITHOUT ROWID tables on SQLite.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _cell_key() -> list[sa.Column[str]]:
    return [
        sa.Column("region", sa.String(8), primary_key=True),
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("dimension", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(64), primary_key=True),
        sa.Column("cycle", sa.String(8), primary_key=True),
    ]


def _set_aside_old_counts() -> None:
    op.rename_table("cell_counts", "cell_counts_0003")
    if op.get_bind().dialect.name == "postgresql":
        # The primary key's index keeps its name; free it for the new table.
        op.execute("ALTER INDEX cell_counts_pkey RENAME TO cell_counts_0003_pkey")


def upgrade() -> None:
    _set_aside_old_counts()
    op.create_table(
        "cell_counts",
        *_cell_key(),
        sa.Column("contributor", sa.String(64), primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("n_nonred", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "cell_totals",
        *_cell_key(),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("contributors", sa.Integer, nullable=False),
        sa.Column("n_nonred", sa.Integer, nullable=False),
        sa.Column("contributors_nonred", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    op.execute(
        """
        INSERT INTO cell_counts (region, period, dimension, value, cycle, contributor, n, n_nonred)
        SELECT region, period, dimension, value, cycle, contributor,
            SUM(n), SUM(CASE WHEN red THEN 0 ELSE n END)
        FROM cell_counts_0003
        GROUP BY region, period, dimension, value, cycle, contributor
        HAVING SUM(n) > 0
        """
    )
    op.execute(
        """
        INSERT INTO cell_totals
            (region, period, dimension, value, cycle,
             n, contributors, n_nonred, contributors_nonred)
        SELECT region, period, dimension, value, cycle,
            SUM(n), SUM(CASE WHEN n > 0 THEN 1 ELSE 0 END),
            SUM(n_nonred), SUM(CASE WHEN n_nonred > 0 THEN 1 ELSE 0 END)
        FROM cell_counts
        GROUP BY region, period, dimension, value, cycle
        """
    )
    op.drop_table("cell_counts_0003")


def downgrade() -> None:
    op.rename_table("cell_counts", "cell_counts_0004")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX cell_counts_pkey RENAME TO cell_counts_0004_pkey")
    op.create_table(
        "cell_counts",
        *_cell_key(),
        sa.Column("contributor", sa.String(64), primary_key=True),
        sa.Column("red", sa.Boolean, primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
    )
    for red, n in (("false", "n_nonred"), ("true", "n - n_nonred")):
        op.execute(
            f"""
            INSERT INTO cell_counts (region, period, dimension, value, cycle, contributor, red, n)
            SELECT region, period, dimension, value, cycle, contributor, {red}, {n}
            FROM cell_counts_0004 WHERE {n} > 0
            """  # noqa: S608 - two fixed variants
        )
    op.drop_table("cell_counts_0004")
    op.drop_table("cell_totals")

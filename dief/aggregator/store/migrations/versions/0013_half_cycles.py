"""Half-cycles (``CSP12-H1``, ``CSP12-H2``): a case counts in its half too.

``cases.half`` keeps each case's half-cycle, by the aggregator's cycle start month (a
month and a cycle alone do not tell it). A store written before halves gets them here:

1. each case's half, where its month and cycle match the default September start
   (``CSPn`` = September 2013+n … August 2014+n; there are no deployments with another
   start yet, DESIGN §0 — a case that does not match keeps an empty half and counts in no
   half until its next revision);
2. the half cells: a half's row per (cell, cycle, contributor) is the sum of its months'
   rows (a half lies in one cycle, so each row keeps its cycle), and its totals are
   computed from those rows as :meth:`CaseStore.rebuild_cells` does.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# The SQL is spelled out; both databases have substr, CAST and ||.
_MONTH = "CAST(substr(month, 6, 2) AS INTEGER)"
_YEAR = "CAST(substr(month, 1, 4) AS INTEGER)"
_NUMBER = "CAST(substr(cycle, 4) AS INTEGER)"
_CASE_HALVES = f"""
    UPDATE cases
    SET half = cycle || CASE WHEN {_MONTH} IN (9, 10, 11, 12, 1, 2) THEN '-H1' ELSE '-H2' END
    WHERE {_NUMBER} = {_YEAR} - 2013 - CASE WHEN {_MONTH} < 9 THEN 1 ELSE 0 END
    """  # noqa: S608 - constant SQL, no input
_HALF_COUNTS = """
    INSERT INTO cell_counts (region, period, dimension, value, cycle, contributor, n, n_nonred)
    SELECT cc.region, h.half, cc.dimension, cc.value, cc.cycle, cc.contributor,
        SUM(cc.n), SUM(cc.n_nonred)
    FROM cell_counts AS cc
    JOIN (SELECT DISTINCT region, month, cycle, half FROM cases WHERE half <> '') AS h
        ON h.region = cc.region AND h.month = cc.period AND h.cycle = cc.cycle
    GROUP BY cc.region, h.half, cc.dimension, cc.value, cc.cycle, cc.contributor
    HAVING SUM(cc.n) > 0 OR SUM(cc.n_nonred) > 0
    """
_HALF_TOTALS = """
    INSERT INTO cell_totals
        (region, period, dimension, value, cycle, n, contributors, n_nonred, contributors_nonred)
    SELECT region, period, dimension, value, cycle,
        SUM(n), SUM(CASE WHEN n > 0 THEN 1 ELSE 0 END),
        SUM(n_nonred), SUM(CASE WHEN n_nonred > 0 THEN 1 ELSE 0 END)
    FROM cell_counts WHERE period LIKE 'CSP%-H%'
    GROUP BY region, period, dimension, value, cycle
    """


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("half", sa.String(8), nullable=False, server_default=""))
    op.execute(_CASE_HALVES)
    op.execute(_HALF_COUNTS)
    op.execute(_HALF_TOTALS)


def downgrade() -> None:
    op.execute("DELETE FROM cell_totals WHERE period LIKE 'CSP%-H%'")
    op.execute("DELETE FROM cell_counts WHERE period LIKE 'CSP%-H%'")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("half")

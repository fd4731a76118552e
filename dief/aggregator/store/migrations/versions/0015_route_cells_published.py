"""Route cells published once (#15): ``route_table_cells.published``, whether any issue of
the table published the cell at a count of at least one. The receiving region's meeting
keeps every issue it received, so such a cell bounds the sender's summary row cell for
good, even once a later issue suppresses it (``count`` NULL): the sender names it in its
summary row requirement (``RowRequirement.routed``). A store written before starts with
the cells published now; a cell published and then suppressed before this revision is
not known to have been published (nothing recorded it).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("route_table_cells") as batch:
        batch.add_column(
            sa.Column("published", sa.Boolean, nullable=False, server_default=sa.false())
        )
    cells = sa.table(
        "route_table_cells",
        sa.column("count", sa.Integer),
        sa.column("published", sa.Boolean),
    )
    op.execute(
        cells.update().where(cells.c.count.is_not(None), cells.c.count > 0).values(published=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("route_table_cells") as batch:
        batch.drop_column("published")

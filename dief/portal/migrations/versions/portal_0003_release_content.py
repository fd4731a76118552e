"""What a summary's publication was asked for: the content hash of the summary shown to the
person who asked (a release publishes it only if the person releasing was shown the same).

Revision ID: portal_0003
Revises: portal_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "portal_0003"
down_revision = "portal_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("portal_releases", sa.Column("content", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("portal_releases") as batch:
        batch.drop_column("content")

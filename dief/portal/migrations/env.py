"""Alembic environment of the portal's tables: always run programmatically with a connection
from :class:`dief.portal.PortalDatabase` (its own version table, so the portal's tables may
share a database with another store's)."""

from __future__ import annotations

from alembic import context

from dief.portal._tables import METADATA, VERSION_TABLE  # noqa: PLC2701  the portal's own migrations read its tables

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the portal always passes a connection
    raise RuntimeError("the portal's migrations run through PortalDatabase.start, not the CLI")

context.configure(
    connection=connection,
    target_metadata=METADATA,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

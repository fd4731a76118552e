"""Alembic environment: always run programmatically with a connection from dief.aggregator.store."""

from __future__ import annotations

from alembic import context

from dief.aggregator.store._schema import metadata  # noqa: PLC2701  alembic's env reads the store's table metadata, inside the store package

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the CLI always passes a connection
    raise RuntimeError(
        "dief migrations run through dief.aggregator.store (CaseStore.start), not the alembic CLI"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

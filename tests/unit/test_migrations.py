"""The Alembic migrations build exactly the tables the code declares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from dief.aggregator.store import CaseStore
from dief.aggregator.store._schema import metadata
from dief.database import sqlite_url

if TYPE_CHECKING:
    from pathlib import Path


async def test_migrations_match_the_declared_schema(tmp_path: Path) -> None:
    store = CaseStore(sqlite_url(tmp_path / "m.sqlite"))
    await store.start()
    await store.stop()

    engine = create_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == [], f"migrations and dief/aggregator/store/_schema.py differ: {diff}"

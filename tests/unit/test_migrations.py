"""The Alembic migrations build exactly the tables the code declares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from dief.aggregator.store import CaseStore
from dief.aggregator.store._schema import metadata
from dief.aggregator.store._store import migrate
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


def test_0015_marks_the_route_cells_published_now(tmp_path: Path) -> None:
    """A store recorded before 0015 knows which route cells are published now (count of one
    or more); a suppressed one, and one listed at 0, start unmarked."""
    engine = create_engine(f"sqlite:///{tmp_path / 'r.sqlite'}")
    with engine.begin() as conn:
        migrate(conn, "0014")
        conn.execute(
            text(
                "INSERT INTO route_table_cells (region, to_region, period, dimension, value, "
                "count) VALUES ('AFR', 'EEG', 'CSP12', '_total', '_all', 3), "
                "('AFR', 'EEG', 'CSP12', 'kind', 'alert', NULL), "
                "('AFR', 'EEG', 'CSP12', 'kind', 'case', 0)"
            )
        )
        migrate(conn, "0015")
        rows = conn.execute(
            text("SELECT dimension, published FROM route_table_cells ORDER BY dimension, value")
        ).all()
    engine.dispose()
    assert [(d, bool(p)) for d, p in rows] == [("_total", True), ("kind", False), ("kind", False)]

"""The portal's tables are made by Alembic migrations (issue 19): they build exactly the tables
``dief/portal/_tables.py`` declares, on SQLite and PostgreSQL; an older schema and a database
made before migrations existed are brought up to date, their rows kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, insert, inspect, select

from dief.database import open_engine, sqlite_url
from dief.portal import PortalDatabase
from dief.portal._tables import ACCOUNTS, AUDIT, CASES, METADATA, VERSION_TABLE, migrate

if TYPE_CHECKING:
    from pathlib import Path


def _diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return list(compare_metadata(context, METADATA))


def _version(conn: Connection) -> str:
    return str(
        MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE}
        ).get_current_revision()
    )


def _url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return sqlite_url(tmp_path / "portal.sqlite")
    return str(request.getfixturevalue("postgres_url"))


KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("kind", KINDS)
async def test_the_migrations_build_the_declared_tables(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = PortalDatabase(_url(kind, tmp_path, request))
    await db.start()
    try:
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(_diff)
            version = await conn.run_sync(_version)
        assert diff == [], f"migrations and dief/portal/_tables.py differ: {diff}"
        assert version == "portal_0003"
    finally:
        await db.stop()
    await db.start()  # again: nothing to do
    await db.stop()


@pytest.mark.parametrize("kind", KINDS)
async def test_an_older_schema_is_upgraded_and_keeps_its_rows(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _url(kind, tmp_path, request)

    engine = await open_engine(url, init=lambda c: migrate(c, "portal_0001"), sqlite_pool="null")
    async with engine.begin() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert "portal_releases" not in names
        await conn.execute(
            insert(AUDIT).values(at=datetime.now(UTC), account="a", action="read", target="t")
        )
    await engine.dispose()
    db = PortalDatabase(url)
    await db.start()
    try:
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            rows = (await conn.execute(select(AUDIT.c.account))).scalars().all()
        assert rows == ["a"]
    finally:
        await db.stop()


async def test_a_database_made_before_migrations_is_stamped_and_upgraded(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "legacy.sqlite")

    legacy = [ACCOUNTS, AUDIT, CASES]  # what create_all made before the releases table
    engine = await open_engine(
        url, init=lambda c: METADATA.create_all(c, tables=legacy), sqlite_pool="null"
    )
    async with engine.begin() as conn:
        await conn.execute(
            insert(AUDIT).values(at=datetime.now(UTC), account="b", action="read", target="t")
        )
    await engine.dispose()
    db = PortalDatabase(url)
    await db.start()
    try:
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            assert await conn.run_sync(_version) == "portal_0003"
            assert (await conn.execute(select(AUDIT.c.account))).scalars().all() == ["b"]
    finally:
        await db.stop()

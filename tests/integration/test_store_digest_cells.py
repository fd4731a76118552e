"""The published digest cells (``digest_cells``, migration 0009) on SQLite and PostgreSQL:
a suppressed cell stays suppressed for good, a published one keeps its last count; and the
upgrade from the previous head (0005) on a database with data, and back."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

import dief.aggregator.store
from dief.aggregator.store import CaseStore, PublishedCell, PublishedPattern, SuppressedCell
from dief.aggregator.store._store import migrate
from tests.integration._pipeline_helpers import DATABASE_KINDS, database_url
from tests.unit.reporting_support import History, make_facts

pytestmark = pytest.mark.integration

PREVIOUS_HEAD = "0005"


def _cell(period: str, dimension: str, value: str, count: int | None) -> PublishedCell:
    return PublishedCell(SuppressedCell(period, dimension, value), count)


@pytest.mark.parametrize("kind", DATABASE_KINDS)
async def test_suppressed_cells_stay_suppressed(kind: str, tmp_path: Path) -> None:
    async with database_url(kind, tmp_path) as url, CaseStore(url) as store:
        assert await store.published_suppressions("AFR") == PublishedPattern()
        first = [
            _cell("2026-05", "_total", "_all", 12),
            _cell("2026-05", "kind", "alert", None),
            _cell("2026-05", "kind", "case", 11),
            _cell("W2026-Q2", "risk_indicator", "DOC-01", None),
        ]
        assert await store.record_suppressions("AFR", first) == 4
        # a second issue: the alert published now (refused: it stays suppressed), the case
        # count changed, the total suppressed now, one new cell
        second = [
            _cell("2026-05", "_total", "_all", None),
            _cell("2026-05", "kind", "alert", 2),
            _cell("2026-05", "kind", "case", 12),
            _cell("2026-06", "kind", "case", 3),
        ]
        assert await store.record_suppressions("AFR", second) == 3
        assert await store.record_suppressions("AFR", second) == 0  # nothing new
        assert await store.record_suppressions("AFR", []) == 0
        got = await store.published_suppressions("AFR")
        assert got.suppressed == {
            SuppressedCell("2026-05", "_total", "_all"),
            SuppressedCell("2026-05", "kind", "alert"),
            SuppressedCell("W2026-Q2", "risk_indicator", "DOC-01"),
        }
        assert got.counts == {
            SuppressedCell("2026-05", "kind", "case"): 12,
            SuppressedCell("2026-06", "kind", "case"): 3,
        }
        assert len(got) == 5
        assert await store.published_suppressions("APG") == PublishedPattern()
        many = [_cell("2026-07", "method", f"v{i:04d}", i % 3 or None) for i in range(1_000)]
        assert await store.record_suppressions("APG", many) == 1_000
        apg = await store.published_suppressions("APG")
        assert (len(apg.suppressed), len(apg.counts)) == (334, 666)


@pytest.mark.parametrize("kind", DATABASE_KINDS)
async def test_a_period_is_unchanged_while_its_token_is_the_one_issued(
    kind: str, tmp_path: Path
) -> None:
    """``issued_versions`` (migration 0016): a period whose store token is still the one
    its last delivered digest stated is unchanged; a batch that changes it, a period never
    issued, and another region's period are not."""
    history = History("AFR", random.Random(4), ["2026-01", "2026-02"], nodes=4)
    async with database_url(kind, tmp_path) as url, CaseStore(url) as store:
        await store.apply_batch("AFR", history.batch(12))
        versions = await store.data_versions("AFR")
        issued = {p: token for p, (_, token) in versions.items() if p in {"2026-01", "2026-Q1"}}
        assert len(issued) == 2  # January and its quarter
        await store.record_issued_versions("AFR", issued)
        record = await store.published_suppressions("AFR")
        assert record.unchanged_periods == {"2026-01", "2026-Q1"}
        assert record.issued == issued
        assert record.as_of(issued) is record
        assert (await store.published_suppressions("APG")).unchanged_periods == frozenset()
        await store.apply_batch("AFR", [make_facts(region="AFR", month="2026-01", node=1)])
        assert (await store.published_suppressions("AFR")).unchanged_periods == frozenset()
        # the record read before the batch, at the versions read after it: changed
        now = {p: token for p, (_, token) in (await store.data_versions("AFR")).items()}
        assert record.as_of(now).unchanged_periods == frozenset()
        # a period the record's issued versions do not name is kept as given
        given = PublishedPattern(unchanged_periods=frozenset({"2026-01"}))
        assert given.as_of(now) is given
        # issued again at the new tokens: unchanged again
        versions = await store.data_versions("AFR")
        await store.record_issued_versions("AFR", {p: versions[p][1] for p in issued})
        assert (await store.published_suppressions("AFR")).unchanged_periods == {
            "2026-01",
            "2026-Q1",
        }


def _downgrade(connection: Connection, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option(
        "script_location", str(Path(dief.aggregator.store.__file__).parent / "migrations")
    )
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, revision)


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


@pytest.mark.parametrize("kind", DATABASE_KINDS)
async def test_upgrade_from_the_previous_head_and_back(kind: str, tmp_path: Path) -> None:
    async with database_url(kind, tmp_path) as url:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(migrate, PREVIOUS_HEAD)
                await conn.execute(
                    text(
                        "INSERT INTO digest_versions (region, period, version, updated_at) "
                        "VALUES ('AFR', '2026-05', 3, CURRENT_TIMESTAMP)"
                    )
                )
                assert "digest_cells" not in await conn.run_sync(_tables)
        finally:
            await engine.dispose()
        async with CaseStore(url) as store:  # upgrades to head
            await store.record_suppressions("AFR", [_cell("2026-05", "kind", "alert", None)])
            assert (await store.published_suppressions("AFR")).suppressed == {
                SuppressedCell("2026-05", "kind", "alert")
            }
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                version = (await conn.execute(text("SELECT version FROM digest_versions"))).one()
                assert tuple(version) == (3,)
                await conn.run_sync(_downgrade, PREVIOUS_HEAD)
                assert "digest_cells" not in await conn.run_sync(_tables)
                assert "digest_versions" in await conn.run_sync(_tables)
        finally:
            await engine.dispose()

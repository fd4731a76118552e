"""A PostgreSQL restart in the middle of a large run (DESIGN §8 ⚑): "a database outage stops
committing, not the process". 20,000 synthetic cases (revisions and withdrawals included)
are posted by simulated national nodes; the regional aggregators apply them into a
PostgreSQL cluster of the test's own, which is restarted (every connection dropped) while
some but not all records are applied. The aggregators back off, reconnect and go on; at the
end every region's cells equal those computed from the plain case data, and every record
was finished with exactly once.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Protocol

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
import pytest

from dief.aggregator.store import CaseStore
from dief.broker import EmbeddedBroker
from dief.catalogue import load_catalogue
from dief.synthetic import generate_cases
from dief.vocab import Region
from tests.integration._pipeline_helpers import (
    TODAY,
    Forum,
    Nodes,
    expected_cells,
    running_aggregators,
    store_cells,
)

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.postgres]

CASES = 20_000
RESTART_AT = 0.3


class RestartableServer(Protocol):
    """The ``restartable_postgres`` fixture (tests/conftest.py)."""

    dsn: str

    def restart(self, mode: str = "fast") -> None: ...


async def _database(admin_dsn: str) -> str:
    """A new database on the server; its SQLAlchemy URL."""
    name = f"dief_restart_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = admin_dsn.replace("postgresql://", "postgresql+asyncpg://", 1).rsplit("/", 1)[0]
    return f"{base}/{name}"


async def test_a_postgres_restart_mid_run_loses_nothing_and_counts_nothing_twice(
    tmp_path: Path, restartable_postgres: RestartableServer
) -> None:
    cluster = restartable_postgres
    url = await _database(cluster.dsn)

    forum = Forum(tmp_path / "keys")
    ids = list(load_catalogue().ids)
    docs = [c.document for c in generate_cases(CASES, seed=21, indicator_ids=ids, today=TODAY)]
    async with EmbeddedBroker() as broker, CaseStore(url) as store:
        nodes = Nodes(forum, broker.bootstrap, tmp_path / "nodes")
        try:
            published = len(await nodes.post(docs))
        finally:
            await nodes.close()
        async with running_aggregators(broker.bootstrap, forum, store) as processed:
            await processed.wait_for(int(published * RESTART_AT), time_limit=300)
            before = processed.total
            t0 = time.monotonic()
            cluster.restart("fast")
            outage = time.monotonic() - t0
            assert before < published, "every record was applied before the restart"
            await processed.wait_for(published, time_limit=300)
        print(  # noqa: T201  figures printed for the test log (pytest -s)
            f"\npostgres restart: {published} records, restarted at {before} ({outage:.1f} s down)"
        )
        expected = expected_cells(docs)
        for region in Region:
            periods = sorted(
                {key[0] for key in expected.get(region.value, {})}
                | set(await store.periods_with_data(region.value))
            )
            got = await store_cells(store, region.value, periods)
            assert got == expected.get(region.value, {}), region
            assert await store.dead_letter_counts(region.value) == {}, region

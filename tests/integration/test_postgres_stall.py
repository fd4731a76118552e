"""A database connection left half-open (DESIGN §8 ⚑: "a database outage stops committing,
not the process"): a network partition, or a database host that vanished, leaves the
aggregator's pooled connection open with nobody answering, and no side hears of it. The
attack: the case store's only pooled connection goes silent (a :class:`TcpProxy` between
the store and PostgreSQL freezes it) before the regional aggregators start. The batch that
takes it must be given up after the batch time limit and come again on a new connection,
and every region's cells must end exact: one silent connection may not hold a region's
partition, and every later case of it, for good.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from dief.aggregator.store import CaseStore
from dief.broker import EmbeddedBroker
from dief.catalogue import load_catalogue
from dief.synthetic import generate_cases
from dief.testing import TcpProxy
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

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

CASES = 1_000
TIME_LIMIT = 3.0


async def test_a_silent_database_connection_holds_no_partition(
    tmp_path: Path, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    parts = urlsplit(postgres_url)
    forum = Forum(tmp_path / "keys")
    ids = list(load_catalogue().ids)
    docs = [c.document for c in generate_cases(CASES, seed=5, indicator_ids=ids, today=TODAY)]
    async with (
        TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432)) as proxy,
        EmbeddedBroker() as broker,
    ):
        through = parts._replace(netloc=f"{parts.username}@{proxy.address}").geturl()
        async with CaseStore(through) as store:  # migrations leave one pooled connection
            nodes = Nodes(forum, broker.bootstrap, tmp_path / "nodes")
            try:
                published = len(await nodes.post(docs))
            finally:
                await nodes.close()
            assert proxy.freeze() == 1, "the store's pooled connection froze"
            with caplog.at_level(logging.ERROR, logger="dief.aggregator"):
                async with running_aggregators(
                    broker.bootstrap, forum, store, time_limit=TIME_LIMIT
                ) as processed:
                    await processed.wait_for(published, time_limit=120)
            expected = expected_cells(docs)
            for region in Region:
                periods = sorted({key[0] for key in expected.get(region.value, {})})
                got = await store_cells(store, region.value, periods)
                assert got == expected.get(region.value, {}), region
    given_up = [r.getMessage() for r in caplog.records if "cancelled" in r.getMessage()]
    assert len(given_up) == 1, given_up
    assert f"still running after {TIME_LIMIT:g}s, cancelled" in given_up[0]

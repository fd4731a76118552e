"""The node's metrics and readiness on fakes of its outbox and relay: outbox depth and age of
the oldest pending entry read at each scrape, the relay's counters, ready while the outbox
answers (a broker outage does not make the node unready)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from dief.exceptions import StorageError
from dief.observability import NodeObservability, Observability
from dief.settings import MetricsSettings
from tests.unit.test_observability_http import get


@dataclass
class FakeOutbox:
    pending: int = 0
    oldest: datetime | None = None
    broken: bool = False

    async def backlog(self) -> tuple[int, datetime | None]:
        if self.broken:
            raise StorageError("reading the outbox failed: database is locked")
        return self.pending, self.oldest


@dataclass
class FakeRelay:
    published: int = 0
    failures: int = 0


def scrape(body: bytes) -> dict[str, float]:
    return {
        s.name: s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
        if s.name.startswith("dief_node_")
    }


async def test_the_node_reports_its_backlog_and_relay_and_is_ready_while_the_outbox_answers() -> (
    None
):
    node = NodeObservability(MetricsSettings(port=0))
    outbox, relay = FakeOutbox(), FakeRelay()
    await node.start(outbox, relay)
    port = node.observability.port
    assert port is not None
    try:
        status, _, body = await get(port, "/metrics")
        assert status == 200
        assert scrape(body) == {
            "dief_node_outbox_pending": 0,
            "dief_node_outbox_oldest_pending_age_seconds": 0,
            "dief_node_records_published_total": 0,
            "dief_node_relay_failures_total": 0,
        }
        assert (await get(port, "/readyz"))[0] == 200

        # the broker went away: entries pile up, the relay fails; the node stays ready
        outbox.pending, outbox.oldest = 42, datetime.now(UTC) - timedelta(seconds=90)
        relay.published, relay.failures = 7, 3
        found = scrape((await get(port, "/metrics"))[2])
        assert found["dief_node_outbox_pending"] == 42
        assert 90 <= found["dief_node_outbox_oldest_pending_age_seconds"] < 120
        assert found["dief_node_records_published_total"] == 7
        assert found["dief_node_relay_failures_total"] == 3
        assert (await get(port, "/readyz"))[0] == 200

        # the outbox cannot be read: not ready, with the outbox's reason
        outbox.broken = True
        await get(port, "/metrics")
        status, _, body = await get(port, "/readyz")
        assert status == 503
        assert json.loads(body)["checks"] == {
            "outbox": "reading the outbox failed: database is locked"
        }
        outbox.broken = False
        await get(port, "/metrics")
        assert (await get(port, "/readyz"))[0] == 200
    finally:
        await node.stop()
    assert node.observability.port is None


async def test_a_given_observability_is_served_by_its_owner() -> None:
    shared = Observability(MetricsSettings(port=0))
    node = NodeObservability(observability=shared)
    await shared.start()
    port = shared.port
    assert port is not None
    try:
        status, _, body = await get(port, "/readyz")
        assert (status, json.loads(body)["reason"]) == (503, "not started")
        await node.start(FakeOutbox(), FakeRelay())
        assert (await get(port, "/readyz"))[0] == 200
        await node.stop()
        assert shared.port == port  # still served: its owner stops it
        status, _, body = await get(port, "/readyz")
        assert (status, json.loads(body)["reason"]) == (503, "stopped")
    finally:
        await shared.stop()


def test_no_io_before_start() -> None:
    node = NodeObservability(MetricsSettings(port=0))
    assert node.observability.port is None
    with pytest.raises(ValueError, match="exists already"):
        node.observability.add_check("outbox", FakeOutbox().backlog)  # type: ignore[arg-type]  # any callable: the name clash is under test

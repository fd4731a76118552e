"""Consumer lag from fetch high watermarks: the batch in hand counts as not committed, a
partition not fetched from yet has no sample, a rebalance drops what is no longer held."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry

from dief.observability import ConsumerLag
from dief.seams import InboundRecord
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Iterable

TOPIC = "dief.afr.cases"


@dataclass(frozen=True)
class TP:
    topic: str
    partition: int


@dataclass
class FakeConsumer:
    """The public surface of an AIOKafkaConsumer that the lag reads."""

    high: dict[int, int | None]
    positions: dict[int, int]
    stuck: set[int] = field(default_factory=set)

    def assignment(self) -> set[Any]:
        return {TP(TOPIC, p) for p in self.high}

    def highwater(self, partition: Any) -> int | None:  # noqa: ANN401  a JSON document or an untyped library object, as the test builds it
        assert partition.partition in self.high, "Partition is not assigned"
        return self.high[partition.partition]

    async def position(self, partition: Any) -> int:  # noqa: ANN401  a JSON document or an untyped library object, as the test builds it
        if partition.partition in self.stuck:
            await asyncio.Event().wait()  # being reset: never answers; the lag's timeout cancels it
        return self.positions[partition.partition]


def lag_of(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
    found: dict[tuple[str, str], float] = {}
    for family in registry.collect():
        if family.name == "dief_aggregator_consumer_lag":
            for s in family.samples:
                found[s.labels["region"], s.labels["partition"]] = s.value
    return found


def records(partition: int, offsets: Iterable[int]) -> list[InboundRecord]:
    return [InboundRecord(TOPIC, partition, o, b"k", b"v") for o in offsets]


async def test_lag_is_the_high_watermark_less_the_first_uncommitted_offset() -> None:
    registry = CollectorRegistry()
    lag = ConsumerLag(registry)
    consumer = FakeConsumer(high={0: 120, 1: 40, 2: None}, positions={0: 100, 1: 40, 2: 0})
    lag.watch(Region.AFR, lambda: [consumer])

    await lag.refresh()
    # partition 2 was never fetched from: no high watermark, no sample
    assert lag_of(registry) == {("AFR", "0"): 20, ("AFR", "1"): 0}

    # a batch of offsets 100..109 of partition 0 is in hand: the position moved past it,
    # but nothing of it is committed yet
    consumer.positions[0] = 110
    lag.begin(Region.AFR, records(0, range(109, 99, -1)))
    await lag.refresh()
    assert lag_of(registry)["AFR", "0"] == 20
    lag.end(Region.AFR)
    await lag.refresh()
    assert lag_of(registry)["AFR", "0"] == 10


async def test_a_rebalance_drops_partitions_no_longer_held_and_a_stuck_position_is_skipped() -> (
    None
):
    registry = CollectorRegistry()
    lag = ConsumerLag(registry)
    consumer = FakeConsumer(high={0: 5, 1: 7}, positions={0: 5, 1: 3})
    running = [consumer]
    lag.watch(Region.EEG, lambda: running)
    await lag.refresh()
    assert lag_of(registry) == {("EEG", "0"): 0, ("EEG", "1"): 4}

    del consumer.high[1]
    consumer.stuck.add(0)
    await lag.refresh()
    assert lag_of(registry) == {}

    running.clear()  # the service stopped: its consumers are gone
    await lag.refresh()
    assert lag_of(registry) == {}

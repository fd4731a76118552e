"""Consumer lag per (region, partition), from the high watermarks of the consumer's fetches.

The lag of a partition is ``highwater - next``: *highwater* is the offset the next record
produced will get, as the last fetch response said (``AIOKafkaConsumer.highwater``, public
API; it is what the broker answers with every fetch, so it is right on the embedded Tansu,
whose ``ListOffsets`` answer — ``end_offsets()`` — is not, see docs/broker.md); *next* is
the first record not yet committed: the first record of the batch in hand if the partition
has one (the aggregator tells :meth:`ConsumerLag.begin` / :meth:`ConsumerLag.end`), else the
consumer's position (``AIOKafkaConsumer.position``, public; no batch in hand means every
record handed out so far was committed).

A partition the consumer has not fetched from yet (no high watermark) has no sample; nor
does one whose position is not known within a second (it is being reset or reassigned).
Nothing here reaches into the client's private state.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, Gauge

from dief.observability._metrics import region_label

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from dief.seams import InboundRecord
    from dief.vocab import Region

__all__ = ["ConsumerLag", "LagConsumer"]

log = logging.getLogger("dief.observability")

_POSITION_TIMEOUT = 1.0


class LagConsumer(Protocol):
    """What :class:`ConsumerLag` uses of an ``aiokafka.AIOKafkaConsumer`` (public methods)."""

    def assignment(self) -> Iterable[Any]: ...

    def highwater(self, partition: Any) -> int | None: ...  # noqa: ANN401  aiokafka's and FastStream's objects, and JSON values, are untyped here

    async def position(self, partition: Any) -> int: ...  # noqa: ANN401  aiokafka's and FastStream's objects, and JSON values, are untyped here


class ConsumerLag:
    """The gauge ``dief_aggregator_consumer_lag{region, partition}``, refreshed per scrape."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        name: str = "dief_aggregator_consumer_lag",
        documentation: str = "Records on a cases partition not yet committed by this "
        "aggregator: the fetch high watermark less the first uncommitted offset",
    ) -> None:
        self._gauge = Gauge(name, documentation, ["region", "partition"], registry=registry)
        self._sources: dict[str, Callable[[], Iterable[LagConsumer]]] = {}
        # region -> (topic, partition) -> first offset of the batch in hand
        self._in_hand: dict[str, dict[tuple[str, int], int]] = {}

    def __repr__(self) -> str:
        return f"ConsumerLag(regions={sorted(self._sources)})"

    def watch(self, region: Region, consumers: Callable[[], Iterable[LagConsumer]]) -> None:
        """Measure *region* on the consumers *consumers* returns at each scrape (those
        running then; none while the service is stopped)."""
        self._sources[region_label(region)] = consumers

    def begin(self, region: Region, records: Iterable[InboundRecord]) -> None:
        """A batch is in hand: its records are not committed until :meth:`end`."""
        first: dict[tuple[str, int], int] = {}
        for rec in records:
            key = (rec.topic, rec.partition)
            if key not in first or rec.offset < first[key]:
                first[key] = rec.offset
        self._in_hand[region_label(region)] = first

    def end(self, region: Region) -> None:
        """The batch in hand is committed, or will come again (failed): either way the
        consumer's position is again the first uncommitted offset."""
        self._in_hand.pop(region_label(region), None)

    async def refresh(self) -> None:
        """Read the lag of every assigned partition into the gauge (a scrape hook)."""
        samples: dict[tuple[str, str], int] = {}
        for region, source in list(self._sources.items()):
            for consumer in source():
                for tp, lag in await _lags(consumer, self._in_hand.get(region, {})):
                    samples[region, str(tp.partition)] = lag
        # No await from here on: the scrape sees one consistent set.
        self._gauge.clear()
        for (region, partition), lag in samples.items():
            self._gauge.labels(region, partition).set(lag)


async def _lags(
    consumer: LagConsumer, in_hand: dict[tuple[str, int], int]
) -> list[tuple[Any, int]]:
    found: list[tuple[Any, int]] = []
    try:
        assigned = list(consumer.assignment())
    except Exception:  # the consumer is stopping  # noqa: BLE001  a probe or check never breaks the endpoint or the consumer: its failure is reported by type
        return found
    for tp in assigned:
        try:  # noqa: PLW0717  every failure of the step ends it the same way
            high = consumer.highwater(tp)
            if high is None:
                continue  # not fetched from yet
            nxt = in_hand.get((tp.topic, tp.partition))
            if nxt is None:
                nxt = await asyncio.wait_for(consumer.position(tp), _POSITION_TIMEOUT)
        except Exception as exc:  # noqa: BLE001  a probe or check never breaks the endpoint or the consumer: its failure is reported by type
            # unassigned meanwhile (AssertionError, IllegalStateError: a rebalance), or its
            # position is being reset (TimeoutError): no sample this time
            log.debug("no lag for partition %d (%s)", tp.partition, type(exc).__name__)
            continue
        found.append((tp, max(0, int(high) - int(nxt))))
    return found

"""What an aggregator service measures (docs/architecture.md, Operability): every batch's
records by outcome and dead letters by reason, batch durations and failures, consumer lag,
digest passes, and whether the store answers — on the service's own registry."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from dief.aggregator._aggregator import BatchReport
from dief.aggregator._validation import REASONS
from dief.exceptions import StorageError
from dief.observability import (
    AggregatorMetrics,
    ConsumerLag,
    DigestMetrics,
    Observability,
    StoreHealth,
)
from dief.seams import InboundRecord
from dief.vocab import Region

if TYPE_CHECKING:
    from dief.aggregator.store import CaseStore

__all__ = ["AggregatorTelemetry", "BatchHandler"]

#: What handles one batch of a region's cases topic.
BatchHandler = Callable[[Sequence[InboundRecord]], Awaitable[BatchReport]]


class AggregatorTelemetry:
    """What the aggregators measure, on *observability*'s registry: records by outcome and
    dead letters by reason (:class:`AggregatorMetrics`), consumer lag (:class:`ConsumerLag`),
    digest passes (:class:`DigestMetrics`), and whether the store answers
    (:class:`StoreHealth`, probed with a read of the dead-letter counts).
    """

    def __init__(
        self, observability: Observability, store: CaseStore, regions: Sequence[Region]
    ) -> None:
        registry = observability.registry
        self.metrics = AggregatorMetrics(registry, regions, REASONS)
        self.digests = DigestMetrics(registry, regions)
        self.lag = ConsumerLag(registry)
        probe_region = regions[0].value if regions else Region.AFR.value
        self.store = StoreHealth(lambda: store.dead_letter_counts(probe_region))
        observability.on_scrape(self.lag.refresh)

    def __repr__(self) -> str:
        return f"AggregatorTelemetry({self.lag!r})"

    def measured(self, region: Region, handle: BatchHandler) -> BatchHandler:
        """*handle*, measured: its outcomes, duration, failures and the batch in hand."""

        async def measured_handle(records: Sequence[InboundRecord]) -> BatchReport:
            self.lag.begin(region, records)
            started = time.perf_counter()
            try:
                report = await handle(records)
            except StorageError as exc:
                self.store.failed(exc.message)
                self.metrics.batch_failed(region)
                raise
            except Exception:
                self.metrics.batch_failed(region)
                raise
            finally:
                self.lag.end(region)
            self.store.succeeded()
            self.metrics.batch_applied(region, report.outcomes, time.perf_counter() - started)
            return report

        return measured_handle

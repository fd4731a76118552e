"""The aggregator service's Kafka subscriptions: each region's cases topic in its consumer
group ``dief-aggregator-<region>``, and each served region's route inbox on ``dief.routes``
in its group ``dief-routes-<region>`` (FastStream batch subscribers,
``AckPolicy.NACK_ON_ERROR``: offsets are committed only after the handler returned)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from dief.aggregator import AggregatorTelemetry, BatchHandler, BatchReport, RegionAggregator
from dief.kafka import BATCH_TIME_LIMIT, ROUTES_TOPIC, cases_topic, subscribe_batches
from dief.observability import kafka_consumers
from dief.seams import Backoff, InboundRecord
from dief.vocab import Region

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker

    from dief.routes import RouteInbox, RouteReceived

__all__ = [
    "ReportHook",
    "group_id",
    "register_aggregators",
    "register_route_inbox",
    "routes_group_id",
]

log = logging.getLogger("dief.aggregator")

#: Hears each region's batch report.
ReportHook = Callable[[Region, BatchReport], None]


def group_id(region: Region) -> str:
    """One consumer group per region (DESIGN §2)."""
    return f"dief-aggregator-{region.topic_code}"


def routes_group_id(region: Region) -> str:
    """The consumer group of *region*'s route inbox on ``dief.routes``."""
    return f"dief-routes-{region.topic_code}"


def register_route_inbox(
    broker: KafkaBroker,
    inbox: RouteInbox,
    region: Region,
    *,
    embedded: bool = False,
    backoff: Backoff | None = None,
) -> None:
    """Subscribe *broker* to ``dief.routes`` in *region*'s group with its *inbox*: tables
    sealed to other regions are skipped, the rest stored (a store failure retries the
    batch)."""

    async def receive(records: Sequence[InboundRecord]) -> list[RouteReceived]:
        return await inbox.receive_many(r.value for r in records if r.value is not None)

    subscribe_batches(
        broker,
        ROUTES_TOPIC,
        group_id=routes_group_id(region),
        title=f"routes-{region.topic_code}",
        max_records=500,
        embedded=embedded,
        backoff=backoff or Backoff(),
        handle=receive,
        log=log,
        label=f"{region.value} route tables",
    )


def register_aggregators(  # noqa: PLR0913  public keyword signature, used by dief.pipeline and tests
    broker: KafkaBroker,
    aggregators: Mapping[Region, RegionAggregator],
    *,
    max_records: int = 2000,
    embedded: bool = False,
    on_report: ReportHook | None = None,
    backoff: Backoff | None = None,
    telemetry: AggregatorTelemetry | None = None,
    time_limit: float = BATCH_TIME_LIMIT,
) -> None:
    """Subscribe *broker* to each region's cases topic with its aggregator (measured by
    *telemetry* if given); a batch still being applied after *time_limit* seconds is
    cancelled and comes again."""
    for region, aggregator in aggregators.items():
        handle: BatchHandler = aggregator.handle
        if telemetry is not None:
            handle = telemetry.measured(region, handle)
            telemetry.lag.watch(region, lambda: kafka_consumers(broker))
        _subscribe(
            broker,
            region,
            handle,
            max_records=max_records,
            embedded=embedded,
            on_report=on_report,
            backoff=backoff or Backoff(),
            time_limit=time_limit,
        )


def _subscribe(  # noqa: PLR0913  register_aggregators's options, passed on by name
    broker: KafkaBroker,
    region: Region,
    handle: BatchHandler,
    *,
    max_records: int,
    embedded: bool,
    on_report: ReportHook | None,
    backoff: Backoff,
    time_limit: float,
) -> None:
    def report(result: BatchReport) -> None:
        if on_report is not None:
            on_report(region, result)

    subscribe_batches(
        broker,
        cases_topic(region),
        group_id=group_id(region),
        title=f"aggregate-{region.topic_code}",
        max_records=max_records,
        embedded=embedded,
        backoff=backoff,
        handle=handle,
        on_result=report,
        log=log,
        label=region.value,
        time_limit=time_limit,
    )

"""The regional aggregator service: one FastStream batch subscriber per region.

Thin wiring only: each batch is copied into :class:`dief.aggregator.InboundRecord` values
and handed to :class:`dief.aggregator.RegionAggregator`. Offsets are committed by
FastStream (``AckPolicy.NACK_ON_ERROR``) only after the handler returned, i.e. after the
database transaction committed; on a database or broker failure the handler backs off and
raises, FastStream seeks the batch's partitions back and the records come again. The
process never stops for it (DESIGN §8).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import SecretStr

from dief.aggregator import BatchReport, InboundRecord, RegionAggregator
from dief.broker import cases_topic
from dief.crypto.envelope import Opener
from dief.exceptions import BrokerError, ConfigurationError, StorageError
from dief.kafka import KafkaDeadLetterSink, make_broker
from dief.keyring import Keyring, KeyRole
from dief.node import Backoff
from dief.settings import AggregatorSettings
from dief.storage import CaseStore
from dief.vocab import Region

__all__ = [
    "AggregatorService",
    "ReportHook",
    "create_aggregator",
    "group_id",
    "register_aggregators",
]

log = logging.getLogger("dief.aggregator")

ReportHook = Callable[[Region, BatchReport], None]

#: Consumer options for the embedded broker: Tansu answers a group join after half the
#: session timeout, so a shorter one makes start-up faster (see docs/broker.md).
EMBEDDED_SESSION_TIMEOUT_MS = 4000
DEFAULT_SESSION_TIMEOUT_MS = 10000


def group_id(region: Region) -> str:
    """One consumer group per region (DESIGN §2)."""
    return f"dief-aggregator-{region.topic_code}"


def register_aggregators(
    broker: KafkaBroker,
    aggregators: Mapping[Region, RegionAggregator],
    *,
    max_records: int = 2000,
    embedded: bool = False,
    on_report: ReportHook | None = None,
    backoff: Backoff | None = None,
) -> None:
    """Subscribe *broker* to each region's cases topic with its aggregator."""
    for region, aggregator in aggregators.items():
        _subscribe(
            broker, region, aggregator, max_records, embedded, on_report, backoff or Backoff()
        )


def _subscribe(
    broker: KafkaBroker,
    region: Region,
    aggregator: RegionAggregator,
    max_records: int,
    embedded: bool,
    on_report: ReportHook | None,
    backoff: Backoff,
) -> None:
    failures = 0
    session_ms = EMBEDDED_SESSION_TIMEOUT_MS if embedded else DEFAULT_SESSION_TIMEOUT_MS

    @broker.subscriber(
        cases_topic(region),
        group_id=group_id(region),
        batch=True,
        max_records=max_records,
        batch_timeout_ms=50,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=f"aggregate-{region.topic_code}",
        session_timeout_ms=session_ms,
        heartbeat_interval_ms=session_ms // 4,
    )
    async def handle(msg: KafkaMessage) -> None:
        nonlocal failures
        raw = msg.raw_message
        # A tuple from the real consumer, a list from FastStream's TestKafkaBroker.
        batch = raw if isinstance(raw, tuple | list) else (raw,)
        records = [InboundRecord(r.topic, r.partition, r.offset, r.key, r.value) for r in batch]
        try:
            report = await aggregator.handle(records)
        except (StorageError, BrokerError) as exc:
            delay = backoff.delay(failures)
            failures += 1
            log.error(
                "%s: batch of %d not applied (%s); offsets not committed, retrying in %.1fs",
                region.value,
                len(records),
                exc.message,
                delay,
            )
            await asyncio.sleep(delay)
            raise
        failures = 0
        if on_report is not None:
            on_report(region, report)


class AggregatorService:
    """``dief aggregate``: the regional aggregators of *settings.regions* in one process.

    Each region has its own consumer group; the database is shared. ``run`` serves until
    its stop event is set (SIGTERM); stopping lets the batch in hand finish and commit.
    """

    def __init__(self, settings: AggregatorSettings, passphrase: SecretStr | None) -> None:
        self._settings = settings
        self._passphrase = passphrase
        self._store = CaseStore(settings.database_url.get_secret_value())
        self._brokers: list[KafkaBroker] = []

    def __repr__(self) -> str:
        return f"AggregatorService(regions={[r.value for r in self._settings.regions]})"

    async def start(self, on_report: ReportHook | None = None) -> None:
        if self._passphrase is None:
            raise ConfigurationError(
                "the region keys are encrypted: give the keyring passphrase "
                "(DIEF_KEYRING__PASSPHRASE, DIEF_KEYRING__PASSPHRASE_FILE or the prompt)"
            )
        ring = Keyring.load(
            self._settings.keyring.path, passphrase=self._passphrase.get_secret_value()
        )
        openers = {
            r: Opener(ring.opening_keys(KeyRole.REGION, r.value)) for r in self._settings.regions
        }
        await self._store.start()
        # One client per region (its own consumer group and DLQ producer), started in
        # parallel: group joins take seconds and would otherwise add up.
        for r in self._settings.regions:
            broker = make_broker(self._settings.kafka, client_id="dief-aggregator")
            aggregator = RegionAggregator(
                r, openers[r], self._store, KafkaDeadLetterSink(broker, r)
            )
            register_aggregators(
                broker,
                {r: aggregator},
                max_records=self._settings.max_batch,
                embedded=self._settings.kafka.embedded,
                on_report=on_report,
            )
            self._brokers.append(broker)
        await asyncio.gather(*(b.start() for b in self._brokers))

    async def stop(self) -> None:
        for broker in self._brokers:
            await broker.stop()
        self._brokers.clear()
        await self._store.stop()

    async def run(self, stop: asyncio.Event) -> None:
        await stop.wait()


def create_aggregator(settings: AggregatorSettings) -> AggregatorService:
    """The app factory: settings are read once by the caller and passed in."""
    return AggregatorService(settings, settings.keyring.read_passphrase())

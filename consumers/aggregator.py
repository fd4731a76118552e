"""The regional aggregator service: one FastStream batch subscriber per region.

Thin wiring only: each batch is copied into :class:`dief.aggregator.InboundRecord` values
and handed to :class:`dief.aggregator.RegionAggregator`. Offsets are committed by
FastStream (``AckPolicy.NACK_ON_ERROR``) only after the handler returned, i.e. after the
database transaction committed; on a database or broker failure the handler backs off and
raises, FastStream seeks the batch's partitions back and the records come again. The
process never stops for it (DESIGN §8).

Digests "on every closed month": unless ``digest_interval`` is 0, the service also runs a
:class:`dief.digests.DigestSchedule` that, at start and then every ``digest_interval``
seconds (default hourly), issues each region's changed closed periods on ``dief.digests``
(:func:`dief.digests.publish_closed_periods`), signed with the region's key and sealed to the
Secretariat's KEM public keys from the keyring. A failed pass is logged and retried; it
never stops the consumers. ``dief publish-digests`` issues digests on demand.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from pydantic import SecretStr

from dief.aggregator import BatchReport, RegionAggregator
from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.crypto.envelope import Opener
from dief.digests import DigestSchedule, PassHook, closed_period_publisher, issuer_from_keyring
from dief.exceptions import BrokerError, ConfigurationError, KeyringError
from dief.kafka import (
    DEFAULT_SESSION_TIMEOUT_MS,
    EMBEDDED_SESSION_TIMEOUT_MS,
    KafkaDeadLetterSink,
    KafkaRecordSink,
    cases_topic,
    make_broker,
    subscribe_batches,
)
from dief.keyring import Keyring, KeyRole
from dief.seams import Backoff, Clock
from dief.settings import AggregatorSettings
from dief.vocab import Region

__all__ = [
    "DEFAULT_SESSION_TIMEOUT_MS",
    "EMBEDDED_SESSION_TIMEOUT_MS",
    "AggregatorService",
    "ReportHook",
    "create_aggregator",
    "group_id",
    "register_aggregators",
]

log = logging.getLogger("dief.aggregator")

ReportHook = Callable[[Region, BatchReport], None]


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
        handle=aggregator.handle,
        on_result=report,
        log=log,
        label=region.value,
    )


class AggregatorService:
    """``dief aggregate``: the regional aggregators of *settings.regions* in one process.

    Each region has its own consumer group; the database is shared. ``run`` serves until
    its stop event is set (SIGTERM); stopping lets the batch in hand finish and commit.
    With ``settings.digest_interval`` > 0 the closed-period digest schedule runs too
    (*clock* tells it the day and the issue hour; the wall clock by default).
    """

    def __init__(
        self,
        settings: AggregatorSettings,
        passphrase: SecretStr | None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self._settings = settings
        self._passphrase = passphrase
        self._clock = clock
        self._store = CaseStore(settings.database_url.get_secret_value())
        self._brokers: list[KafkaBroker] = []
        self._schedule: DigestSchedule | None = None

    def __repr__(self) -> str:
        return f"AggregatorService(regions={[r.value for r in self._settings.regions]})"

    def _digest_schedule(
        self, ring: Keyring, brokers: Mapping[Region, KafkaBroker], on_digests: PassHook | None
    ) -> DigestSchedule:
        catalogue = load_catalogue()
        try:
            issuers = {
                r: issuer_from_keyring(
                    ring,
                    r,
                    KafkaRecordSink(broker, clock=self._clock),
                    catalogue=catalogue,
                    k_meeting=self._settings.k_meeting,
                    start_month=self._settings.cycle_start_month,
                    clock=self._clock,
                )
                for r, broker in brokers.items()
            }
        except (KeyringError, ConfigurationError) as exc:
            raise ConfigurationError(
                f"cannot issue digests: {exc.message} (DIEF_DIGEST_INTERVAL=0 runs the "
                "aggregators without issuing digests)"
            ) from exc
        # Openers of their own for lessons: they run in a worker thread.
        openers = {r: Opener(ring.opening_keys(KeyRole.REGION, r.value)) for r in brokers}
        return DigestSchedule(
            list(brokers),
            closed_period_publisher(self._store, issuers, openers=openers),
            interval=self._settings.digest_interval,
            clock=self._clock,
            on_pass=on_digests,
        )

    async def start(
        self, on_report: ReportHook | None = None, on_digests: PassHook | None = None
    ) -> None:
        """Start the consumers and, unless ``digest_interval`` is 0, the digest schedule
        (*on_digests* hears about every pass)."""
        ring = self._settings.keyring.unlock(self._passphrase, "the region keys are")
        openers = {
            r: Opener(ring.opening_keys(KeyRole.REGION, r.value)) for r in self._settings.regions
        }
        brokers = {
            r: make_broker(self._settings.kafka, client_id="dief-aggregator")
            for r in self._settings.regions
        }
        schedule = None
        if self._settings.digest_interval > 0:
            schedule = self._digest_schedule(ring, brokers, on_digests)
        await self._store.start()
        # One client per region (its own consumer group and DLQ producer), started in
        # parallel: group joins take seconds and would otherwise add up.
        for r, broker in brokers.items():
            aggregator = RegionAggregator(
                r,
                openers[r],
                self._store,
                KafkaDeadLetterSink(broker, r),
                start_month=self._settings.cycle_start_month,
            )
            register_aggregators(
                broker,
                {r: aggregator},
                max_records=self._settings.max_batch,
                embedded=self._settings.kafka.embedded,
                on_report=on_report,
            )
            self._brokers.append(broker)
        try:
            await asyncio.gather(*(b.start() for b in self._brokers))
        except (KafkaError, OSError) as exc:
            await self.stop()
            raise BrokerError(
                f"cannot start the aggregators on {self._settings.kafka.bootstrap}: "
                f"{type(exc).__name__}"
            ) from exc
        if schedule is not None:
            schedule.start()
            self._schedule = schedule

    async def stop(self) -> None:
        if self._schedule is not None:
            await self._schedule.stop()
            self._schedule = None
        # Each client leaves its group; in parallel, so shutdown takes one leave, not five.
        await asyncio.gather(*(broker.stop() for broker in self._brokers))
        self._brokers.clear()
        await self._store.stop()

    async def run(self, stop: asyncio.Event) -> None:
        await stop.wait()


def create_aggregator(settings: AggregatorSettings) -> AggregatorService:
    """The app factory: settings are read once by the caller and passed in."""
    return AggregatorService(settings, settings.keyring.read_passphrase())

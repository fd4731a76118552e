"""The regional aggregator service: one FastStream batch subscriber per region.

Thin wiring only: each batch is copied into :class:`dief.aggregator.InboundRecord` values
and handed to :class:`dief.aggregator.RegionAggregator`. Offsets are committed by
FastStream (``AckPolicy.NACK_ON_ERROR``) only after the handler returned, i.e. after the
database transaction committed; on a database or broker failure the handler backs off and
raises, FastStream seeks the batch's partitions back and the records come again. The
process never stops for it (DESIGN §8). Each batch's receipts (one per record that opened)
go to ``dief.receipts`` on a bare producer of the service's own (no headers) before the
handler returns.

Digests "on every closed month": unless ``digest_interval`` is 0, the service also runs a
:class:`dief.digests.DigestSchedule` that, at start and then every ``digest_interval``
seconds (default hourly), issues each region's changed closed periods on ``dief.digests``
(:func:`dief.digests.publish_closed_periods`), signed with the region's key and sealed to the
Secretariat's KEM public keys from the keyring. A failed pass is logged and retried; it
never stops the consumers. ``dief publish-digests`` issues digests on demand.

Operability (docs/architecture.md): the service measures every batch (records by outcome,
dead letters by reason, batch durations, consumer lag from the fetch high watermarks) and
every digest pass on a registry of its own, and serves ``/metrics``, ``/healthz`` and
``/readyz`` when ``DIEF_METRICS__PORT`` is set.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from pydantic import SecretStr

from dief.aggregator import REASONS, BatchReport, RegionAggregator
from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.crypto.envelope import Opener
from dief.digests import DigestSchedule, PassHook, closed_period_publisher, issuer_from_keyring
from dief.exceptions import BrokerError, ConfigurationError, KeyringError, StorageError
from dief.kafka import (
    DEFAULT_SESSION_TIMEOUT_MS,
    EMBEDDED_SESSION_TIMEOUT_MS,
    KafkaDeadLetterSink,
    KafkaReceiptSink,
    KafkaRecordSink,
    cases_topic,
    make_broker,
    subscribe_batches,
)
from dief.keyring import KeyRole, KeySource
from dief.observability import (
    AggregatorMetrics,
    ConsumerLag,
    DigestMetrics,
    Observability,
    StoreHealth,
    kafka_consumers,
    kafka_consumers_check,
)
from dief.seams import Backoff, Clock, InboundRecord
from dief.settings import AggregatorSettings
from dief.testing import FakeCredentials
from dief.vocab import Region

__all__ = [
    "DEFAULT_SESSION_TIMEOUT_MS",
    "EMBEDDED_SESSION_TIMEOUT_MS",
    "AggregatorService",
    "AggregatorTelemetry",
    "ReportHook",
    "create_aggregator",
    "group_id",
    "register_aggregators",
]

log = logging.getLogger("dief.aggregator")

ReportHook = Callable[[Region, BatchReport], None]
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
    telemetry: AggregatorTelemetry | None = None,
) -> None:
    """Subscribe *broker* to each region's cases topic with its aggregator (measured by
    *telemetry* if given)."""
    for region, aggregator in aggregators.items():
        handle: BatchHandler = aggregator.handle
        if telemetry is not None:
            handle = telemetry.measured(region, handle)
            telemetry.lag.watch(region, lambda: kafka_consumers(broker))
        _subscribe(broker, region, handle, max_records, embedded, on_report, backoff or Backoff())


def _subscribe(
    broker: KafkaBroker,
    region: Region,
    handle: BatchHandler,
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
        handle=handle,
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

    The service measures itself on *observability* (by default its own, from
    ``settings.metrics``, whose endpoint it serves from :meth:`start` to :meth:`stop`; one
    given by the caller is served by the caller, who may keep it up around the service's
    life, so that ``/readyz`` says 503 before it starts and after it stops). It is ready
    while started, every region's consumer holds partitions and the database answers.
    """

    def __init__(
        self,
        settings: AggregatorSettings,
        passphrase: SecretStr | None,
        *,
        clock: Clock | None = None,
        observability: Observability | None = None,
    ) -> None:
        self._settings = settings
        self._passphrase = passphrase
        self._clock = clock
        self._store = CaseStore(settings.database_url.get_secret_value())
        self._brokers: list[KafkaBroker] = []
        self._schedule: DigestSchedule | None = None
        self._serves = observability is None
        self.observability = (
            observability if observability is not None else Observability(settings.metrics)
        )
        self._telemetry = AggregatorTelemetry(self.observability, self._store, settings.regions)
        self._by_region: dict[str, KafkaBroker] = {}
        # One producer for every region's receipts (connected in start()).
        self._receipts = KafkaReceiptSink(settings.kafka, clock=clock)
        self.observability.add_check("consumers", kafka_consumers_check(self._by_region))
        self.observability.add_check("database", self._telemetry.store)

    def __repr__(self) -> str:
        return f"AggregatorService(regions={[r.value for r in self._settings.regions]})"

    def _digest_schedule(
        self, ring: KeySource, brokers: Mapping[Region, KafkaBroker], on_digests: PassHook | None
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
        publish = closed_period_publisher(self._store, issuers, openers=openers)
        return DigestSchedule(
            list(brokers),
            self._telemetry.digests.timed(publish),
            interval=self._settings.digest_interval,
            clock=self._clock,
            on_pass=on_digests,
        )

    async def start(
        self, on_report: ReportHook | None = None, on_digests: PassHook | None = None
    ) -> None:
        """Start the endpoint (if it is the service's own), the consumers and, unless
        ``digest_interval`` is 0, the digest schedule (*on_digests* hears about every pass)."""
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
        self.observability.readiness.starting()
        try:
            if self._serves:
                await self.observability.start()
            await self._store.start()
            self._register(brokers, openers, on_report)
            try:
                await asyncio.gather(*(b.start() for b in self._brokers))
            except (KafkaError, OSError) as exc:
                raise BrokerError(
                    f"cannot start the aggregators on {self._settings.kafka.bootstrap}: "
                    f"{type(exc).__name__}"
                ) from exc
            await self._receipts.connect()  # the broker answered: so does this producer
        except BaseException:
            await self.stop()
            raise
        if schedule is not None:
            schedule.start()
            self._schedule = schedule
        self.observability.readiness.started()

    def _register(
        self,
        brokers: Mapping[Region, KafkaBroker],
        openers: Mapping[Region, Opener],
        on_report: ReportHook | None,
    ) -> None:
        # One client per region (its own consumer group and DLQ producer), started in
        # parallel: group joins take seconds and would otherwise add up.
        for r, broker in brokers.items():
            aggregator = RegionAggregator(
                r,
                openers[r],
                self._store,
                KafkaDeadLetterSink(broker, r),
                # Stand-in credential check until the integrator wires dief.credentials'
                # TokenVerifier (issuer keys from the signed directory) here.
                credentials=FakeCredentials(),
                start_month=self._settings.cycle_start_month,
                receipts=self._receipts,
            )
            register_aggregators(
                broker,
                {r: aggregator},
                max_records=self._settings.max_batch,
                embedded=self._settings.kafka.embedded,
                on_report=on_report,
                telemetry=self._telemetry,
            )
            self._brokers.append(broker)
            self._by_region[r.value] = broker

    async def stop(self) -> None:
        self.observability.readiness.stopping()
        if self._schedule is not None:
            await self._schedule.stop()
            self._schedule = None
        # Each client leaves its group; in parallel, so shutdown takes one leave, not five.
        await asyncio.gather(*(broker.stop() for broker in self._brokers))
        self._brokers.clear()
        self._by_region.clear()
        await self._receipts.close()
        await self._store.stop()
        self.observability.readiness.stopped()
        if self._serves:
            await self.observability.stop()

    async def run(self, stop: asyncio.Event) -> None:
        await stop.wait()


def create_aggregator(settings: AggregatorSettings) -> AggregatorService:
    """The app factory: settings are read once by the caller and passed in."""
    return AggregatorService(settings, settings.keyring.read_passphrase())

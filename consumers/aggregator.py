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

Keys (DESIGN §4 ⚑): the region's own keyring (a :class:`~dief.keyring.PartyView`: its KEM
and signing keys; one region per service then) and the signed directory it holds, pinned to
the forum root; without a directory file the first one is read from ``dief.directory``,
which the service then follows: a new version is used without a restart (a region KEM key
the directory adds is loaded from the region's keyring folder; one it revokes stops
opening). In a simulation (a :class:`~dief.keyring.SimulatedForum`) any regions may be
served. Contributor tokens are verified under the directory's issuer key of each record's
(cycle, region) (:class:`~dief.credentials.TokenVerifier`, the directory looked up at each
call); more distinct pseudonyms than the directory says were issued are logged as a
warning. Digests are sealed to the Secretariat's KEM keys from the directory.

Route tables (DESIGN §5): each region's digests carry its :class:`~dief.routes.RouteIssuer`
(closed cycles, sealed to each receiving region's KEM keys from the directory, on
``dief.routes``); each served region reads ``dief.routes`` in its consumer group
``dief-routes-<region>`` into its :class:`~dief.routes.RouteInbox`, so its digests show the
tables other regions sent it.

Operability (docs/architecture.md): the service measures every batch (records by outcome,
dead letters by reason, batch durations, consumer lag from the fetch high watermarks) and
every digest pass on a registry of its own, and serves ``/metrics``, ``/healthz`` and
``/readyz`` when ``DIEF_METRICS__PORT`` is set.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence

from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from pydantic import SecretStr

from dief.aggregator import REASONS, BatchReport, RegionAggregator
from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.credentials import PseudonymExcess, TokenVerifier
from dief.crypto import KemPrivateKey
from dief.crypto.envelope import Opener
from dief.digests import (
    DigestIssuer,
    DigestSchedule,
    PassHook,
    closed_period_publisher,
    issuer_from_keyring,
)
from dief.exceptions import (
    BrokerError,
    ConfigurationError,
    DiefError,
    KeyringError,
    StorageError,
)
from dief.kafka import (
    DEFAULT_SESSION_TIMEOUT_MS,
    DIRECTORY_TOPIC,
    EMBEDDED_SESSION_TIMEOUT_MS,
    ROUTES_TOPIC,
    KafkaDeadLetterSink,
    KafkaReceiptSink,
    KafkaRecordFeed,
    KafkaRecordSink,
    cases_topic,
    make_broker,
    subscribe_batches,
)
from dief.keyring import (
    DirectoryFollower,
    DirectoryHolder,
    ForumDirectory,
    KeyRole,
    KeySource,
    PartyView,
    RegionKeys,
    SimulatedForum,
)
from dief.observability import (
    AggregatorMetrics,
    ConsumerLag,
    DigestMetrics,
    Observability,
    StoreHealth,
    kafka_consumers,
    kafka_consumers_check,
)
from dief.routes import RouteInbox, RouteReceived
from dief.seams import Backoff, Clock, InboundRecord
from dief.settings import AggregatorSettings
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
    "register_route_inbox",
    "routes_group_id",
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


def _holder(ring: PartyView | SimulatedForum, regions: Sequence[Region]) -> DirectoryHolder:
    """The directory the service holds; a party keyring must be the one served region's."""
    if isinstance(ring, SimulatedForum):
        return DirectoryHolder(ring.root_fingerprint, current=ring.directory)
    own = ring.own
    if not isinstance(own, RegionKeys):
        raise ConfigurationError(
            "the keyring at DIEF_KEYRING__PATH is not a region's (dief keys init-region)"
        )
    others = [r.value for r in regions if r.value != own.region]
    if others:
        raise ConfigurationError(
            f"this keyring holds the keys of {own.region} only; it cannot aggregate "
            f"{', '.join(others)} (run one aggregator per region: --region {own.region})"
        )
    return ring.holder


async def _first_directory(follower: DirectoryFollower, holder: DirectoryHolder) -> None:
    """Read ``dief.directory`` until a directory verifies (at most a few seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + FIRST_DIRECTORY_SECONDS
    problem = "none was published"
    while holder.current is None and loop.time() < deadline:
        try:
            await follower.poll()
        except BrokerError as exc:
            problem = exc.message
            break
    if holder.current is None:
        raise ConfigurationError(
            "no forum directory: give its file (DIEF_DIRECTORY__FILE), or publish it on "
            f"{DIRECTORY_TOPIC} ({problem})"
        )


#: How long start() reads ``dief.directory`` for a first directory when no file gave one.
FIRST_DIRECTORY_SECONDS = 15.0


class _RegionOpeners:
    """Every opener of each served region's cases (the consumers' and the digests'), kept
    to the keys the directory lets open: on a new directory, keys it revoked are dropped and
    keys it added are loaded from the region's keyring (*reload*)."""

    def __init__(self, ring: KeySource, reload: Callable[[Region], list[KemPrivateKey]]) -> None:
        self._ring = ring
        self._reload = reload
        self._openers: dict[Region, list[Opener]] = {}

    def __repr__(self) -> str:
        return f"_RegionOpeners(regions={[r.value for r in self._openers]})"

    def make(self, region: Region) -> Opener:
        opener = Opener(self._ring.opening_keys(KeyRole.REGION, region.value))
        self._openers.setdefault(region, []).append(opener)
        return opener

    async def refresh(self, directory: ForumDirectory) -> None:
        for region, openers in self._openers.items():
            allowed = directory.region_opening_kids(region.value)
            missing = allowed - openers[0].kids
            keys = []
            if missing:
                try:
                    keys = await asyncio.to_thread(self._reload, region)
                except DiefError as exc:
                    log.error("%s: new KEM keys not loaded (%s)", region.value, exc.message)
            for opener in openers:
                for kid in opener.kids - allowed:
                    opener.remove_key(kid)
                for key in keys:
                    if key.kid in allowed and key.kid not in opener.kids:
                        opener.add_key(key)
            if missing & {k.kid for k in keys}:
                log.info("%s: opening with the KEM keys of directory v%d", region.value,
                         directory.version)  # fmt: skip


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
    (*clock* tells it the day and the issue hour; the wall clock by default), issuing each
    region's route tables with its digests.

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
        self._holder: DirectoryHolder | None = None
        self._directory_feed = KafkaRecordFeed(
            settings.kafka, DIRECTORY_TOPIC, client_id="dief-aggregator"
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._excess: list[PseudonymExcess] = []
        self.observability.add_check("consumers", kafka_consumers_check(self._by_region))
        self.observability.add_check("database", self._telemetry.store)

    def __repr__(self) -> str:
        return f"AggregatorService(regions={[r.value for r in self._settings.regions]})"

    @property
    def directory(self) -> DirectoryHolder:
        """The signed directory the service holds (and follows while started)."""
        if self._holder is None:
            raise ConfigurationError("the aggregator is not started; call start() first")
        return self._holder

    def _digest_schedule(
        self,
        ring: KeySource,
        brokers: Mapping[Region, KafkaBroker],
        openers: _RegionOpeners,
        on_digests: PassHook | None,
    ) -> DigestSchedule:
        try:
            issuers = _DirectoryIssuers(
                ring,
                {r: KafkaRecordSink(broker, clock=self._clock) for r, broker in brokers.items()},
                self._settings,
                self._clock,
            )
        except (KeyringError, ConfigurationError) as exc:
            raise ConfigurationError(
                f"cannot issue digests: {exc.message} (DIEF_DIGEST_INTERVAL=0 runs the "
                "aggregators without issuing digests)"
            ) from exc
        # Openers of their own for lessons: they run in a worker thread.
        lessons = {r: openers.make(r) for r in brokers}
        publish = closed_period_publisher(self._store, issuers, openers=lessons)
        return DigestSchedule(
            list(brokers),
            self._telemetry.digests.timed(publish),
            interval=self._settings.digest_interval,
            clock=self._clock,
            on_pass=on_digests,
        )

    def _reload(self, ring: PartyView | SimulatedForum) -> Callable[[Region], list[KemPrivateKey]]:
        """Opens the region's keyring again (new KEM keys of a rotation)."""

        def reload(region: Region) -> list[KemPrivateKey]:
            if isinstance(ring, SimulatedForum):
                return ring.region(region.value).kem_keys()
            passphrase = self._passphrase.get_secret_value() if self._passphrase else None
            return RegionKeys.load(self._settings.keyring.path, passphrase=passphrase).kem_keys()

        return reload

    async def start(
        self, on_report: ReportHook | None = None, on_digests: PassHook | None = None
    ) -> None:
        """Start the endpoint (if it is the service's own), the consumers, the directory
        follower and, unless ``digest_interval`` is 0, the digest schedule (*on_digests*
        hears about every pass)."""
        settings = self._settings
        ring = settings.keyring.unlock(self._passphrase, "the region keys are", settings.directory)
        holder = self._holder = _holder(ring, settings.regions)
        feed = self._directory_feed
        follower = DirectoryFollower(feed, holder, wait=0.5)
        if holder.current is None:
            try:
                await _first_directory(follower, holder)
            finally:
                await feed.close()  # the follower starts it again
        openers = _RegionOpeners(ring, self._reload(ring))
        holder.on_change(lambda directory: self._spawn(openers.refresh(directory)))
        verifier = TokenVerifier(
            lambda cycle, region: holder.require().issuer_key(cycle, region),
            issued=lambda cycle, region: holder.require().tokens_issued(cycle, region),
            simulation=holder.require().simulation,
        )
        brokers = {
            r: make_broker(settings.kafka, client_id="dief-aggregator") for r in settings.regions
        }
        routes = make_broker(settings.kafka, client_id="dief-aggregator-routes")
        schedule = None
        if settings.digest_interval > 0:
            schedule = self._digest_schedule(ring, brokers, openers, on_digests)
        self.observability.readiness.starting()
        try:
            if self._serves:
                await self.observability.start()
            await self._store.start()
            self._register(brokers, openers, verifier, on_report)
            self._register_routes(routes, ring)
            try:
                await asyncio.gather(*(b.start() for b in self._brokers))
            except (KafkaError, OSError) as exc:
                raise BrokerError(
                    f"cannot start the aggregators on {settings.kafka.bootstrap}: "
                    f"{type(exc).__name__}"
                ) from exc
            await self._receipts.connect()  # the broker answered: so does this producer
        except BaseException:
            await self.stop()
            raise
        self._stopping.clear()
        self._spawn(follower.run(self._stopping))
        if schedule is not None:
            schedule.start()
            self._schedule = schedule
        self.observability.readiness.started()

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            await work

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _register(
        self,
        brokers: Mapping[Region, KafkaBroker],
        openers: _RegionOpeners,
        verifier: TokenVerifier,
        on_report: ReportHook | None,
    ) -> None:
        # One client per region (its own consumer group and DLQ producer), started in
        # parallel: group joins take seconds and would otherwise add up.
        for r, broker in brokers.items():
            aggregator = RegionAggregator(
                r,
                openers.make(r),
                self._store,
                KafkaDeadLetterSink(broker, r),
                credentials=verifier,
                start_month=self._settings.cycle_start_month,
                receipts=self._receipts,
            )

            def reported(region: Region, report: BatchReport) -> None:
                self._check_excess(verifier)
                if on_report is not None:
                    on_report(region, report)

            register_aggregators(
                broker,
                {r: aggregator},
                max_records=self._settings.max_batch,
                embedded=self._settings.kafka.embedded,
                on_report=reported,
                telemetry=self._telemetry,
            )
            self._brokers.append(broker)
            self._by_region[r.value] = broker

    def _register_routes(self, broker: KafkaBroker, ring: KeySource) -> None:
        """Each served region's route inbox, on a client of its own (its lag is not the
        cases topics')."""
        for r in self._settings.regions:
            inbox = RouteInbox(
                r,
                self._store,
                keys=ring.opening_keys(KeyRole.REGION, r.value),
                keys_for=lambda sender: ring.verify_keys(KeyRole.REGION, sender.value),
            )
            register_route_inbox(broker, inbox, r, embedded=self._settings.kafka.embedded)
        self._brokers.append(broker)
        self._by_region["routes"] = broker

    def _check_excess(self, verifier: TokenVerifier) -> None:
        """Warn when more distinct pseudonyms verified than the directory says were issued
        (a pair at a time: the region and cycle, never a pseudonym)."""
        excess = verifier.over_issued()
        if excess == self._excess:
            return
        self._excess = excess
        self._telemetry.metrics.pseudonyms_over_issued(excess)
        for e in excess:
            log.warning(
                "%s %s: %d distinct contributors verified, the directory says %d tokens "
                "were issued",
                e.region,
                e.cycle,
                e.pseudonyms,
                e.issued,
            )

    async def stop(self) -> None:
        self.observability.readiness.stopping()
        self._stopping.set()
        if self._schedule is not None:
            await self._schedule.stop()
            self._schedule = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
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


class _DirectoryIssuers(Mapping[Region, DigestIssuer]):
    """Each region's digest issuer, made again when the directory changes (the
    Secretariat's KEM keys as the directory lists them), keeping its route issuer (what it
    sent). Made at once for every region, so a missing key fails at start."""

    def __init__(
        self,
        ring: KeySource,
        sinks: Mapping[Region, KafkaRecordSink],
        settings: AggregatorSettings,
        clock: Clock | None,
    ) -> None:
        self._ring = ring
        self._sinks = dict(sinks)
        self._settings = settings
        self._clock = clock
        self._catalogue = load_catalogue()
        self._made: dict[Region, tuple[int, DigestIssuer]] = {}
        for region in self._sinks:
            self[region]

    def __repr__(self) -> str:
        return f"_DirectoryIssuers(regions={[r.value for r in self._sinks]})"

    def __getitem__(self, region: Region) -> DigestIssuer:
        version = self._ring.directory.version
        held = self._made.get(region)
        if held is not None and held[0] == version:
            return held[1]
        issuer = issuer_from_keyring(
            self._ring,
            region,
            self._sinks[region],
            catalogue=self._catalogue,
            k_meeting=self._settings.k_meeting,
            start_month=self._settings.cycle_start_month,
            clock=self._clock,
            routes=True,
            k_csp=self._ring.directory.parameters.k_csp,
            route_issuer=held[1].routes if held is not None else None,
        )
        self._made[region] = (version, issuer)
        return issuer

    def __iter__(self) -> Iterator[Region]:
        return iter(self._sinks)

    def __len__(self) -> int:
        return len(self._sinks)


def create_aggregator(settings: AggregatorSettings) -> AggregatorService:
    """The app factory: settings are read once by the caller and passed in."""
    return AggregatorService(settings, settings.keyring.read_passphrase())

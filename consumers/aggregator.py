"""The regional aggregator service: one FastStream batch subscriber per region.

Thin wiring only: each batch is copied into :class:`dief.aggregator.InboundRecord` values
and handed to :class:`dief.aggregator.RegionAggregator` (the subscriptions are in
``_aggregator_subscriptions``; the keys, directory and measurements in :mod:`dief.aggregator`,
the digest issuers kept to the directory in :mod:`dief.digests`). Offsets are committed by
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
from typing import TYPE_CHECKING

from aiokafka.errors import KafkaError

from consumers._aggregator_subscriptions import (
    ReportHook,
    group_id,
    register_aggregators,
    register_route_inbox,
    routes_group_id,
)
from dief.aggregator import (
    AggregatorTelemetry,
    BatchReport,
    RegionAggregator,
    RegionOpeners,
    first_directory,
    region_holder,
)
from dief.aggregator.store import CaseStore, ReleasedBulletins
from dief.bulletins import (
    ContributorRelease,
    HeldSummaries,
    RegionBulletins,
    StoreDocuments,
    bulletin_audit_check,
)
from dief.credentials import PseudonymExcess, TokenVerifier
from dief.digests import (
    DigestSchedule,
    DirectoryIssuers,
    PassHook,
    closed_period_publisher,
    issuer_from_keyring,
)
from dief.exceptions import BrokerError, ConfigurationError, KeyringError
from dief.kafka import (
    CSP_TOPIC,
    DEFAULT_SESSION_TIMEOUT_MS,
    DIRECTORY_TOPIC,
    EMBEDDED_SESSION_TIMEOUT_MS,
    KafkaDeadLetterSink,
    KafkaReceiptSink,
    KafkaRecordFeed,
    KafkaRecordSink,
    TopicSnapshot,
    explain_connection_failure,
    make_broker,
    read_to_end,
)
from dief.keyring import (
    DirectoryFollower,
    DirectoryHolder,
    KeyRole,
    KeySource,
    PartyView,
    RegionKeys,
    SimulatedForum,
)
from dief.observability import Observability, kafka_consumers_check
from dief.routes import RouteInbox

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from faststream.kafka import KafkaBroker
    from pydantic import SecretStr

    from dief.crypto import KemPrivateKey
    from dief.seams import Clock
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
        #: bulletins (DESIGN §13), when ``bulletin_interval`` is set: made in start()
        self.bulletins: RegionBulletins | None = None
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
        openers: RegionOpeners,
        on_digests: PassHook | None,
    ) -> DigestSchedule:
        try:
            issuers = DirectoryIssuers(
                ring,
                {r: KafkaRecordSink(broker, clock=self._clock) for r, broker in brokers.items()},
                k_meeting=self._settings.k_meeting,
                start_month=self._settings.cycle_start_month,
                clock=self._clock,
                make=issuer_from_keyring,  # looked up here: tests replace it
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
        holder = self._holder = region_holder(ring, settings.regions)
        feed = self._directory_feed
        follower = DirectoryFollower(feed, holder, wait=0.5)
        if holder.current is None:
            try:
                await first_directory(follower, holder)
            finally:
                await feed.close()  # the follower starts it again
        openers = RegionOpeners(ring, self._reload(ring))
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
        try:  # noqa: PLW0717  a service's start: any failure in it stops what was started, then re-raises
            if self._serves:
                await self.observability.start()
            await self._store.start()
            self._bulletins_for(ring, holder, brokers)
            if self.bulletins is not None:
                await self.bulletins.recall(self._store.stored_cases)  # before any is applied
            self._register(brokers, openers, verifier, on_report)
            self._register_routes(routes, ring)
            try:
                await asyncio.gather(*(b.start() for b in self._brokers))
            except (KafkaError, OSError) as exc:
                raise BrokerError(
                    explain_connection_failure(
                        settings.kafka, [exc], doing="start the aggregators on"
                    )
                ) from exc
            await self._receipts.connect()  # the broker answered: so does this producer
        except BaseException:
            await self.stop()
            raise
        self._stopping.clear()
        self._spawn(follower.run(self._stopping))
        if self.bulletins is not None:
            self._spawn(self.bulletins.run(self._stopping, settings.kafka))
            if settings.bulletin_audit_folder is not None:  # said once running
                log.info(
                    "the bulletin release audit reads the documents in "
                    "DIEF_BULLETIN_AUDIT_FOLDER instead of the aggregator's own"
                )
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
        openers: RegionOpeners,
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
                applied=self.bulletins.offer if self.bulletins is not None else None,
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
                time_limit=self._settings.batch_time_limit,
            )
            self._brokers.append(broker)
            self._by_region[r.value] = broker

    def _bulletins_for(
        self, ring: KeySource, holder: DirectoryHolder, brokers: Mapping[Region, KafkaBroker]
    ) -> None:
        """The served regions' bulletins (DESIGN §13), if ``bulletin_interval`` is set (10
        minutes by default): released under :class:`~dief.bulletins.ContributorRelease` on
        this store and the audit check of :func:`~dief.bulletins.bulletin_audit_check` over
        the aggregator's own documents (its digests, the summaries on ``csp.reporting``;
        ``bulletin_audit_folder`` instead, if set), every bulletin released kept in the
        store's ``released_bulletins`` (docs/bulletins.md, "Release rule")."""
        settings = self._settings
        if settings.bulletin_interval <= 0 or not brokers:
            return

        async def read_summaries(start: Mapping[tuple[str, int], int]) -> TopicSnapshot:
            return await read_to_end(
                settings.kafka, [CSP_TOPIC], start=start, client_id="dief-aggregator-summaries"
            )

        summaries = HeldSummaries(
            read_summaries, lambda: holder.require().verify_keys(KeyRole.SECRETARIAT)
        )
        documents = StoreDocuments(
            self._store,
            k_meeting=settings.k_meeting,
            k_csp=lambda: holder.require().parameters.k_csp,
            start_month=settings.cycle_start_month,
            summaries=summaries,
        )
        ledger = ReleasedBulletins(self._store)
        audit = bulletin_audit_check(
            settings.bulletin_audit_folder, documents=documents, ledger=ledger
        )
        self.bulletins = RegionBulletins(
            [r.value for r in settings.regions],
            signing_key=lambda region: ring.signing_key(KeyRole.REGION, region),
            directory=holder.require,
            sink=KafkaRecordSink(next(iter(brokers.values())), clock=self._clock),
            release=ContributorRelease(self._store, audit=audit),
            any_case=settings.bulletins_any_case,
            interval=settings.bulletin_interval,
            jitter=settings.bulletin_jitter,
            clock=self._clock,
            ledger=ledger,
        )

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
        """Stop the schedule, the tasks and every client (in parallel), then the store."""
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

    async def run(self, stop: asyncio.Event) -> None:  # noqa: PLR6301  ManagedService.run: the subscribers work in the background
        """Wait for *stop* (the work is the subscribers', in the background)."""
        await stop.wait()


def create_aggregator(settings: AggregatorSettings) -> AggregatorService:
    """The app factory: settings are read once by the caller and passed in."""
    return AggregatorService(settings, settings.keyring.read_passphrase())

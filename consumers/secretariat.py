"""The Secretariat reporter service: one FastStream batch subscriber on ``dief.digests``.

Thin wiring only: each batch is copied into :class:`dief.aggregator.InboundRecord` values and
handed to :class:`dief.secretariat.Secretariat`, which opens and verifies the digests, keeps the
latest version per (region, period), dead-letters refusals to ``dief.<region>.dlq``, and
publishes signed CSP summaries to ``csp.reporting``. Offsets are committed by FastStream
(``AckPolicy.NACK_ON_ERROR``) only after the handler returned; on a database or broker
failure the handler backs off and raises, and the batch comes again (DESIGN §8).

Keys: the Secretariat's own keyring (a :class:`~dief.keyring.PartyView` over
:class:`~dief.keyring.SecretariatKeys`, pinned to the forum root like every party; its own
current directory if no directory file is given) or, in a simulation, the forum's
Secretariat. Region signing keys that verify digests come from the signed directory.

The credential issuer (DESIGN §5 ⚑) runs in the same process: an
:class:`~dief.credentials.IssuerService` in the consumer group ``dief-issuer`` on
``dief.credentials.requests``, holding the issuer keys the Secretariat's state lists (keys
made later, e.g. for a new cycle, are taken while running), the registry by key id
(:func:`~dief.credentials.registrations_of`), its ledger (:class:`IssuanceStore`) in the
Secretariat's database, and the token counts written to the state for the next directory.
With ``DIEF_PUBLISH_DIRECTORY=true`` the Secretariat's current signed directory is published
on ``dief.directory`` at start, and each newer version it issues while running, so every
party's follower picks it up.

Operability (docs/architecture.md): the service counts digests received by outcome and
refused by reason, summaries issued and batch durations on a registry of its own, and
serves ``/metrics``, ``/healthz`` and ``/readyz`` when ``DIEF_METRICS__PORT`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from aiokafka.errors import KafkaError

from consumers._secretariat_keys import IssuerKeys, OwnKeys, own_keys
from dief.catalogue import load_catalogue
from dief.credentials import (
    IssuanceStore,
    Issuer,
    IssuerService,
    register_issuer,
    registrations_of,
)
from dief.crypto import Opener
from dief.digests import DIGEST_SCHEMA
from dief.exceptions import BrokerError, DiefError, StorageError
from dief.kafka import (
    DIGESTS_TOPIC,
    KafkaDeadLetterSink,
    KafkaRecordSink,
    explain_connection_failure,
    make_broker,
    subscribe_batches,
)
from dief.keyring import (
    KeyRole,
    KeySource,
    PartyView,
    SecretariatKeys,
    SimulatedForum,
    publish_directory,
)
from dief.observability import (
    Observability,
    SecretariatMetrics,
    StoreHealth,
    kafka_consumers_check,
)
from dief.periods import DEFAULT_CYCLE_START_MONTH
from dief.seams import Backoff, InboundRecord, RecordSink
from dief.secretariat import (
    GroupKeyIssuer,
    GroupKeyStore,
    Secretariat,
    SecretariatConfig,
    SecretariatReport,
    SecretariatStore,
    SummaryHook,
)
from dief.vocab import Region
from dief.wire import TYPE_DIGEST

if TYPE_CHECKING:
    from pathlib import Path

    from faststream.kafka import KafkaBroker
    from pydantic import SecretStr

    from dief.settings import SecretariatSettings

__all__ = [
    "GROUP_ID",
    "ReportHook",
    "SecretariatService",
    "SecretariatTelemetry",
    "create_secretariat",
    "register_secretariat",
    "secretariat_from_keyring",
]

log = logging.getLogger("dief.secretariat")

GROUP_ID = "dief-secretariat"
ReportHook = Callable[[SecretariatReport], None]
BatchHandler = Callable[[Sequence[InboundRecord]], Awaitable[SecretariatReport]]
#: Seconds between looks at the Secretariat's state for new issuer keys and directories.
WATCH_SECONDS = 5.0


class SecretariatTelemetry:
    """What the Secretariat measures, on *observability*'s registry
    (:class:`SecretariatMetrics`), and whether its store answers (:class:`StoreHealth`,
    probed with a read of one period's digest versions)."""

    def __init__(self, observability: Observability, store: SecretariatStore) -> None:
        self.metrics = SecretariatMetrics(observability.registry)
        self.store = StoreHealth(lambda: store.versions("CSP1"))
        self._withheld = store.withheld

    def __repr__(self) -> str:
        return "SecretariatTelemetry()"

    async def started(self) -> None:
        """Set the gauge of withheld cycles from the store (once it is started): after a
        restart it says what is withheld before the first batch, not 0."""
        self.metrics.withheld_now.set(len(await self._withheld()))

    def measured(self, handle: BatchHandler) -> BatchHandler:
        """*handle*, measured: outcomes, refusals, summaries, duration and failures."""

        async def measured_handle(records: Sequence[InboundRecord]) -> SecretariatReport:
            started = time.perf_counter()
            try:
                report = await handle(records)
            except StorageError as exc:
                self.store.failed(exc.message)
                self.metrics.batch_failed()
                raise
            except Exception:
                self.metrics.batch_failed()
                raise
            self.store.succeeded()
            self.metrics.batch_handled(
                report.outcomes,
                len(report.summaries),
                time.perf_counter() - started,
                withheld=len(report.withheld),
                withheld_now=report.withheld_now,
            )
            return report

        return measured_handle


def register_secretariat(  # noqa: PLR0913  public keyword signature, used by dief.pipeline and tests
    broker: KafkaBroker,
    secretariat: Secretariat,
    *,
    max_records: int = 500,
    embedded: bool = False,
    on_report: ReportHook | None = None,
    backoff: Backoff | None = None,
    telemetry: SecretariatTelemetry | None = None,
) -> None:
    """Subscribe *broker* to ``dief.digests`` (group ``dief-secretariat``) with *secretariat*
    (measured by *telemetry* if given)."""
    handle: BatchHandler = secretariat.handle
    if telemetry is not None:
        handle = telemetry.measured(handle)
    subscribe_batches(
        broker,
        DIGESTS_TOPIC,
        group_id=GROUP_ID,
        title="secretariat",
        max_records=max_records,
        embedded=embedded,
        backoff=backoff or Backoff(),
        handle=handle,
        on_result=on_report,
        log=log,
    )


def secretariat_from_keyring(  # noqa: PLR0913  public keyword signature, used by dief.pipeline and tests
    ring: KeySource,
    store: SecretariatStore,
    broker: KafkaBroker,
    *,
    k_csp: int = 3,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
    regions: Sequence[Region] = tuple(Region),
    on_summary: SummaryHook | None = None,
    publish_complete: bool = True,
) -> Secretariat:
    """A :class:`Secretariat` with the keys of an unlocked keyring, publishing on *broker*
    (each complete cycle's summary at once, unless not *publish_complete*)."""
    return Secretariat(
        store,
        Opener(ring.opening_keys(KeyRole.SECRETARIAT), schemas={TYPE_DIGEST: {DIGEST_SCHEMA}}),
        lambda region: ring.verify_keys(KeyRole.REGION, region.value),
        ring.signing_key(KeyRole.SECRETARIAT),
        dead_letters=lambda region: KafkaDeadLetterSink(broker, region),
        sink=KafkaRecordSink(broker),
        config=SecretariatConfig(
            catalogue=load_catalogue(),
            k_csp=k_csp,
            start_month=start_month,
            regions=tuple(regions),
            publish_complete=publish_complete,
        ),
        on_summary=on_summary,
    )


class SecretariatService:
    """``dief secretariat``: receive digests, publish signed CSP summaries, answer credential
    requests until stopped (and publish the directory with ``publish_directory``).

    *settings* give the k, the cycle start month and the regions whose digests of a cycle a
    summary waits for (``DIEF_K_CSP``, ``DIEF_CYCLE_START_MONTH``, ``DIEF_REGIONS``).

    The service measures itself on *observability* (by default its own, from
    ``settings.metrics``, served from :meth:`start` to :meth:`stop`; one given by the
    caller is served by the caller). It is ready while started, its consumer holds the
    digests partitions and its database answers.

    With ``publishes_summaries=False`` (the Secretariat's portal runs it, ``dief web --party
    secretariat``) it keeps the digests but publishes no summary by itself: each publication
    is released by a second person in the portal, through :attr:`secretariat`.
    """

    def __init__(
        self,
        settings: SecretariatSettings,
        passphrase: SecretStr | None,
        *,
        observability: Observability | None = None,
        publishes_summaries: bool = True,
    ) -> None:
        self._settings = settings
        self._publishes_summaries = publishes_summaries
        self._passphrase = passphrase
        url = settings.database_url.get_secret_value()
        self._store = SecretariatStore(url)
        self._issuance = IssuanceStore(url)
        # the bulletin group key release of each directory version (DESIGN §4, §13)
        self._group_keys = GroupKeyStore(url)
        self._group_issuer: GroupKeyIssuer | None = None
        self._secretariat: Secretariat | None = None
        self._own_folder: Path | None = None
        self._broker: KafkaBroker | None = None
        self._serves = observability is None
        self.observability = (
            observability if observability is not None else Observability(settings.metrics)
        )
        self._telemetry = SecretariatTelemetry(self.observability, self._store)
        self._brokers: dict[str, KafkaBroker] = {}
        self._watch: asyncio.Task[None] | None = None
        self._published = 0  # the directory version last published on dief.directory
        self.observability.add_check("consumers", kafka_consumers_check(self._brokers))
        self.observability.add_check("database", self._telemetry.store)

    def __repr__(self) -> str:
        regions = [r.value for r in self._settings.regions]
        return f"SecretariatService(k_csp={self._settings.k_csp}, regions={regions})"

    # -- what a portal in the same process uses (dief web --party secretariat) ------------

    @property
    def secretariat(self) -> Secretariat | None:
        """The running :class:`Secretariat` (its store, signer and sink), from :meth:`start`
        to :meth:`stop`: a summary it publishes goes the service's own way."""
        return self._secretariat

    @property
    def group_key_issuer(self) -> GroupKeyIssuer | None:
        """The running bulletin group key issuer (its ``publish`` releases a directory
        version's group key), from :meth:`start` to :meth:`stop`."""
        return self._group_issuer

    @property
    def sink(self) -> RecordSink | None:
        """A sink on the running service's broker, from :meth:`start` to :meth:`stop`."""
        return KafkaRecordSink(self._broker) if self._broker is not None else None

    @property
    def keyring_folder(self) -> Path | None:
        """The Secretariat's own keyring folder (a simulated forum's ``secretariat``
        folder), known from :meth:`start`."""
        return self._own_folder

    def _reload(self, ring: PartyView | SimulatedForum) -> Callable[[], SecretariatKeys]:
        def reload() -> SecretariatKeys:
            if isinstance(ring, SimulatedForum):
                return ring.secretariat()
            passphrase = self._passphrase.get_secret_value() if self._passphrase else None
            return SecretariatKeys.load(self._settings.keyring.path, passphrase=passphrase)

        return reload

    def _issuer(
        self, ring: PartyView | SimulatedForum, own: OwnKeys, broker: KafkaBroker
    ) -> tuple[IssuerService, IssuerKeys]:
        sec = own.secretariat
        issuer = Issuer([], registrations_of(sec), self._issuance)
        keys = IssuerKeys(issuer, self._reload(ring), simulation=own.holder.require().simulation)
        keys.load(sec)
        service = IssuerService(
            issuer,
            opening_keys=lambda: ring.opening_keys(KeyRole.SECRETARIAT),
            registrations=registrations_of(sec),
            sink=KafkaRecordSink(broker),
            on_counts=sec.set_token_counts,
        )
        return service, keys

    async def start(
        self, on_report: ReportHook | None = None, on_summary: SummaryHook | None = None
    ) -> None:
        """Unlock the keyring, start the store, the issuance and the subscriber (*on_report*
        after each batch, *on_summary* with each summary published); on a failure, stop
        what was started."""
        settings = self._settings
        ring = settings.keyring.unlock(
            self._passphrase, "the Secretariat keys are", settings.directory
        )
        own = own_keys(ring)
        folder = settings.keyring.path
        self._own_folder = folder / "secretariat" if isinstance(ring, SimulatedForum) else folder
        self.observability.readiness.starting()
        broker: KafkaBroker | None = None
        try:  # noqa: PLW0717  a service's start: any failure in it stops what was started, then re-raises
            if self._serves:
                await self.observability.start()
            await self._store.start()
            await self._telemetry.started()
            await self._issuance.start()
            await self._group_keys.start()
            broker = make_broker(settings.kafka, client_id="dief-secretariat")
            secretariat = secretariat_from_keyring(
                ring,
                self._store,
                broker,
                k_csp=settings.k_csp,
                start_month=settings.cycle_start_month,
                regions=settings.regions,
                on_summary=on_summary,
                publish_complete=self._publishes_summaries,
            )
            register_secretariat(
                broker,
                secretariat,
                embedded=settings.kafka.embedded,
                on_report=on_report,
                telemetry=self._telemetry,
            )
            issuer, issuer_keys = self._issuer(ring, own, broker)
            register_issuer(broker, issuer, embedded=settings.kafka.embedded)
            try:
                await broker.start()
            except (KafkaError, OSError) as exc:
                raise BrokerError(
                    explain_connection_failure(
                        settings.kafka, [exc], doing="start the Secretariat on"
                    )
                ) from exc
            publishes = settings.publish_directory
            if publishes:
                await self._publish(own, KafkaRecordSink(broker))
            self._group_issuer = GroupKeyIssuer(
                self._group_keys,
                lambda d: own.secretariat.ring.signing_key(d.document.certificate.subject_kid),
                KafkaRecordSink(broker),
            )
            await self._publish_group_key(own)
        except BaseException:
            if broker is not None:
                await broker.stop()
            await self.stop()
            raise
        self._broker = broker
        self._secretariat = secretariat
        self._brokers["digests"] = broker
        self._watch = asyncio.create_task(
            self._watch_state(own, issuer_keys, KafkaRecordSink(broker)), name="secretariat-watch"
        )
        self.observability.readiness.started()

    async def _publish(self, own: OwnKeys, sink: KafkaRecordSink) -> None:
        """Publish the Secretariat's current directory if it is newer than the last one."""
        if own.secretariat.state().version <= self._published:
            return
        current = own.secretariat.current_directory()
        if current is None or current.version <= self._published:
            return
        own.holder.offer(current.raw)
        await publish_directory(sink, current)
        self._published = current.version
        log.info("forum directory v%d published", current.version)

    async def _publish_group_key(self, own: OwnKeys) -> None:
        """Publish the bulletin group key release of the directory held (made once per
        version and kept; the same release again at each start). A failure is logged and
        tried again at the next look (bulletins wait for it; nothing is lost)."""
        issuer = self._group_issuer
        directory = own.holder.current
        held = directory.version if directory is not None else 0
        if own.secretariat.state().version > max(held, issuer.published if issuer else 0):
            # a version the Secretariat issued since (published here or not)
            directory = own.secretariat.current_directory() or directory
        if issuer is None or directory is None or directory.version <= issuer.published:
            return
        try:
            release = await issuer.publish(directory)
        except (DiefError, KafkaError, OSError) as exc:
            log.warning(
                "the bulletin group key of directory v%d was not published (%s); will retry",
                directory.version,
                type(exc).__name__,
            )
            return
        log.info(
            "bulletin group key of directory v%d published (%d node copies)",
            release.directory_version,
            len(release.wrapped),
        )

    async def _watch_state(
        self, own: OwnKeys, issuer_keys: IssuerKeys, sink: KafkaRecordSink
    ) -> None:
        """Every :data:`WATCH_SECONDS`: take new issuer keys, publish a newer directory."""
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:  # noqa: PLW0717  one round of the watch: any failure waits for the next round
                added = await issuer_keys.sync(own.secretariat)
                if added:
                    log.info("the issuer took %d new issuer keys", added)
                if self._settings.publish_directory:
                    await self._publish(own, sink)
                await self._publish_group_key(own)
            except (DiefError, OSError) as exc:
                log.warning("the Secretariat's state was not read (%s); will retry", exc)

    async def stop(self) -> None:
        """Stop the subscriber, the issuance and the store; then the metrics server."""
        self.observability.readiness.stopping()
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        self._brokers.clear()
        self._secretariat = None
        self._group_issuer = None
        if self._broker is not None:
            await self._broker.stop()
            self._broker = None
        await self._issuance.stop()
        await self._group_keys.stop()
        await self._store.stop()
        self.observability.readiness.stopped()
        if self._serves:
            await self.observability.stop()

    async def run(self, stop: asyncio.Event) -> None:  # noqa: PLR6301  ManagedService.run: the subscriber works in the background
        """Wait for *stop* (the work is the subscriber's, in the background)."""
        await stop.wait()


def create_secretariat(settings: SecretariatSettings) -> SecretariatService:
    """The app factory: settings are read once by the caller and passed in."""
    return SecretariatService(settings, settings.keyring.read_passphrase())

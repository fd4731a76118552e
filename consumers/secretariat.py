"""The Secretariat reporter service: one FastStream batch subscriber on ``dief.digests``.

Thin wiring only: each batch is copied into :class:`dief.aggregator.InboundRecord` values and
handed to :class:`dief.secretariat.Secretariat`, which opens and verifies the digests, keeps the
latest version per (region, period), dead-letters refusals to ``dief.<region>.dlq``, and
publishes signed CSP summaries to ``csp.reporting``. Offsets are committed by FastStream
(``AckPolicy.NACK_ON_ERROR``) only after the handler returned; on a database or broker
failure the handler backs off and raises, and the batch comes again (DESIGN §8).

Operability (docs/architecture.md): the service counts digests received by outcome and
refused by reason, summaries issued and batch durations on a registry of its own, and
serves ``/metrics``, ``/healthz`` and ``/readyz`` when ``DIEF_METRICS__PORT`` is set.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from pydantic import SecretStr

from dief.catalogue import load_catalogue
from dief.crypto import Opener
from dief.digests import DIGEST_SCHEMA
from dief.exceptions import BrokerError, StorageError
from dief.kafka import (
    DIGESTS_TOPIC,
    KafkaDeadLetterSink,
    KafkaRecordSink,
    make_broker,
    subscribe_batches,
)
from dief.keyring import KeyRole, KeySource
from dief.observability import (
    Observability,
    SecretariatMetrics,
    StoreHealth,
    kafka_consumers_check,
)
from dief.periods import DEFAULT_CYCLE_START_MONTH
from dief.seams import Backoff, InboundRecord
from dief.secretariat import (
    Secretariat,
    SecretariatConfig,
    SecretariatReport,
    SecretariatStore,
    SummaryHook,
)
from dief.settings import SecretariatSettings
from dief.vocab import Region
from dief.wire import TYPE_DIGEST

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


class SecretariatTelemetry:
    """What the Secretariat measures, on *observability*'s registry
    (:class:`SecretariatMetrics`), and whether its store answers (:class:`StoreHealth`,
    probed with a read of one period's digest versions)."""

    def __init__(self, observability: Observability, store: SecretariatStore) -> None:
        self.metrics = SecretariatMetrics(observability.registry)
        self.store = StoreHealth(lambda: store.versions("CSP1"))

    def __repr__(self) -> str:
        return "SecretariatTelemetry()"

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
                report.outcomes, len(report.summaries), time.perf_counter() - started
            )
            return report

        return measured_handle


def register_secretariat(
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


def secretariat_from_keyring(
    ring: KeySource,
    store: SecretariatStore,
    broker: KafkaBroker,
    *,
    k_csp: int = 3,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
    regions: Sequence[Region] = tuple(Region),
    on_summary: SummaryHook | None = None,
) -> Secretariat:
    """A :class:`Secretariat` with the keys of an unlocked keyring, publishing on *broker*."""
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
        ),
        on_summary=on_summary,
    )


class SecretariatService:
    """``dief secretariat``: receive digests, publish signed CSP summaries until stopped.

    *settings* give the k, the cycle start month and the regions whose digests of a cycle a
    summary waits for (``DIEF_K_CSP``, ``DIEF_CYCLE_START_MONTH``, ``DIEF_REGIONS``).

    The service measures itself on *observability* (by default its own, from
    ``settings.metrics``, served from :meth:`start` to :meth:`stop`; one given by the
    caller is served by the caller). It is ready while started, its consumer holds the
    digests partitions and its database answers.
    """

    def __init__(
        self,
        settings: SecretariatSettings,
        passphrase: SecretStr | None,
        *,
        observability: Observability | None = None,
    ) -> None:
        self._settings = settings
        self._passphrase = passphrase
        self._store = SecretariatStore(settings.database_url.get_secret_value())
        self._broker: KafkaBroker | None = None
        self._serves = observability is None
        self.observability = (
            observability if observability is not None else Observability(settings.metrics)
        )
        self._telemetry = SecretariatTelemetry(self.observability, self._store)
        self._brokers: dict[str, KafkaBroker] = {}
        self.observability.add_check("consumers", kafka_consumers_check(self._brokers))
        self.observability.add_check("database", self._telemetry.store)

    def __repr__(self) -> str:
        regions = [r.value for r in self._settings.regions]
        return f"SecretariatService(k_csp={self._settings.k_csp}, regions={regions})"

    async def start(
        self, on_report: ReportHook | None = None, on_summary: SummaryHook | None = None
    ) -> None:
        ring = self._settings.keyring.unlock(self._passphrase, "the Secretariat keys are")
        self.observability.readiness.starting()
        broker: KafkaBroker | None = None
        try:
            if self._serves:
                await self.observability.start()
            await self._store.start()
            broker = make_broker(self._settings.kafka, client_id="dief-secretariat")
            secretariat = secretariat_from_keyring(
                ring,
                self._store,
                broker,
                k_csp=self._settings.k_csp,
                start_month=self._settings.cycle_start_month,
                regions=self._settings.regions,
                on_summary=on_summary,
            )
            register_secretariat(
                broker,
                secretariat,
                embedded=self._settings.kafka.embedded,
                on_report=on_report,
                telemetry=self._telemetry,
            )
            try:
                await broker.start()
            except (KafkaError, OSError) as exc:
                raise BrokerError(
                    f"cannot start the Secretariat on {self._settings.kafka.bootstrap}: "
                    f"{type(exc).__name__}"
                ) from exc
        except BaseException:
            if broker is not None:
                await broker.stop()
            await self.stop()
            raise
        self._broker = broker
        self._brokers["digests"] = broker
        self.observability.readiness.started()

    async def stop(self) -> None:
        self.observability.readiness.stopping()
        self._brokers.clear()
        if self._broker is not None:
            await self._broker.stop()
            self._broker = None
        await self._store.stop()
        self.observability.readiness.stopped()
        if self._serves:
            await self.observability.stop()

    async def run(self, stop: asyncio.Event) -> None:
        await stop.wait()


def create_secretariat(settings: SecretariatSettings) -> SecretariatService:
    """The app factory: settings are read once by the caller and passed in."""
    return SecretariatService(settings, settings.keyring.read_passphrase())

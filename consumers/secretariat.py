"""The Secretariat reporter service: one FastStream batch subscriber on ``dief.digests``.

Thin wiring only: each batch is copied into :class:`dief.aggregator.InboundRecord` values and
handed to :class:`dief.secretariat.Secretariat`, which opens and verifies the digests, keeps the
latest version per (region, period), dead-letters refusals to ``dief.<region>.dlq``, and
publishes signed CSP summaries to ``csp.reporting``. Offsets are committed by FastStream
(``AckPolicy.NACK_ON_ERROR``) only after the handler returned; on a database or broker
failure the handler backs off and raises, and the batch comes again (DESIGN §8).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from pydantic import SecretStr

from dief.catalogue import load_catalogue
from dief.crypto import Opener
from dief.digests import DIGEST_SCHEMA
from dief.exceptions import BrokerError
from dief.kafka import (
    DIGESTS_TOPIC,
    KafkaDeadLetterSink,
    KafkaRecordSink,
    make_broker,
    subscribe_batches,
)
from dief.keyring import Keyring, KeyRole
from dief.periods import DEFAULT_CYCLE_START_MONTH
from dief.seams import Backoff
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
    "create_secretariat",
    "register_secretariat",
    "secretariat_from_keyring",
]

log = logging.getLogger("dief.secretariat")

GROUP_ID = "dief-secretariat"
ReportHook = Callable[[SecretariatReport], None]


def register_secretariat(
    broker: KafkaBroker,
    secretariat: Secretariat,
    *,
    max_records: int = 500,
    embedded: bool = False,
    on_report: ReportHook | None = None,
    backoff: Backoff | None = None,
) -> None:
    """Subscribe *broker* to ``dief.digests`` (group ``dief-secretariat``) with *secretariat*."""
    subscribe_batches(
        broker,
        DIGESTS_TOPIC,
        group_id=GROUP_ID,
        title="secretariat",
        max_records=max_records,
        embedded=embedded,
        backoff=backoff or Backoff(),
        handle=secretariat.handle,
        on_result=on_report,
        log=log,
    )


def secretariat_from_keyring(
    ring: Keyring,
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
    """

    def __init__(self, settings: SecretariatSettings, passphrase: SecretStr | None) -> None:
        self._settings = settings
        self._passphrase = passphrase
        self._store = SecretariatStore(settings.database_url.get_secret_value())
        self._broker: KafkaBroker | None = None

    def __repr__(self) -> str:
        regions = [r.value for r in self._settings.regions]
        return f"SecretariatService(k_csp={self._settings.k_csp}, regions={regions})"

    async def start(
        self, on_report: ReportHook | None = None, on_summary: SummaryHook | None = None
    ) -> None:
        ring = self._settings.keyring.unlock(self._passphrase, "the Secretariat keys are")
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
            broker, secretariat, embedded=self._settings.kafka.embedded, on_report=on_report
        )
        try:
            await broker.start()
        except (KafkaError, OSError) as exc:
            await broker.stop()
            await self._store.stop()
            raise BrokerError(
                f"cannot start the Secretariat on {self._settings.kafka.bootstrap}: "
                f"{type(exc).__name__}"
            ) from exc
        except BaseException:
            await broker.stop()
            await self._store.stop()
            raise
        self._broker = broker

    async def stop(self) -> None:
        if self._broker is not None:
            await self._broker.stop()
            self._broker = None
        await self._store.stop()

    async def run(self, stop: asyncio.Event) -> None:
        await stop.wait()


def create_secretariat(settings: SecretariatSettings) -> SecretariatService:
    """The app factory: settings are read once by the caller and passed in."""
    return SecretariatService(settings, settings.keyring.read_passphrase())

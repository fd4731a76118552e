"""Helpers for the digest and Secretariat tests: keys without a keyring, an issuer and a
Secretariat on the fakes of :mod:`dief.testing`, stores filled with random histories.

Import with ``from tests.unit.secretariat_support import ...`` (tests are packages). No
tests here.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dief.catalogue import load_catalogue
from dief.crypto import KemPrivateKey, Opener, SigningKey, VerifyKey
from dief.digests import DigestIssuer
from dief.seams import InboundRecord
from dief.secretariat import Secretariat, SecretariatConfig, SecretariatStore
from dief.testing import FakeClock, MemoryDeadLetterSink, MemoryRecordSink, SentRecord
from dief.vocab import Region
from tests.unit.reporting_support import History

if TYPE_CHECKING:
    from collections.abc import Iterable

    from dief.aggregator.store import CaseStore

CATALOGUE = load_catalogue()
#: months of CSP11 and CSP12 (September start)
MONTHS = (
    "2025-03", "2025-05", "2025-07", "2025-08",
    "2025-09", "2025-11", "2026-01", "2026-03", "2026-05", "2026-07", "2026-08",
)  # fmt: skip
ISSUED = datetime(2026, 9, 1, 10, tzinfo=UTC)
NOW = ISSUED.timestamp() + 125.0


class Keys:
    """Every signing key and the Secretariat KEM key, made once per test session."""

    def __init__(self) -> None:
        self.region_sign = {r: SigningKey.generate() for r in Region}
        self.secretariat_sign = SigningKey.generate()
        self.secretariat_kem = KemPrivateKey.generate()
        self.other_kem = KemPrivateKey.generate()

    def keys_for(self, region: Region) -> list[VerifyKey]:
        return [self.region_sign[region].verify_key]

    def opener(self) -> Opener:
        return Opener([self.secretariat_kem])


KEYS = Keys()


#: The Secretariat's dead-letter sinks, one per region (``dief.<region>.dlq``), made on first
#: use: pass ``dlqs.__getitem__`` as its ``dead_letters``.
RegionDlqs = defaultdict[Region, MemoryDeadLetterSink]


def region_dlqs() -> RegionDlqs:
    """Empty :data:`RegionDlqs`."""
    return defaultdict(MemoryDeadLetterSink)


def dlq_reasons(dlqs: RegionDlqs) -> dict[Region, list[str]]:
    """The reasons of the letters each region's DLQ got (regions with none left out)."""
    return {region: sink.reasons() for region, sink in dlqs.items() if sink.sent}


def issuer(
    region: Region, sink: MemoryRecordSink, *, k_meeting: int = 2, k_csp: int = 3
) -> DigestIssuer:
    return DigestIssuer(
        region=region,
        signer=KEYS.region_sign[region],
        recipients=(KEYS.secretariat_kem.public_key,),
        sink=sink,
        catalogue=CATALOGUE,
        k_meeting=k_meeting,
        clock=FakeClock(NOW),
        k_csp=k_csp,
    )


def secretariat(
    store: SecretariatStore,
    sink: MemoryRecordSink,
    dlqs: RegionDlqs,
    *,
    k_csp: int = 3,
    regions: Iterable[Region] = tuple(Region),
) -> Secretariat:
    return Secretariat(
        store,
        KEYS.opener(),
        KEYS.keys_for,
        KEYS.secretariat_sign,
        dead_letters=dlqs.__getitem__,
        sink=sink,
        config=SecretariatConfig(catalogue=CATALOGUE, k_csp=k_csp, regions=tuple(regions)),
    )


def records(sent: Iterable[SentRecord], *, start: int = 0) -> list[InboundRecord]:
    """Inbound records at consecutive offsets of partition 0 of each sent topic."""
    return [InboundRecord(s.topic, 0, start + i, s.key, s.value) for i, s in enumerate(sent)]


async def fill(
    store: CaseStore, seed: int, regions: Iterable[Region] = tuple(Region), *, nodes: int = 5
) -> None:
    """Random histories (with TLP:RED, revisions, withdrawals) in CSP11 and CSP12."""
    rng = random.Random(seed)
    for region in regions:
        history = History(region.value, rng, MONTHS, nodes=nodes, red_share=0.2)
        for _ in range(2):
            await store.apply_batch(region.value, history.batch(rng.randint(20, 40)))

"""Helpers for the digest and Secretariat tests: keys without a keyring, fake sinks, stores.

Import with ``from test_secretariat_support import ...`` (pytest puts ``tests/unit`` on the
path, as for ``test_reporting_support``).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from test_reporting_support import History

from dief.aggregator import DeadLetter, InboundRecord
from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.crypto import KemPrivateKey, Opener, SigningKey, VerifyKey
from dief.digests import DigestIssuer
from dief.secretariat import Secretariat, SecretariatConfig, SecretariatStore
from dief.vocab import Region

CATALOGUE = load_catalogue()
#: months of CSP11 and CSP12 (September start)
MONTHS = (
    "2025-03", "2025-05", "2025-07", "2025-08",
    "2025-09", "2025-11", "2026-01", "2026-03", "2026-05", "2026-07", "2026-08",
)  # fmt: skip
ISSUED = datetime(2026, 9, 1, 10, tzinfo=UTC)
NOW = ISSUED.timestamp() + 125.0


class FixedClock:
    def __init__(self, now: float = NOW) -> None:
        self.t = now

    def now(self) -> float:
        return self.t


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


def test_support_keys_are_distinct() -> None:
    kids = {k.kid for k in KEYS.region_sign.values()} | {KEYS.secretariat_sign.kid}
    assert len(kids) == len(Region) + 1


@dataclass
class Sent:
    topic: str
    key: bytes
    value: bytes


@dataclass
class MemorySink:
    """A RecordSink keeping what it was given; ``fail`` makes the next send raise."""

    sent: list[Sent] = field(default_factory=list)
    fail: Exception | None = None

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append(Sent(topic, key, value))

    def on(self, topic: str) -> list[Sent]:
        return [s for s in self.sent if s.topic == topic]


@dataclass
class MemoryDlq:
    """DeadLetterSinks per region, keeping the letters."""

    letters: dict[Region, list[DeadLetter]] = field(default_factory=lambda: defaultdict(list))

    def __call__(self, region: Region) -> _RegionDlq:
        return _RegionDlq(self, region)

    def reasons(self) -> dict[Region, list[str]]:
        return {r: [d.reason for d in ls] for r, ls in self.letters.items() if ls}


@dataclass
class _RegionDlq:
    owner: MemoryDlq
    region: Region

    async def send(self, letters: Sequence[DeadLetter]) -> None:
        self.owner.letters[self.region].extend(letters)


def issuer(region: Region, sink: MemorySink, *, k_meeting: int = 2) -> DigestIssuer:
    return DigestIssuer(
        region=region,
        signer=KEYS.region_sign[region],
        recipients=(KEYS.secretariat_kem.public_key,),
        sink=sink,
        catalogue=CATALOGUE,
        k_meeting=k_meeting,
        clock=FixedClock(),
    )


def secretariat(
    store: SecretariatStore,
    sink: MemorySink,
    dlq: MemoryDlq,
    *,
    k_csp: int = 3,
    regions: Iterable[Region] = tuple(Region),
) -> Secretariat:
    return Secretariat(
        store,
        KEYS.opener(),
        KEYS.keys_for,
        KEYS.secretariat_sign,
        dead_letters=dlq,
        sink=sink,
        config=SecretariatConfig(catalogue=CATALOGUE, k_csp=k_csp, regions=tuple(regions)),
    )


def records(sent: Iterable[Sent], *, start: int = 0) -> list[InboundRecord]:
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

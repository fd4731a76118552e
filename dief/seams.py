"""The seams between DIEF's parts: small value types and Protocols that several packages
share, so none of them has to import another's internals.

- **Time**: :class:`Clock` and :class:`SystemClock` (injectable, so tests never sleep), and
  the hour-coarsening of record timestamps (DESIGN §3 ⚑): :func:`coarse_timestamp_ms`,
  :func:`coarse_hour`.
- **Retrying**: :class:`Backoff`, capped exponential backoff with full jitter.
- **Outbound records**: :class:`OutboxEntry` (a sealed record waiting to be published),
  :class:`Publisher` (the node relay's seam) and :class:`RecordSink` (one record at a time,
  the digest and summary publishers' seam).
- **Inbound records**: :class:`InboundRecord` (a consumed record copied out of the Kafka
  client), :class:`DeadLetter` with :data:`DLQ_HEADERS`, and :class:`DeadLetterSink`.
- **Receipts** (DESIGN §8 ⚑): :class:`ReceiptRecord` (a sealed receipt: its receipt id and
  value) and :class:`ReceiptSink` (the aggregator's seam to ``dief.receipts``);
  :class:`RecordFeed` (reading a topic without a consumer group, from positions the reader
  keeps: the node's receipt reader).
- **Contributor credentials** (DESIGN §5 ⚑): :class:`ContributorCredential` (a pseudonym
  for one (cycle, region) and its RFC 9474 token), :class:`CredentialSource` (where a node's
  intake gets the credential a record carries) and :class:`CredentialCheck` (how an
  aggregator verifies one); implemented by :mod:`dief.credentials`.
- **Fault points**: :class:`FaultPoints`, named places on the delivery path
  (:data:`FAULT_POINTS`) where a test makes a failure happen; production passes none.

The Kafka implementations live in :mod:`dief.kafka`; the fakes in :mod:`dief.testing`.
Nothing here does I/O.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "DLQ_HEADERS",
    "FAULT_POINTS",
    "HOUR_MS",
    "Backoff",
    "BulletinAuditCheck",
    "BulletinRelease",
    "Clock",
    "ContributorCredential",
    "CredentialCheck",
    "CredentialSource",
    "DeadLetter",
    "DeadLetterSink",
    "FaultPoints",
    "InboundRecord",
    "OutboxEntry",
    "Publisher",
    "ReceiptRecord",
    "ReceiptSink",
    "RecordFeed",
    "RecordSink",
    "SystemClock",
    "coarse_hour",
    "coarse_timestamp_ms",
]

# -- time -------------------------------------------------------------------------------

#: One hour in milliseconds: record timestamps are multiples of it.
HOUR_MS = 3_600_000


@runtime_checkable
class Clock(Protocol):
    """Something that tells the time."""

    def now(self) -> float:
        """Seconds since the Unix epoch (UTC), as :func:`time.time` returns."""
        ...


class SystemClock:
    """The real wall clock."""

    __slots__ = ()

    def now(self) -> float:  # noqa: PLR6301  implements Clock.now (a method of the Protocol)
        """Seconds since the Unix epoch (UTC): :func:`time.time`."""
        return time.time()

    def __repr__(self) -> str:
        return "SystemClock()"


def coarse_timestamp_ms(epoch_seconds: float) -> int:
    """A record timestamp coarsened to the hour, in milliseconds (DESIGN §3 ⚑)."""
    return int(epoch_seconds * 1000) // HOUR_MS * HOUR_MS


def coarse_hour(epoch_seconds: float) -> datetime:
    """*epoch_seconds* as a UTC datetime truncated to the hour."""
    return datetime.fromtimestamp(coarse_timestamp_ms(epoch_seconds) / 1000, UTC)


# -- retrying ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with full jitter."""

    initial: float = 0.2
    maximum: float = 30.0
    factor: float = 2.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry *attempt* (0 for the first): uniform between half
        the ceiling and the ceiling, ``min(maximum, initial * factor**attempt)``."""
        try:
            ceiling = min(self.maximum, self.initial * self.factor**attempt)
        except OverflowError:  # ~1,000 failures in a row (hours of outage) overflow a float
            ceiling = self.maximum
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography


# -- outbound records -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A sealed record waiting to be published."""

    topic: str
    key: bytes
    value: bytes = field(repr=False)
    timestamp_ms: int
    group: str = field(default="", repr=False)
    """An opaque per-pseudonym tag (never the pseudonym itself): the relay sends entries of
    different groups after independent random delays (DESIGN §11); "" is one group."""
    urgent: bool = False
    """Sent without the random delay (alerts; DESIGN §11 states the exception)."""


class Publisher(Protocol):
    """Publishes sealed records with ``acks=all``; raises :class:`BrokerError` on failure."""

    async def connect(self) -> None:
        """Connect to the broker (before the first :meth:`publish`)."""

    async def publish(self, entries: Sequence[OutboxEntry]) -> None:
        """Publish *entries*; returns once the broker acknowledged every one."""

    async def close(self) -> None:
        """Disconnect from the broker."""


class RecordSink(Protocol):
    """Publishes one record and returns once the broker acknowledged it."""

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        """Publish one record; returns once the broker acknowledged it."""


# -- inbound records and dead letters ---------------------------------------------------

#: Header names on every dead letter (values UTF-8). They describe the failure and where the
#: record came from; nothing in them names a sender.
DLQ_HEADERS = (
    "dief-reason",
    "dief-detail",
    "dief-source-topic",
    "dief-source-partition",
    "dief-source-offset",
)


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """One consumed record, as the aggregator sees it (copied out of the Kafka client)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that cannot be applied: it goes to ``dief.<region>.dlq`` unchanged."""

    record: InboundRecord
    reason: str
    detail: str
    record_id: str | None = None

    def headers(self) -> list[tuple[str, bytes]]:
        """The :data:`DLQ_HEADERS` of this letter, with their UTF-8 values."""
        values = (
            self.reason,
            self.detail,
            self.record.topic,
            str(self.record.partition),
            str(self.record.offset),
        )
        return [(k, v.encode("utf-8")) for k, v in zip(DLQ_HEADERS, values, strict=True)]


class DeadLetterSink(Protocol):
    """Where dead letters go; returns only once the broker acknowledged every one."""

    async def send(self, letters: Sequence[DeadLetter]) -> None:
        """Send *letters*; returns once the broker acknowledged every one."""


# -- receipts ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceiptRecord:
    """A sealed receipt (:func:`dief.crypto.seal_receipt`): the record key is the receipt
    id, the value its sealed form; no headers, the timestamp coarsened to the hour."""

    receipt_id: str
    value: bytes = field(repr=False)


class ReceiptSink(Protocol):
    """Where an aggregator's receipts go; returns only once the broker acknowledged every
    one, raises :class:`BrokerError` otherwise."""

    async def send(self, receipts: Sequence[ReceiptRecord]) -> None:
        """Send *receipts*; returns once the broker acknowledged every one."""


class RecordFeed(Protocol):
    """One topic read without a consumer group, from positions its reader keeps.

    ``start`` assigns every partition and seeks to ``positions[partition]`` (the next
    offset to read), a partition not in it from its beginning; ``fetch`` returns the
    records that came (at most *timeout* seconds of waiting); ``caught_up`` tells whether
    every partition was read up to the high watermark of the last fetch. Broker failures
    raise :class:`BrokerError`; ``close`` may be followed by a new ``start``.
    """

    async def start(self, positions: Mapping[int, int]) -> None:
        """Assign every partition and seek to *positions* (others from the beginning)."""

    async def fetch(self, wait: float) -> list[InboundRecord]:
        """The records that came within at most *wait* seconds."""

    async def caught_up(self) -> bool:
        """Whether every partition was read up to the last fetch's high watermark."""

    async def close(self) -> None:
        """Stop reading; a new :meth:`start` may follow."""


# -- contributor credentials ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContributorCredential:
    """A node's contributor pseudonym for one (cycle, region) and the token that proves the
    issuer signed it (DESIGN §5 ⚑): ``token`` is the RFC 9474 message prefix (32 bytes)
    followed by the RSABSSA-SHA384-PSS-Randomized signature over
    ``"dief/contributor/v2/" + cycle + "/" + region + "/" + contributor``."""

    cycle: str
    region: str
    contributor: str
    """32 lower-case hex characters."""
    token: bytes = field(repr=False)


class CredentialSource(Protocol):
    """Where a node's intake finds the credential for a (cycle, region): ``None`` while the
    token has not arrived (the case waits in the outbox until it has)."""

    def credential(self, cycle: str, region: str) -> ContributorCredential | None:
        """The credential for (*cycle*, *region*), or None while it has not arrived."""


class CredentialCheck(Protocol):
    """How an aggregator verifies a record's credential: under the one issuer key of the
    credential's (cycle, region) in the directory; ``False`` when it does not verify or no
    key is known. Implementations cache what verified, so a pseudonym is checked once."""

    def verify(self, credential: ContributorCredential) -> bool:
        """Whether *credential* verifies under its (cycle, region)'s issuer key."""


# -- fault points -----------------------------------------------------------------------

#: The commit boundaries of the aggregator's delivery path (DESIGN §8), in the order a batch
#: meets them: fetched, not yet applied; dead letters being sent inside the database
#: transaction; the transaction committed but the offsets not yet.
FAULT_POINTS = ("after_fetch", "dead_letter_send", "after_commit")


class FaultPoints(Protocol):
    """Told each time the delivery path reaches one of :data:`FAULT_POINTS`; may raise, as
    a crash there would stop the work (see :class:`dief.testing.FaultPlan`)."""

    def reached(self, point: str) -> None:
        """The delivery path reached *point* (one of :data:`FAULT_POINTS`); may raise."""


# -- bulletins --------------------------------------------------------------------------


class BulletinRelease(Protocol):
    """The release rule of a bulletin (DESIGN §13 ⚑): ``True`` when *region*'s current
    *cycle* already counts at least 3 distinct contributors and the region's audit still
    holds with the bulletin's generalised *facts* (a :class:`dief.wire.BulletinEntry` as a
    dict) treated as a case every reader knows. A bulletin refused now is offered again at
    the next batch."""

    async def may_release(self, region: str, cycle: str, facts: Mapping[str, object]) -> bool:
        """Whether a bulletin with *facts* may be released now in *region*'s *cycle*."""


class BulletinAuditCheck(Protocol):
    """The second half of the release rule (DESIGN §13 ⚑): the region's disclosure audit's
    fast public check, "does the audit still hold with this candidate bulletin", its
    generalised *facts* (a :class:`dief.wire.BulletinEntry` as a dict, no case id or
    contributor) counted as a case every reader of *region*'s *cycle* knows. Filled by
    :mod:`dief.audit`; a fake is :class:`dief.testing.FakeBulletinAudit`."""

    async def holds_with(self, region: str, cycle: str, facts: Mapping[str, object]) -> bool:
        """Whether *region*'s audit of *cycle* still holds with *facts* known to all."""

"""Dead letters read back from ``dief.<region>.dlq`` and replayed to their cases topic (the
``dief dlq`` commands).

A dead letter is the refused record unchanged (its key and its sealed value) with the
:data:`dief.seams.DLQ_HEADERS`. :class:`StoredDeadLetter` keeps the key and the value out of
``repr`` and gives the headers by name; nothing here prints, logs or puts either into an
error message. Reading uses no consumer group (:mod:`dief.kafka._read`), so listing never
moves anyone's offsets.

Replaying publishes the original key and value, without headers (case records carry none),
to the dead letter's source topic, with ``acks=all``, the timestamp coarsened to the hour
and idempotence as :func:`dief.kafka.producer_options` decides (off on the embedded broker).
Only a source topic that is the region's own cases topic is replayed to, whatever a header
says.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from dief.exceptions import BrokerError
from dief.kafka._clients import _stop_quietly, producer_options
from dief.kafka._read import ConsumedRecord, Position, read_new, read_to_end
from dief.kafka._topics import cases_topic, dlq_topic
from dief.seams import Clock, SystemClock, coarse_hour, coarse_timestamp_ms

if TYPE_CHECKING:  # dief.settings imports the topic defaults from this package
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from datetime import datetime

    from dief.settings import KafkaSettings
    from dief.vocab import Region

__all__ = [
    "DeadLetterSnapshot",
    "Replayed",
    "StoredDeadLetter",
    "read_dead_letters",
    "replay_dead_letters",
    "watch_dead_letters",
]

#: The producer's largest request unless a dead letter is larger (the broker accepted it
#: once, so it is sent again whole; the broker's own limit still applies).
_MAX_REQUEST = 1 << 20
_REQUEST_SLACK = 1 << 16


@dataclass(frozen=True, slots=True)
class StoredDeadLetter:
    """One dead letter as it is on ``dief.<region>.dlq``.

    ``key`` and ``value`` are the refused record's, byte for byte: a sealed envelope that
    must never be shown, and a key that is a case id at best. Both stay out of ``repr``.
    """

    region: Region
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None = field(repr=False)
    value: bytes | None = field(repr=False)
    headers: tuple[tuple[str, bytes], ...]

    @property
    def topic(self) -> str:
        return dlq_topic(self.region)

    @property
    def coordinates(self) -> str:
        """``REGION:partition:offset`` on the region's DLQ topic."""
        return f"{self.region.value}:{self.partition}:{self.offset}"

    def header(self, name: str) -> str | None:
        """The last header *name* as text (undecodable bytes replaced), or None."""
        for key, raw in reversed(self.headers):
            if key == name:
                return raw.decode("utf-8", errors="replace")
        return None

    @property
    def reason(self) -> str:
        return self.header("dief-reason") or ""

    @property
    def detail(self) -> str:
        return self.header("dief-detail") or ""

    @property
    def source_topic(self) -> str | None:
        return self.header("dief-source-topic")

    @property
    def source_partition(self) -> int | None:
        return _int(self.header("dief-source-partition"))

    @property
    def source_offset(self) -> int | None:
        return _int(self.header("dief-source-offset"))

    @property
    def value_size(self) -> int:
        """The value's length in bytes (0 for a record without a value)."""
        return len(self.value or b"")

    @property
    def hour(self) -> datetime:
        """The record's timestamp to the hour, UTC (what a dead letter may tell of time)."""
        return coarse_hour(self.timestamp_ms / 1000)

    @property
    def replay_topic(self) -> str | None:
        """Where a replay sends the record: the region's cases topic, if that is what the
        ``dief-source-topic`` header names; None otherwise (not replayable)."""
        own = cases_topic(self.region)
        return own if self.source_topic == own else None


def _int(text: str | None) -> int | None:
    if text is None or not text.strip().isdigit():
        return None
    return int(text.strip())


@dataclass(frozen=True, slots=True)
class DeadLetterSnapshot:
    """The dead letters read, in region and partition order, and where each DLQ partition
    was read up to (``ends``: start a later read there to see only what came since)."""

    letters: tuple[StoredDeadLetter, ...]
    ends: Mapping[Position, int]


def _topics(regions: Iterable[Region]) -> dict[str, Region]:
    return {dlq_topic(region): region for region in dict.fromkeys(regions)}


def _letter(record: ConsumedRecord, regions: Mapping[str, Region]) -> StoredDeadLetter:
    return StoredDeadLetter(
        region=regions[record.topic],
        partition=record.partition,
        offset=record.offset,
        timestamp_ms=record.timestamp_ms,
        key=record.key,
        value=record.value,
        headers=record.headers,
    )


async def read_dead_letters(
    settings: KafkaSettings,
    regions: Iterable[Region],
    *,
    start: Mapping[Position, int] | None = None,
    time_limit: float = 30.0,
) -> DeadLetterSnapshot:
    """Every dead letter on the DLQ topics of *regions* (from *start*, default the
    beginning) up to where each partition ended when reading started.

    :raises BrokerError: the broker cannot be reached, a DLQ topic does not exist, or
        reading did not finish within *time_limit* seconds.
    """
    by_topic = _topics(regions)
    if not by_topic:
        return DeadLetterSnapshot(letters=(), ends={})
    snapshot = await read_to_end(
        settings, list(by_topic), start=start, time_limit=time_limit, client_id="dief-dlq"
    )
    return DeadLetterSnapshot(
        letters=tuple(_letter(r, by_topic) for r in snapshot.records), ends=snapshot.ends
    )


async def watch_dead_letters(
    settings: KafkaSettings,
    regions: Iterable[Region],
    start: Mapping[Position, int],
    *,
    done: Callable[[Sequence[StoredDeadLetter]], bool],
    time_limit: float,
) -> tuple[StoredDeadLetter, ...]:
    """New dead letters on the DLQ topics of *regions* from *start* (a snapshot's ``ends``)
    until ``done(letters so far)`` or *time_limit* seconds; running out of time is not an
    error.

    :raises BrokerError: the broker cannot be reached or a DLQ topic does not exist.
    """
    by_topic = _topics(regions)
    if not by_topic:
        return ()
    letters: list[StoredDeadLetter] = []

    def finished(records: Sequence[ConsumedRecord]) -> bool:
        letters[len(letters) :] = [_letter(r, by_topic) for r in records[len(letters) :]]
        return done(letters)

    await read_new(
        settings,
        list(by_topic),
        start,
        done=finished,
        time_limit=time_limit,
        client_id="dief-dlq",
    )
    return tuple(letters)


@dataclass(frozen=True, slots=True)
class Replayed:
    """What became of one replayed dead letter: where it landed on its cases topic, or
    why it was not sent (``error``: a reason, never the record)."""

    letter: StoredDeadLetter
    topic: str | None
    partition: int | None = None
    offset: int | None = None
    error: str | None = None

    @property
    def sent(self) -> bool:
        return self.error is None


async def replay_dead_letters(
    settings: KafkaSettings,
    letters: Sequence[StoredDeadLetter],
    *,
    clock: Clock | None = None,
    request_timeout_ms: int = 15_000,
) -> tuple[Replayed, ...]:
    """Publish each letter's original key and value to its :attr:`~StoredDeadLetter.
    replay_topic` (no headers, ``acks=all``, timestamp to the hour) and await every
    acknowledgement. A letter that is not replayable, or whose send fails, is returned with
    its ``error``; the others with where they landed.

    :raises BrokerError: the producer cannot connect to the broker.
    :raises ConfigurationError: the CA file cannot be used.
    """
    if not letters:
        return ()
    stamp = coarse_timestamp_ms((clock or SystemClock()).now())
    largest = max(letter.value_size + len(letter.key or b"") for letter in letters)
    options: dict[str, Any] = producer_options(settings, request_timeout_ms=request_timeout_ms)
    options["max_request_size"] = max(_MAX_REQUEST, largest + _REQUEST_SLACK)
    producer = AIOKafkaProducer(**options, client_id="dief-dlq-replay")
    try:
        await producer.start()
    except (KafkaError, OSError) as exc:
        await _stop_quietly(producer)
        raise BrokerError(
            f"cannot connect to the broker at {settings.bootstrap}: {type(exc).__name__}"
        ) from exc
    try:
        return tuple(await asyncio.gather(*(_send(producer, letter, stamp) for letter in letters)))
    finally:
        await _stop_quietly(producer)


async def _send(producer: AIOKafkaProducer, letter: StoredDeadLetter, stamp: int) -> Replayed:
    topic = letter.replay_topic
    if topic is None:
        source = letter.source_topic or "(none)"
        return Replayed(
            letter, None, error=f"source topic {source} is not {cases_topic(letter.region)}"
        )
    try:
        meta = await (await producer.send(topic, letter.value, key=letter.key, timestamp_ms=stamp))
    except (KafkaError, OSError) as exc:
        return Replayed(letter, topic, error=f"not acknowledged: {type(exc).__name__}")
    return Replayed(letter, topic, int(meta.partition), int(meta.offset))

"""Reading topics to their end without a consumer group: :func:`read_to_end`.

Partitions are assigned (never a group: nothing is committed, no rebalance, no 3 s group
join on the embedded broker) and read from the beginning, or from given offsets, up to the
**high watermark of the first fetch response** of each partition: a snapshot of what was
on the topic when reading started. ``end_offsets()`` is not used: Tansu answers it wrongly
after multi-record batches (docs/broker.md), while the high watermark carried in fetch
responses (``consumer.highwater(tp)``) is right on Tansu and on Kafka.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaClient, AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from faststream.kafka.security import parse_security

from dief.exceptions import BrokerError
from dief.kafka._clients import _security, security_options
from dief.kafka._subscribe import DEFAULT_FETCH_MAX_WAIT_MS, EMBEDDED_FETCH_MAX_WAIT_MS

if TYPE_CHECKING:  # dief.settings imports the topic defaults from this package
    from collections.abc import Callable, Mapping, Sequence

    from aiokafka.cluster import ClusterMetadata

    from dief.settings import KafkaSettings

__all__ = ["ConsumedRecord", "TopicSnapshot", "consumer_options", "read_new", "read_to_end"]

#: A partition as ``(topic, partition)``.
Position = tuple[str, int]

#: How long one ``getmany`` waits for records before the completion check runs again.
_POLL_MS = 100


@dataclass(frozen=True, slots=True)
class ConsumedRecord:
    """One record as it is on the broker, copied out of the Kafka client. The key and the
    value stay out of ``repr`` (a value is a sealed envelope, a key may be a case id)."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None = field(repr=False)
    value: bytes | None = field(repr=False)
    headers: tuple[tuple[str, bytes], ...]

    @classmethod
    def of(cls, r: Any) -> ConsumedRecord:  # noqa: ANN401  aiokafka's connection and records are untyped
        """An aiokafka ``ConsumerRecord`` copied out of the client."""
        return cls(
            r.topic,
            r.partition,
            r.offset,
            r.timestamp,
            r.key,
            r.value,
            tuple((str(k), bytes(v)) for k, v in r.headers),
        )


@dataclass(frozen=True, slots=True)
class TopicSnapshot:
    """What :func:`read_to_end` read: the records in partition order, and for every
    partition the offset it read up to: the high watermark when reading started, where a
    later read (``start=``) picks up what came since."""

    records: tuple[ConsumedRecord, ...]
    ends: Mapping[Position, int]


def consumer_options(
    settings: KafkaSettings, *, request_timeout_ms: int = 15_000
) -> dict[str, Any]:
    """``AIOKafkaConsumer`` keyword arguments for reading without a group: the bootstrap
    servers and security of *settings*, no offset commits, earliest reset, and the short
    fetch wait of the embedded broker (``dief.kafka._subscribe``).

    :raises ConfigurationError: the CA file (``DIEF_KAFKA__CA_FILE``) cannot be used.
    """
    return {
        "bootstrap_servers": settings.bootstrap,
        "group_id": None,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "fetch_max_wait_ms": (
            EMBEDDED_FETCH_MAX_WAIT_MS if settings.embedded else DEFAULT_FETCH_MAX_WAIT_MS
        ),
        "request_timeout_ms": request_timeout_ms,
        **parse_security(_security(settings)),
    }


async def read_to_end(
    settings: KafkaSettings,
    topics: Sequence[str],
    *,
    start: Mapping[Position, int] | None = None,
    time_limit: float = 30.0,
    client_id: str = "dief-reader",
) -> TopicSnapshot:
    """Every record of *topics* below each partition's high watermark at the time of its
    first fetch, from offset *start[(topic, partition)]* (default: the beginning).

    No consumer group, so nothing is committed and other readers are not disturbed.

    :raises BrokerError: the broker cannot be reached, a topic does not exist, or reading
        did not finish within *time_limit* seconds.
    :raises ConfigurationError: the CA file cannot be used.
    """
    names = sorted(dict.fromkeys(topics))
    timeout_ms = max(1000, int(time_limit * 1000))
    consumer = AIOKafkaConsumer(
        **consumer_options(settings, request_timeout_ms=timeout_ms), client_id=client_id
    )
    where = settings.bootstrap
    try:  # noqa: PLW0717  every failure of the read maps to one BrokerError
        async with asyncio.timeout(time_limit):
            await consumer.start()
            partitions = await _assign(
                consumer, settings, names, request_timeout_ms=timeout_ms, client_id=client_id
            )
            for tp in partitions:
                offset = (start or {}).get((tp.topic, tp.partition))
                if offset is None:
                    await consumer.seek_to_beginning(tp)
                else:
                    consumer.seek(tp, offset)
            return await _read(consumer, partitions)
    except TimeoutError as exc:
        raise BrokerError(
            f"reading {', '.join(names)} from {where} did not finish within {time_limit:g} s"
        ) from exc
    except (KafkaError, OSError) as exc:
        raise BrokerError(f"cannot read {', '.join(names)} from {where}: {_describe(exc)}") from exc
    finally:
        await _stop_quietly(consumer)


async def read_new(  # noqa: PLR0913  a public keyword signature, used outside dief/kafka
    settings: KafkaSettings,
    topics: Sequence[str],
    start: Mapping[Position, int],
    *,
    done: Callable[[Sequence[ConsumedRecord]], bool],
    time_limit: float,
    client_id: str = "dief-reader",
) -> tuple[ConsumedRecord, ...]:
    """The records that arrive on *topics* from offsets *start* on (the ``ends`` of a
    :class:`TopicSnapshot`; a partition not in it is read from the beginning), as they come,
    until ``done(records so far)`` is true or *time_limit* seconds have passed. Running out
    of time is not an error: it returns what came.

    :raises BrokerError: the broker cannot be reached or a topic does not exist.
    :raises ConfigurationError: the CA file cannot be used.
    """
    names = sorted(dict.fromkeys(topics))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + time_limit
    timeout_ms = max(1000, int(time_limit * 1000))
    consumer = AIOKafkaConsumer(
        **consumer_options(settings, request_timeout_ms=timeout_ms), client_id=client_id
    )
    where = settings.bootstrap
    records: list[ConsumedRecord] = []
    try:  # noqa: PLW0717  every failure of the read maps to one BrokerError
        async with asyncio.timeout(max(time_limit, 1.0)):
            await consumer.start()
            partitions = await _assign(
                consumer, settings, names, request_timeout_ms=timeout_ms, client_id=client_id
            )
        for tp in partitions:
            offset = start.get((tp.topic, tp.partition))
            if offset is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, offset)
        while not done(records) and (remaining := deadline - loop.time()) > 0:
            batches = await consumer.getmany(
                timeout_ms=max(1, min(_POLL_MS, int(remaining * 1000)))
            )
            for batch in batches.values():
                records.extend(map(ConsumedRecord.of, batch))
        return tuple(records)
    except TimeoutError as exc:
        raise BrokerError(f"cannot reach {where} within {max(time_limit, 1.0):g} s") from exc
    except (KafkaError, OSError) as exc:
        raise BrokerError(f"cannot read {', '.join(names)} from {where}: {_describe(exc)}") from exc
    finally:
        await _stop_quietly(consumer)


async def _all_metadata(
    settings: KafkaSettings, *, request_timeout_ms: int, client_id: str
) -> ClusterMetadata:
    """The metadata of every topic on the broker of *settings*, with its partitions, from
    one Metadata request of aiokafka's public client (``AIOKafkaClient.fetch_all_metadata``).

    A consumer has no public call for it: ``consumer.topics()`` keeps only the names, and
    ``partitions_for_topic`` answers from the consumer's own metadata, which lists no topic
    on Apache Kafka until the consumer tracks it (Tansu lists every topic). The consumer
    learns the partitions' leaders itself once they are assigned.

    :raises KafkaError: no bootstrap address answered, or no broker gave the metadata.
    """
    client = AIOKafkaClient(
        bootstrap_servers=settings.bootstrap,
        client_id=client_id,
        request_timeout_ms=request_timeout_ms,
        **security_options(settings),
    )
    try:
        await client.bootstrap()
        return await client.fetch_all_metadata()
    finally:
        await client.close()


async def _assign(
    consumer: AIOKafkaConsumer,
    settings: KafkaSettings,
    names: Sequence[str],
    *,
    request_timeout_ms: int,
    client_id: str,
) -> list[Any]:
    """Assign every partition of the topics *names* to *consumer*, in order, as the
    broker's metadata of every topic lists them (:func:`_all_metadata`).

    :raises BrokerError: a topic is not on the broker.
    :raises KafkaError: the metadata could not be had.
    """
    cluster = await _all_metadata(
        settings, request_timeout_ms=request_timeout_ms, client_id=client_id
    )
    available = cluster.topics()
    if missing := [name for name in names if name not in available]:
        raise BrokerError(f"no topic {', '.join(missing)} on {settings.bootstrap}")
    partitions = [
        TopicPartition(name, p)
        for name in names
        for p in sorted(cluster.partitions_for_topic(name) or ())
    ]
    consumer.assign(partitions)
    return partitions


async def _read(consumer: AIOKafkaConsumer, partitions: list[Any]) -> TopicSnapshot:
    """Read until every partition's position reached its target (the high watermark of the
    first fetch response that partition got)."""
    targets: dict[Any, int] = {}
    records: dict[Any, list[ConsumedRecord]] = {tp: [] for tp in partitions}
    while True:
        for tp in partitions:
            if tp not in targets and (high := consumer.highwater(tp)) is not None:
                targets[tp] = int(high)
        if len(targets) == len(partitions) and await _all_reached(consumer, targets):
            break
        batches = await consumer.getmany(timeout_ms=_POLL_MS)
        for tp, batch in batches.items():
            if tp not in targets and (high := consumer.highwater(tp)) is not None:
                targets[tp] = int(high)
            limit = targets.get(tp)
            wanted = (r for r in batch if limit is None or r.offset < limit)
            records[tp].extend(map(ConsumedRecord.of, wanted))
    ends = {(tp.topic, tp.partition): targets[tp] for tp in partitions}
    ordered = [r for tp in partitions for r in records[tp]]
    return TopicSnapshot(records=tuple(ordered), ends=ends)


async def _all_reached(consumer: AIOKafkaConsumer, targets: Mapping[Any, int]) -> bool:
    for tp, target in targets.items():
        if await consumer.position(tp) < target:
            return False
    return True


def _describe(exc: BaseException) -> str:
    name = type(exc).__name__
    text = str(exc)
    return text if text.startswith(name) else f"{name}: {text}" if text else name


async def _stop_quietly(consumer: AIOKafkaConsumer) -> None:
    with contextlib.suppress(KafkaError, OSError):  # closing a half-open connection
        await consumer.stop()

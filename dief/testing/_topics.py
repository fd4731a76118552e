"""Reading topics back: :func:`read_topics`, every record of some topics from the beginning,
without a consumer group (for assertions on what is on the wire), as
:class:`dief.kafka.ConsumedRecord`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from dief.exceptions import BrokerError
from dief.kafka import ConsumedRecord

if TYPE_CHECKING:
    from collections.abc import Sequence


async def read_topics(
    bootstrap: str,
    topics: Sequence[str] | None = None,
    *,
    expected: int = 0,
    idle: float = 1.0,
    time_limit: float = 30.0,
) -> list[ConsumedRecord]:
    """Every record of *topics* (default: every topic on the broker), from the beginning.

    No consumer group: partitions are assigned and read from offset 0. On Tansu
    ``end_offsets()`` is wrong after multi-record batches (docs/broker.md), so completion is
    decided by count: reading goes on until at least *expected* records came and then
    nothing more for *idle* seconds. ``BrokerError`` if *expected* are not read within
    *time_limit* seconds.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=10_000,
    )
    records: list[ConsumedRecord] = []
    loop = asyncio.get_running_loop()
    try:  # noqa: PLW0717  any failure of the step ends it the same way
        await consumer.start()
        available = await consumer.topics()  # also loads every topic's metadata
        names = sorted(topics if topics is not None else available)
        if missing := [name for name in names if name not in available]:
            raise BrokerError(f"no topic {', '.join(missing)} on {bootstrap}")
        partitions = [
            TopicPartition(name, p)
            for name in names
            for p in sorted(consumer.partitions_for_topic(name) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = loop.time() + time_limit
        quiet_since = loop.time()
        while True:
            now = loop.time()
            if len(records) >= expected and now - quiet_since >= idle:
                return records
            if now >= deadline:
                raise BrokerError(
                    f"read {len(records)} of {expected} records from {bootstrap} "
                    f"within {time_limit:g} s"
                )
            batches = await consumer.getmany(timeout_ms=100)
            for batch in batches.values():
                records.extend(map(ConsumedRecord.of, batch))
            if batches:
                quiet_since = loop.time()
    except KafkaError as exc:
        raise BrokerError(f"cannot read topics from {bootstrap}: {exc}") from exc
    finally:
        await consumer.stop()

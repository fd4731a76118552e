"""What the node's publisher puts on the wire (DESIGN §3 ⚑): the sealed value, the case id as
key, the hour-coarsened timestamp, and no headers at all (nothing that identifies a sender)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from dief.broker import EmbeddedBroker
from dief.kafka import NodePublisher
from dief.node import Outbox, OutboxRelay
from dief.seams import OutboxEntry, coarse_timestamp_ms
from dief.settings import KafkaSettings

pytestmark = pytest.mark.integration

WAIT = 30.0


async def test_records_carry_key_value_coarse_timestamp_and_no_headers(
    tmp_path: Path, broker: EmbeddedBroker, fresh_topic: str
) -> None:
    stamp = coarse_timestamp_ms(1_795_343_832.0)
    written = [
        OutboxEntry(fresh_topic, f"case-{i}".encode(), f"sealed-{i}".encode(), stamp)
        for i in range(5)
    ]
    outbox = Outbox(tmp_path / "outbox.sqlite")
    await outbox.start()
    publisher = NodePublisher(KafkaSettings(bootstrap=broker.bootstrap, embedded=True))
    relay = OutboxRelay(outbox, publisher)
    try:
        await outbox.add({}, written)
        assert await relay.drain_once() == 5
        assert await outbox.counts() == (0, 5)
    finally:
        await relay.close()
        await outbox.stop()

    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(fresh_topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        got = []
        async with asyncio.timeout(WAIT):
            while len(got) < len(written):
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    got.extend(records)
    finally:
        await consumer.stop()
    assert [(r.key, r.value) for r in got] == [(e.key, e.value) for e in written]
    assert {r.timestamp for r in got} == {stamp}
    assert all(not r.headers for r in got)

"""What the node's publisher puts on the wire (DESIGN §3 ⚑): the sealed value, the case id as
key, the hour-coarsened timestamp, and no headers at all (nothing that identifies a sender);
on the embedded broker and on Apache Kafka (as the ``node`` principal)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from dief.kafka import DEFAULT_CASE_PARTITIONS, NodePublisher, cases_topic
from dief.node import Outbox, OutboxRelay
from dief.seams import OutboxEntry, coarse_timestamp_ms
from dief.vocab import Region

if TYPE_CHECKING:
    from pathlib import Path

    from tests.integration._brokers import BrokerStack

pytestmark = pytest.mark.integration

WAIT = 30.0


async def test_records_carry_key_value_coarse_timestamp_and_no_headers(
    tmp_path: Path, broker_stack: BrokerStack
) -> None:
    fresh_topic = cases_topic(Region.AFR)  # empty: the stack is fresh; nodes may write it
    stamp = coarse_timestamp_ms(1_795_343_832.0)
    written = [
        OutboxEntry(fresh_topic, f"case-{i}".encode(), f"sealed-{i}".encode(), stamp)
        for i in range(5)
    ]
    outbox = Outbox(tmp_path / "outbox.sqlite")
    await outbox.start()
    publisher = NodePublisher(broker_stack.settings("node"))
    relay = OutboxRelay(outbox, publisher)
    try:
        await outbox.add([], written)
        assert await relay.drain_once() == 5
        assert await outbox.counts() == (0, 5)
    finally:
        await relay.close()
        await outbox.stop()

    consumer = AIOKafkaConsumer(**broker_stack.client_options(), enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(fresh_topic, p) for p in range(DEFAULT_CASE_PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        got: list[ConsumerRecord] = []
        async with asyncio.timeout(WAIT):
            while len(got) < len(written):
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    got.extend(records)
    finally:
        await consumer.stop()
    assert sorted((r.key, r.value) for r in got) == [(e.key, e.value) for e in written]
    assert {r.timestamp for r in got} == {stamp}
    assert all(not r.headers for r in got)

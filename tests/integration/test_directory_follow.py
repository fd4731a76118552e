"""The directory over a real broker (the embedded one and Apache Kafka): published under
``current`` and ``v<n>`` on the compacted ``dief.directory``, followed by a holder that
picks up v2 after v1 without a restart."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from aiokafka import AIOKafkaProducer

from dief.kafka import DIRECTORY_TOPIC, KafkaRecordFeed, directory_topic, ensure_topics
from dief.keyring import DirectoryFollower, DirectoryHolder, SimulatedForum, publish_directory

if TYPE_CHECKING:
    from pathlib import Path

    from tests.integration._brokers import BrokerStack

pytestmark = pytest.mark.integration


class _ProducerSink:
    """A :class:`dief.seams.RecordSink` over a bare producer (acks=all, no idempotence)."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        await self._producer.send_and_wait(topic, value, key=key)


async def test_a_follower_picks_up_v2_after_v1_over_the_broker(
    broker_stack: BrokerStack, tmp_path: Path
) -> None:
    admin = {k: v for k, v in broker_stack.client_options().items() if k != "bootstrap_servers"}
    await ensure_topics(broker_stack.bootstrap, [directory_topic()], time_limit=20.0, **admin)
    forum = SimulatedForum.create(tmp_path / "forum", "pw")
    producer = AIOKafkaProducer(
        **broker_stack.client_options("secretariat"), acks="all", enable_idempotence=False
    )
    await producer.start()
    try:
        sink = _ProducerSink(producer)
        await publish_directory(sink, forum.directory)
        settings = broker_stack.settings("node")
        feed = KafkaRecordFeed(settings, DIRECTORY_TOPIC, client_id="dief-directory")
        holder = DirectoryHolder(forum.root_fingerprint)
        stop = asyncio.Event()
        task = asyncio.create_task(DirectoryFollower(feed, holder, wait=0.2).run(stop))
        try:
            assert (await holder.wait_for_version(1, 30.0)).version == 1
            v2 = forum.issue_directory()
            await publish_directory(sink, v2)
            assert (await holder.wait_for_version(2, 30.0)).raw == v2.raw
        finally:
            stop.set()
            await asyncio.wait_for(task, 30.0)
    finally:
        await producer.stop()

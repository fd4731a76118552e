"""The node's outbox relay against a real broker that fails (DESIGN §8 ⚑).

Every scenario ends the same way: the outbox has nothing pending, every entry's key is on
the topic at least once, and the set of values read equals the set written. Duplicates are
allowed (at-least-once; the aggregator absorbs them by record id) and are reported as the
test property ``duplicates`` (``pytest -rA`` or the JUnit XML shows it).

Waits are on events the test controls (batches acknowledged, failures seen), each bounded
by ``WAIT``; the relay's backoff and the producer's request timeout are made small.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from dief.broker import EmbeddedBroker, pick_free_port
from dief.kafka import NodePublisher, TopicSpec, ensure_topics
from dief.node import Outbox, OutboxRelay
from dief.seams import Backoff, OutboxEntry
from dief.testing import MemoryPublisher
from tests.integration._pipeline_helpers import (
    Target,
    client_options,
    target_settings,
    topic_partitions,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.integration._brokers import BrokerStack

pytestmark = pytest.mark.integration

WAIT = 60.0  # upper bound on any single wait
TOTAL = 2000
BATCH = 200
PARTITIONS = 3
REQUEST_TIMEOUT_MS = 1500  # how long the producer keeps a batch before failing it
FAST_BACKOFF = Backoff(initial=0.05, maximum=0.5)


# -- helpers -------------------------------------------------------------------------------


def _entries(topic: str, count: int) -> list[OutboxEntry]:
    """*count* entries with unique keys and unique JSON values."""
    entries = []
    for i in range(count):
        record_id = uuid.uuid4().hex
        value = json.dumps({"i": i, "record_id": record_id}).encode()
        entries.append(OutboxEntry(topic, f"case-{i:05d}-{record_id[:8]}".encode(), value, 0))
    return entries


def _publisher(bootstrap: Target) -> NodePublisher:
    settings = target_settings(bootstrap)
    return NodePublisher(settings, request_timeout_ms=REQUEST_TIMEOUT_MS)


async def _test_topic(stack: BrokerStack) -> str:
    """A new topic of the test's own (*PARTITIONS* partitions), created as the admin."""
    topic = f"test.{uuid.uuid4().hex[:12]}"
    options: dict[str, Any] = {
        k: v for k, v in client_options(stack).items() if k != "bootstrap_servers"
    }
    await ensure_topics(stack.bootstrap, [TopicSpec(topic, partitions=PARTITIONS)], **options)
    return topic


async def _read_topic(bootstrap: Target, topic: str, keys: set[bytes]) -> list[tuple[bytes, bytes]]:
    """(key, value) of every record read until each of *keys* was seen, without a group.

    Completion is decided by the keys seen, never by ``end_offsets()`` (wrong on Tansu).
    """
    partitions = await topic_partitions(bootstrap, topic, WAIT)
    consumer = AIOKafkaConsumer(**client_options(bootstrap), enable_auto_commit=False)
    await consumer.start()
    got: list[tuple[bytes, bytes]] = []
    try:
        async with asyncio.timeout(WAIT):
            assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            await consumer.seek_to_beginning(*assigned)
            seen: set[bytes] = set()
            while not keys <= seen:
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    for r in records:
                        assert r.key is not None
                        assert r.value is not None
                        got.append((r.key, r.value))
                        seen.add(r.key)
    finally:
        await consumer.stop()
    return got


def _check_delivery(
    written: list[OutboxEntry],
    read: list[tuple[bytes, bytes]],
    record_property: Callable[[str, object], None],
) -> int:
    """Assert nothing was lost or altered; report and return the number of duplicates."""
    assert {v for _, v in read} == {e.value for e in written}
    assert {k for k, _ in read} == {e.key for e in written}
    assert dict(read) == {e.key: e.value for e in written}  # each key kept its value
    duplicates = len(read) - len(written)
    assert duplicates == sum(n - 1 for n in Counter(read).values())
    record_property("duplicates", duplicates)
    return duplicates


async def _stop(task: asyncio.Task[None], stop: asyncio.Event, relay: OutboxRelay) -> None:
    stop.set()
    async with asyncio.timeout(WAIT):
        await task
    await relay.close()


# -- scenarios -----------------------------------------------------------------------------


@pytest.mark.slow
async def test_broker_outage_while_publishing_loses_nothing(
    tmp_path: Path,
    proxied_stack: BrokerStack,
    record_property: Callable[[str, object], None],
) -> None:
    stack = proxied_stack
    assert stack.proxy is not None
    topic = await _test_topic(stack)
    outbox = Outbox(tmp_path / "outbox.sqlite")
    await outbox.start()
    written = _entries(topic, TOTAL)
    await outbox.add([], written)
    observed = MemoryPublisher(_publisher(stack))
    relay = OutboxRelay(outbox, observed, batch=BATCH, backoff=FAST_BACKOFF)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await observed.wait_batches(2, time_limit=WAIT)
        await stack.proxy.cut()  # refused at once: the broker is down for every client
        cut_at = time.monotonic()

        await observed.wait_failures(1, time_limit=WAIT)
        first_failure = time.monotonic() - cut_at
        during = await outbox.counts()
        # it keeps retrying, and marks nothing meanwhile
        await observed.wait_failures(2, time_limit=WAIT)
        assert await outbox.counts() == during
        pending, published = during
        assert pending > 0
        assert published == len(observed.sent)
        assert relay.failures >= 2

        accepted_before = stack.proxy.stats.accepted
        await stack.proxy.restore()
        restored_at = time.monotonic()
        await observed.wait_sent(TOTAL, time_limit=WAIT)
        recovery = time.monotonic() - restored_at
        await _stop(task, stop, relay)
        assert await outbox.counts() == (0, TOTAL)
    finally:
        if not task.done():
            await _stop(task, stop, relay)
        await outbox.stop()

    assert stack.proxy.stats.accepted > accepted_before  # it reconnected through the proxy
    read = await _read_topic(stack, topic, {e.key for e in written})
    duplicates = _check_delivery(written, read, record_property)
    record_property("first_failure_s", round(first_failure, 2))
    record_property("recovery_s", round(recovery, 2))
    print(  # the figures for the report (pytest -s)  # noqa: T201  figures printed for the test log (pytest -s)
        f"outage: {relay.failures} failures, first after {first_failure:.2f}s, "
        f"recovered in {recovery:.2f}s, {duplicates} duplicates of {TOTAL}"
    )


async def test_node_started_before_the_broker_publishes_everything(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    topic = f"test.{uuid.uuid4().hex[:12]}"
    port = pick_free_port()  # nothing listens here yet
    outbox = Outbox(tmp_path / "outbox.sqlite")
    await outbox.start()
    written = _entries(topic, TOTAL)
    await outbox.add([], written)
    observed = MemoryPublisher(_publisher(f"127.0.0.1:{port}"))
    relay = OutboxRelay(outbox, observed, batch=BATCH, backoff=FAST_BACKOFF)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await observed.wait_failures(3, time_limit=WAIT)
        assert relay.failures >= 3
        assert observed.sent == []
        assert await outbox.counts() == (TOTAL, 0)

        broker = EmbeddedBroker(port=port, topics=[TopicSpec(topic, partitions=PARTITIONS)])
        async with broker:
            started_at = time.monotonic()
            await observed.wait_sent(TOTAL, time_limit=WAIT)
            catch_up = time.monotonic() - started_at
            await _stop(task, stop, relay)
            assert await outbox.counts() == (0, TOTAL)
            read = await _read_topic(broker.bootstrap, topic, {e.key for e in written})
    finally:
        if not task.done():
            await _stop(task, stop, relay)
        await outbox.stop()
    duplicates = _check_delivery(written, read, record_property)
    record_property("catch_up_s", round(catch_up, 2))
    print(  # noqa: T201  figures printed for the test log (pytest -s)
        f"late broker: {relay.failures} failures before it started, caught up in "
        f"{catch_up:.2f}s, {duplicates} duplicates of {TOTAL}"
    )


async def test_node_restart_publishes_the_rest(
    tmp_path: Path,
    broker_stack: BrokerStack,
    record_property: Callable[[str, object], None],
) -> None:
    broker = broker_stack
    fresh_topic = await _test_topic(broker)
    path = tmp_path / "outbox.sqlite"
    written = _entries(fresh_topic, TOTAL)

    # First life: the third batch is acknowledged by the broker, then the node dies
    # before it can mark the batch published.
    outbox = Outbox(path)
    await outbox.start()
    await outbox.add([], written)
    first = MemoryPublisher(_publisher(broker))
    first.hold_after(3)
    relay = OutboxRelay(outbox, first, batch=BATCH)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await first.wait_held(time_limit=WAIT)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await relay.close()
        await outbox.stop()

    # Second life: new objects on the same file.
    outbox = Outbox(path)
    await outbox.start()
    try:
        pending, published = await outbox.counts()
        assert (pending, published) == (TOTAL - 2 * BATCH, 2 * BATCH)
        second = MemoryPublisher(_publisher(broker))
        relay = OutboxRelay(outbox, second, batch=BATCH)
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        try:
            await second.wait_sent(pending, time_limit=WAIT)
        finally:
            await _stop(task, stop, relay)
        assert len(second.sent) == pending
        assert await outbox.counts() == (0, TOTAL)
    finally:
        await outbox.stop()

    read = await _read_topic(broker, fresh_topic, {e.key for e in written})
    duplicates = _check_delivery(written, read, record_property)
    # The batch acknowledged but never marked went out again, whole.
    assert duplicates >= BATCH
    print(f"restart: {duplicates} duplicates of {TOTAL}")  # noqa: T201  figures printed for the test log (pytest -s)

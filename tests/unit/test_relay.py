"""The outbox relay without a broker: entries handed over in memory, the file read only at
start-up, after failures and for other writers' entries, marks coalesced, and nothing
marked published that was not acknowledged (DESIGN §8)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from dief.exceptions import BrokerError, StorageError
from dief.node import Outbox, OutboxRelay, PendingEntry
from dief.seams import Backoff, OutboxEntry
from dief.testing import MemoryPublisher

WAIT = 10.0
FAST = Backoff(initial=0.01, maximum=0.05)


def _entry(i: int) -> OutboxEntry:
    return OutboxEntry("dief.afr.cases", f"case-{i:04d}".encode(), f"value-{i}".encode(), 0)


class CountingOutbox(Outbox):
    """Counts reads of the file and mark transactions."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.reads = 0
        self.marks = 0
        self.fail_marks = False

    async def pending(self, limit: int, *, after: int = 0) -> list[PendingEntry]:
        self.reads += 1
        return await super().pending(limit, after=after)

    async def mark_published(self, seqs: Sequence[int]) -> None:
        if self.fail_marks:
            raise StorageError("writing the outbox failed: disk full")
        self.marks += 1
        await super().mark_published(seqs)


@pytest.fixture
async def outbox(tmp_path: Path) -> AsyncIterator[CountingOutbox]:
    box = CountingOutbox(tmp_path / "outbox.sqlite")
    await box.start()
    yield box
    await box.stop()


async def _stop(task: asyncio.Task[None], stop: asyncio.Event) -> None:
    stop.set()
    async with asyncio.timeout(WAIT):
        await task


async def test_new_entries_are_handed_over_and_marks_coalesced(outbox: CountingOutbox) -> None:
    await outbox.add({}, [_entry(0), _entry(1)])  # before the relay starts: read from the file
    publisher = MemoryPublisher()
    relay = OutboxRelay(outbox, publisher, mark_interval=60.0, idle_read=60.0)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await publisher.wait_sent(2)
        reads = outbox.reads
        for i in range(2, 22):
            await outbox.add({}, [_entry(i)])
            await publisher.wait_sent(i + 1)
        assert outbox.reads == reads  # all 20 handed over, none read back
        assert outbox.marks == 0  # acknowledged, marked later in one go
        assert await outbox.counts() == (22, 0)
    finally:
        await _stop(task, stop)
    assert outbox.marks == 1
    assert await outbox.counts() == (0, 22)
    assert publisher.sent == [_entry(i) for i in range(22)]
    assert relay.published == 22


async def test_marks_are_written_once_a_batch_is_acknowledged(outbox: CountingOutbox) -> None:
    await outbox.add({}, [_entry(i) for i in range(10)])
    publisher = MemoryPublisher()
    relay = OutboxRelay(outbox, publisher, batch=4, mark_interval=60.0)
    assert await relay.drain_once() == 10
    assert publisher.calls == 3  # 4 + 4 + 2
    assert await outbox.counts() == (0, 10)
    assert outbox.marks == 3  # after 4, after 8, and the rest at the end of the drain


async def test_a_broker_failure_loses_nothing_and_marks_only_what_was_acknowledged(
    outbox: CountingOutbox,
) -> None:
    publisher = MemoryPublisher()
    relay = OutboxRelay(outbox, publisher, backoff=FAST, mark_interval=60.0)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await outbox.add({}, [_entry(0), _entry(1)])
        await publisher.wait_sent(2)
        publisher.faults.fail(BrokerError("publishing failed: KafkaTimeoutError"), times=3)
        for i in range(2, 12):
            await outbox.add({}, [_entry(i)])
        await publisher.wait_sent(10)
        assert relay.failures == 3
        assert outbox.reads >= 2  # start-up, then from the file after the failures
    finally:
        await _stop(task, stop)
    assert await outbox.counts() == (0, 12)
    assert set(publisher.sent) == {_entry(i) for i in range(12)}
    assert Counter(publisher.sent)[_entry(0)] == 1  # acknowledged before the failure: once


async def test_a_crash_between_acknowledgement_and_mark_only_publishes_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "outbox.sqlite"
    box = CountingOutbox(path)
    await box.start()
    await box.add({}, [_entry(i) for i in range(5)])
    first = MemoryPublisher()
    box.fail_marks = True  # the marks never reach the file (the node dies first)
    with pytest.raises(StorageError):
        await OutboxRelay(box, first).drain_once()
    assert len(first.sent) == 5
    await box.stop()

    box = CountingOutbox(path)
    await box.start()
    try:
        assert await box.counts() == (5, 0)
        second = MemoryPublisher()
        assert await OutboxRelay(box, second).drain_once() == 5
        assert second.sent == first.sent  # published again, whole; the aggregator dedupes
        assert await box.counts() == (0, 5)
    finally:
        await box.stop()


async def test_a_backlog_beyond_the_queue_is_read_from_the_file_once(
    outbox: CountingOutbox,
) -> None:
    publisher = MemoryPublisher()
    relay = OutboxRelay(outbox, publisher, batch=2, idle_read=60.0)  # holds 8 in memory
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await outbox.add({}, [_entry(0)])
        await publisher.wait_sent(1)
        publisher.hold()  # the broker is slow: hand-overs pile up
        for i in range(1, 31):
            await outbox.add({}, [_entry(i)])
        reads = outbox.reads
        publisher.release()
        await publisher.wait_sent(31)
        assert outbox.reads > reads  # the ones beyond the queue came from the file
    finally:
        await _stop(task, stop)
    assert sorted(publisher.sent, key=lambda e: e.key) == [_entry(i) for i in range(31)]
    assert await outbox.counts() == (0, 31)


async def test_entries_another_process_wrote_are_published(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    mine, other = Outbox(path), Outbox(path)  # `dief node` runs; `dief post` writes
    await mine.start()
    await other.start()
    publisher = MemoryPublisher()
    relay = OutboxRelay(mine, publisher, idle_read=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await mine.add({}, [_entry(0)])
        await publisher.wait_sent(1)
        await other.add({}, [_entry(1), _entry(2)])  # never handed over: found in the file
        await publisher.wait_sent(3)
    finally:
        await _stop(task, stop)
        await other.stop()
    assert await mine.counts() == (0, 3)
    await mine.stop()
    assert publisher.sent == [_entry(0), _entry(1), _entry(2)]


async def test_drain_once_reads_the_file_and_returns_the_count(outbox: CountingOutbox) -> None:
    publisher = MemoryPublisher()
    relay = OutboxRelay(outbox, publisher, batch=3)
    assert await relay.drain_once() == 0
    await outbox.add({}, [_entry(i) for i in range(7)])
    assert await relay.drain_once() == 7
    await outbox.add({}, [_entry(7)])
    assert await relay.drain_once() == 1  # not running: every drain reads the file
    assert publisher.sent == [_entry(i) for i in range(8)]
    assert await outbox.counts() == (0, 8)

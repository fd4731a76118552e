"""The outbox relay without a broker: entries handed over in memory, the file read only at
start-up, after failures and for other writers' entries, marks coalesced, and nothing
marked published that was not acknowledged (DESIGN §8); entries of different pseudonyms
sent after independent random delays, alerts at once (DESIGN §11)."""

from __future__ import annotations

import asyncio
import math
import random
from collections import Counter
from typing import TYPE_CHECKING

import pytest

from dief.exceptions import BrokerError, ConfigurationError, StorageError
from dief.node import Outbox, OutboxRelay, PendingEntry
from dief.seams import Backoff, OutboxEntry
from dief.testing import FakeClock, MemoryPublisher

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence
    from pathlib import Path

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
    await outbox.add([], [_entry(0), _entry(1)])  # before the relay starts: read from the file
    publisher = MemoryPublisher()
    relay = OutboxRelay(outbox, publisher, mark_interval=60.0, idle_read=60.0)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await publisher.wait_sent(2)
        reads = outbox.reads
        for i in range(2, 22):
            await outbox.add([], [_entry(i)])
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
    await outbox.add([], [_entry(i) for i in range(10)])
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
        await outbox.add([], [_entry(0), _entry(1)])
        await publisher.wait_sent(2)
        publisher.faults.fail(BrokerError("publishing failed: KafkaTimeoutError"), times=3)
        for i in range(2, 12):
            await outbox.add([], [_entry(i)])
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
    await box.add([], [_entry(i) for i in range(5)])
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
        await outbox.add([], [_entry(0)])
        await publisher.wait_sent(1)
        publisher.hold()  # the broker is slow: hand-overs pile up
        for i in range(1, 31):
            await outbox.add([], [_entry(i)])
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
        await mine.add([], [_entry(0)])
        await publisher.wait_sent(1)
        await other.add([], [_entry(1), _entry(2)])  # never handed over: found in the file
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
    await outbox.add([], [_entry(i) for i in range(7)])
    assert await relay.drain_once() == 7
    await outbox.add([], [_entry(7)])
    assert await relay.drain_once() == 1  # not running: every drain reads the file
    assert publisher.sent == [_entry(i) for i in range(8)]
    assert await outbox.counts() == (0, 8)


# -- independent random delays per pseudonym (DESIGN §11) ---------------------------------------

MAX_DELAY = 600.0


def _grouped(i: int, group: str, *, urgent: bool = False) -> OutboxEntry:
    return OutboxEntry(
        "dief.afr.cases", f"case-{i:04d}".encode(), f"value-{i}".encode(), 0, group, urgent
    )


def _delayed(
    box: Outbox, publisher: MemoryPublisher, clock: FakeClock, seed: int = 7
) -> OutboxRelay:
    return OutboxRelay(
        box, publisher, max_delay=MAX_DELAY, clock=clock, rng=random.Random(seed), idle_read=60.0
    )


def _draws(seed: int, n: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(0.0, MAX_DELAY) for _ in range(n)]


async def test_two_pseudonyms_entries_go_out_after_independent_delays(
    outbox: CountingOutbox,
) -> None:
    """The attack: records of two pseudonyms of one node accepted together used to leave
    together (one batch), so the aggregator could link them by arrival time."""
    clock, publisher = FakeClock(), MemoryPublisher()
    start = clock.now()
    await outbox.add([], [_grouped(0, "a"), _grouped(1, "b"), _grouped(2, "a")])
    relay = _delayed(outbox, publisher, clock)
    assert await relay.drain_once() == 0  # nothing leaves at once
    assert relay.held == 3
    due_a, due_b = (start + d for d in _draws(7, 2))  # one draw per group, in turn
    assert relay.next_due == min(due_a, due_b)
    first, second = sorted([(due_a, "a"), (due_b, "b")])
    clock.jump_to(first[0] - 0.001)
    assert await relay.drain_once() == 0
    clock.jump_to(first[0])
    sent_first = await relay.drain_once()
    assert {e.group for e in publisher.sent} == {first[1]}
    clock.jump_to(second[0])
    assert sent_first + await relay.drain_once() == 3
    assert [e.group for e in publisher.sent[sent_first:]] == [second[1]] * (3 - sent_first)
    assert await outbox.counts() == (0, 3)


async def test_every_group_draws_its_own_delay_within_the_bound(outbox: CountingOutbox) -> None:
    clock = FakeClock()
    start = clock.now()
    await outbox.add([], [_grouped(i, f"g{i}") for i in range(40)])
    relay = OutboxRelay(outbox, MemoryPublisher(), max_delay=MAX_DELAY, clock=clock)
    await relay.drain_once()  # the operating system's randomness: unpredictable
    dues = []
    while (due := relay.next_due) is not None:
        dues.append(due)
        clock.jump_to(due)
        await relay.drain_once()
    assert len(dues) == 40  # one release per group, none shared
    assert all(start <= due <= start + MAX_DELAY for due in dues)
    assert max(dues) - min(dues) > MAX_DELAY / 4  # spread over the window


async def test_an_urgent_entry_goes_at_once_with_what_waits_ahead_of_it(
    outbox: CountingOutbox,
) -> None:
    clock, publisher = FakeClock(), MemoryPublisher()
    relay = _delayed(outbox, publisher, clock)
    await outbox.add([], [_grouped(0, "a"), _grouped(1, "b")])
    assert await relay.drain_once() == 0
    await outbox.add([], [_grouped(2, "a", urgent=True)])  # an alert of pseudonym a
    assert await relay.drain_once() == 2
    assert publisher.sent == [_grouped(0, "a"), _grouped(2, "a", urgent=True)]  # in order
    assert relay.held == 1  # b still waits for its own delay
    await outbox.add([], [_grouped(3, "c", urgent=True)])
    assert await relay.drain_once() == 1  # an alert of a new pseudonym: no delay at all


async def test_entries_of_one_group_keep_their_order(outbox: CountingOutbox) -> None:
    clock, publisher = FakeClock(), MemoryPublisher()
    relay = OutboxRelay(outbox, publisher, batch=3, max_delay=MAX_DELAY, clock=clock)
    await outbox.add([], [_grouped(i, "ab"[i % 2]) for i in range(6)])
    await relay.drain_once()
    await outbox.add([], [_grouped(i, "ab"[i % 2]) for i in range(6, 9)])  # join the waiting
    await relay.drain_once()
    clock.advance(MAX_DELAY)
    assert await relay.drain_once() == 9
    for group in "ab":
        keys = [e.key for e in publisher.sent if e.group == group]
        assert keys == sorted(keys)
    assert publisher.calls == 3  # batches of 3, in sequence order across the due groups


async def test_a_restart_loses_nothing_and_draws_again(tmp_path: Path) -> None:
    path, clock = tmp_path / "outbox.sqlite", FakeClock()
    box = Outbox(path)
    await box.start()
    await box.add([], [_grouped(i, f"g{i % 3}") for i in range(6)])
    first = MemoryPublisher()
    relay = _delayed(box, first, clock, seed=1)
    await relay.drain_once()
    clock.jump_to(min(clock.now() + d for d in _draws(1, 3)))
    sent_before = await relay.drain_once()  # one group went out; the node then stops
    assert 0 < sent_before < 6
    await box.stop()

    box = Outbox(path)
    await box.start()
    try:
        second = MemoryPublisher()
        restarted = _delayed(box, second, clock, seed=2)
        assert await restarted.drain_once() == 0  # the rest waits again, for new draws
        assert restarted.held == 6 - sent_before
        clock.advance(MAX_DELAY)
        assert await restarted.drain_once() == 6 - sent_before
        assert sorted(first.sent + second.sent, key=lambda e: e.key) == [
            _grouped(i, f"g{i % 3}") for i in range(6)
        ]
        assert await box.counts() == (0, 6)
    finally:
        await box.stop()


async def test_the_running_relay_releases_a_group_when_its_delay_ends(
    outbox: CountingOutbox,
) -> None:
    clock, publisher = FakeClock(), MemoryPublisher()
    relay = _delayed(outbox, publisher, clock)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await outbox.add([], [_grouped(0, "a"), _grouped(1, "a", urgent=True)])
        await publisher.wait_sent(2)  # urgent: no delay
        await outbox.add([], [_grouped(2, "b")])
        clock.advance(MAX_DELAY)  # b's delay is over, whatever it was
        relay.notify()  # the clock moved (a real clock needs no telling)
        await publisher.wait_sent(3)
    finally:
        await _stop(task, stop)
    assert await outbox.counts() == (0, 3)


@pytest.mark.parametrize("max_delay", [-1.0, math.inf, math.nan])
def test_the_longest_delay_must_be_a_finite_number_of_seconds(
    tmp_path: Path, max_delay: float
) -> None:
    with pytest.raises(ConfigurationError):
        OutboxRelay(Outbox(tmp_path / "o.sqlite"), MemoryPublisher(), max_delay=max_delay)


async def test_a_delayed_backlog_beyond_four_batches_is_read_in_as_groups_leave(
    outbox: CountingOutbox,
) -> None:
    clock, publisher = FakeClock(), MemoryPublisher()
    relay = OutboxRelay(outbox, publisher, batch=2, max_delay=MAX_DELAY, clock=clock)
    await outbox.add([], [_grouped(i, f"g{i % 3}") for i in range(12)])
    assert await relay.drain_once() == 0
    assert relay.held == 8  # four batches held in memory; the rest stays in the file
    clock.advance(MAX_DELAY)
    sent = 0
    for _ in range(3):
        sent += await relay.drain_once()
        clock.advance(MAX_DELAY)
    assert sent == 12
    assert sorted(publisher.sent, key=lambda e: e.key) == [
        _grouped(i, f"g{i % 3}") for i in range(12)
    ]
    assert await outbox.counts() == (0, 12)

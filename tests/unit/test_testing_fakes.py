"""dief.testing's fakes: the clock, failure injection, the record, dead-letter and receipt
sinks, the publisher and the record feed (in memory, no sockets)."""

from __future__ import annotations

import asyncio

import pytest

from dief.exceptions import BrokerError, ConfigurationError, StorageError
from dief.seams import Clock, DeadLetter, InboundRecord, OutboxEntry, ReceiptRecord
from dief.testing import (
    FakeClock,
    Faults,
    MemoryDeadLetterSink,
    MemoryPublisher,
    MemoryReceiptSink,
    MemoryRecordFeed,
    MemoryRecordSink,
    SentRecord,
)

# -- FakeClock -----------------------------------------------------------------------------


def test_fake_clock_is_a_clock_that_moves_only_when_told() -> None:
    clock = FakeClock(1000.0)

    assert isinstance(clock, Clock)
    assert clock.now() == 1000.0  # noqa: RUF069  the fake clock's values are exact binary fractions
    assert clock.now() == 1000.0  # noqa: RUF069  the fake clock's values are exact binary fractions
    assert clock.advance(2.5) == 1002.5  # noqa: RUF069  the fake clock's values are exact binary fractions
    assert clock.now() == 1002.5  # noqa: RUF069  the fake clock's values are exact binary fractions
    assert repr(clock) == "FakeClock(now=1002.5)"


def test_fake_clock_defaults_to_a_fixed_epoch_time() -> None:
    assert FakeClock().now() == FakeClock().now() == 1_700_000_000.0  # noqa: RUF069  the fake clock's values are exact binary fractions


@pytest.mark.parametrize("seconds", [-1.0, float("nan"), float("inf")])
def test_fake_clock_never_goes_back_or_jumps_to_infinity(seconds: float) -> None:
    clock = FakeClock(10.0)

    with pytest.raises(ConfigurationError):
        clock.advance(seconds)
    assert clock.now() == 10.0  # noqa: RUF069  the fake clock's values are exact binary fractions


def test_fake_clock_refuses_a_non_finite_start() -> None:
    with pytest.raises(ConfigurationError):
        FakeClock(float("nan"))


def test_fake_clock_jumps_back_only_when_asked() -> None:
    clock = FakeClock(100.0)

    assert clock.jump_to(40.0) == 40.0  # noqa: RUF069  the fake clock's values are exact binary fractions
    assert clock.now() == 40.0  # noqa: RUF069  the fake clock's values are exact binary fractions
    with pytest.raises(ConfigurationError):
        clock.jump_to(float("inf"))
    assert clock.now() == 40.0  # noqa: RUF069  the fake clock's values are exact binary fractions


# -- Faults --------------------------------------------------------------------------------


def test_faults_fail_until_healed_with_the_given_error() -> None:
    faults = Faults()
    faults.check("send")  # healthy: nothing happens
    error = StorageError("disk full")
    faults.fail(error)
    for _ in range(3):
        with pytest.raises(StorageError) as raised:
            faults.check("send")
        assert raised.value is error
    assert faults.failing
    faults.heal()
    faults.check("send")
    assert (faults.failing, faults.injected) == (False, 3)


def test_faults_for_the_next_calls_only_default_to_a_broker_error() -> None:
    faults = Faults()
    faults.fail(times=2)
    for _ in range(2):
        with pytest.raises(BrokerError, match=r"publishing failed \(injected\)"):
            faults.check("publishing")
    faults.check("publishing")
    assert not faults.failing
    with pytest.raises(ConfigurationError):
        faults.fail(times=0)


# -- sinks ---------------------------------------------------------------------------------


async def test_record_sink_keeps_what_it_accepted_and_nothing_of_a_failed_send() -> None:
    sink = MemoryRecordSink()
    await sink.send("a", b"k1", b"v1")
    sink.faults.fail(times=1)
    with pytest.raises(BrokerError, match="publishing to b"):
        await sink.send("b", b"k2", b"v2")
    await sink.send("b", b"k3", b"v3")

    assert sink.sent == [SentRecord("a", b"k1", b"v1"), SentRecord("b", b"k3", b"v3")]
    assert sink.on("b") == [("b", b"k3", b"v3")]
    topic, key, value = sink.sent[0]
    assert (topic, key, value) == ("a", b"k1", b"v1")


async def test_dead_letter_sink_keeps_letters_and_their_reasons() -> None:
    record = InboundRecord("dief.afr.cases", 0, 3, b"k", b"v")
    letters = [DeadLetter(record, "malformed", "not JSON"), DeadLetter(record, "tombstone", "")]
    sink = MemoryDeadLetterSink()
    sink.faults.fail()
    with pytest.raises(BrokerError):
        await sink.send(letters)
    assert sink.sent == []
    sink.faults.heal()
    await sink.send(letters)

    assert sink.sent == letters
    assert sink.reasons() == ["malformed", "tombstone"]


# -- MemoryPublisher -----------------------------------------------------------------------


def _entries(*ids: int) -> list[OutboxEntry]:
    return [OutboxEntry("t", b"%d" % i, b"v%d" % i, 0) for i in ids]


async def test_publisher_acknowledges_in_order_and_counts() -> None:
    publisher = MemoryPublisher()
    await publisher.connect()
    await publisher.publish(_entries(0, 1))
    publisher.faults.fail(times=1)
    with pytest.raises(BrokerError):
        await publisher.publish(_entries(2))
    await publisher.publish(_entries(2))
    await publisher.close()

    assert publisher.sent == _entries(0, 1, 2)
    assert (publisher.calls, publisher.batches, publisher.failures) == (3, 2, 1)


async def test_publisher_holds_acknowledgements_until_released() -> None:
    publisher = MemoryPublisher()
    publisher.hold_after(2)
    await publisher.publish(_entries(0))
    second = asyncio.create_task(publisher.publish(_entries(1)))
    await publisher.wait_held(time_limit=5)
    assert publisher.sent == _entries(0, 1)  # the broker has it; the caller does not know
    assert not second.done()
    publisher.release()
    await asyncio.wait_for(second, 5)
    assert publisher.held == 0
    await publisher.wait_batches(2, time_limit=5)
    await publisher.wait_sent(2, time_limit=5)


async def test_publisher_spies_on_an_inner_publisher() -> None:
    inner = MemoryPublisher()
    inner.faults.fail(times=1)
    spy = MemoryPublisher(inner)
    with pytest.raises(BrokerError):
        await spy.publish(_entries(0))
    await spy.wait_failures(1, time_limit=5)
    await spy.publish(_entries(0))

    assert spy.sent == inner.sent == _entries(0)
    assert (spy.failures, inner.failures) == (1, 1)


async def test_publisher_waits_time_out_with_what_they_waited_for() -> None:
    with pytest.raises(TimeoutError, match="3 entries sent"):
        await MemoryPublisher().wait_sent(3, time_limit=0.01)


# -- receipts --------------------------------------------------------------------------------


async def test_memory_receipt_sink_keeps_what_it_accepted_and_fails_on_demand() -> None:
    sink = MemoryReceiptSink()
    sink.faults.fail(times=1)
    with pytest.raises(BrokerError):
        await sink.send([ReceiptRecord("a" * 64, b"sealed")])
    assert sink.sent == []
    await sink.send([ReceiptRecord("a" * 64, b"sealed")])
    assert [r.receipt_id for r in sink.sent] == ["a" * 64]
    assert "sealed" not in repr(sink.sent)


async def test_memory_record_feed_reads_from_positions_and_waits_only_when_caught_up() -> None:
    feed = MemoryRecordFeed(partitions=2, batch=2)
    for n in range(3):
        feed.append(b"k%d" % n, b"v", partition=n % 2)
    with pytest.raises(BrokerError):
        await feed.fetch(0.0)  # not started
    await feed.start({0: 1})
    assert [(r.partition, r.offset) for r in await feed.fetch(0.0)] == [(0, 1), (1, 0)]
    assert await feed.caught_up()
    waiting = asyncio.create_task(feed.fetch(30.0))
    await asyncio.sleep(0)
    feed.append(b"late", b"v", partition=0)
    assert [r.key for r in await asyncio.wait_for(waiting, 5.0)] == [b"late"]
    await feed.close()
    feed.faults.fail(times=1)
    with pytest.raises(BrokerError):
        await feed.start({})
    await feed.start({})
    assert len(await feed.fetch(0.0)) == 2  # one batch of two, from the beginning
    assert feed.starts == 2

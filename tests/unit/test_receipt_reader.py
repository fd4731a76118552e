"""The node's side of receipts (DESIGN §8 ⚑), with a topic in memory: a ticket per sealed
record written with the outbox entries, a reader that opens only its own receipts, keeps
outcomes idempotently whatever the order, and goes on where it stopped."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest

from dief.crypto import Opener, Sealer, receipt_id, seal_receipt
from dief.crypto.keys import KemPrivateKey
from dief.kafka import cases_topic
from dief.keyring import NodeSecret
from dief.node import NationalNode, NodeIdentity, Outbox, ReceiptBook, ReceiptReader
from dief.seams import Backoff
from dief.testing import FakeCredentials, MemoryRecordFeed
from dief.vocab import Region
from dief.wire import SUITE_X25519, TYPE_CASE, ReceiptOutcome, parse_case

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

TODAY = date(2026, 11, 22)
APPLIED, DUPLICATE = ReceiptOutcome.APPLIED, ReceiptOutcome.DUPLICATE
STALE, DEAD = ReceiptOutcome.STALE, ReceiptOutcome.DEAD_LETTERED


@pytest.fixture(scope="module")
def keys() -> dict[Region, KemPrivateKey]:
    return {r: KemPrivateKey.generate(SUITE_X25519) for r in Region}


@pytest.fixture
async def outbox(tmp_path: Path) -> AsyncIterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite")
    await box.start()
    yield box
    await box.stop()


class Posted:
    """What a node posted: per receipt id, the envelope id and receipt key the aggregator
    of its region finds when it opens the record."""

    def __init__(self) -> None:
        self.envelopes: dict[str, tuple[str, bytes, str]] = {}  # rid → (eid, key, region)
        self.by_case: dict[str, tuple[str, ...]] = {}


async def post(
    outbox: Outbox, keys: dict[Region, KemPrivateKey], *docs: dict[str, object]
) -> Posted:
    sealers = {
        r: Sealer(type=TYPE_CASE, region=r.value, recipients=[k.public_key])
        for r, k in keys.items()
    }
    node = NationalNode(
        NodeIdentity(NodeSecret("n", b"s" * 32)),
        outbox,
        sealers,
        {r: cases_topic(r) for r in Region},
        credentials=FakeCredentials(b"s" * 32),
    )
    items = [(n, parse_case(d, line=n, today=TODAY)) for n, d in enumerate(docs, start=1)]
    report = await node.submit(items)
    assert report.rejected == []
    posted = Posted()
    openers = {cases_topic(r): (r, Opener([k])) for r, k in keys.items()}
    for pending in await outbox.pending(1000):
        region, opener = openers[pending.entry.topic]
        opened = opener.open(pending.entry.value)
        posted.envelopes[receipt_id(opened.id)] = (opened.id, opened.receipt_key, region.value)
    posted.by_case = {a.case_id: a.receipts for a in report.accepted}
    return posted


def case(region: str = "AFR", **more: object) -> dict[str, object]:
    return {
        "confidence": "suspected",
        "region": region,
        "detected": "2026-07",
        "items": [{"category": "small_arms", "quantity": 40}],
        "transfer_stage": "in_transit",
        "detection_source": "customs_border_control",
        **more,
    }


def receipt(
    posted: Posted, rid: str, outcome: ReceiptOutcome, reason: str | None = None
) -> tuple[bytes, bytes]:
    """(key, value) of the receipt the aggregator sends for the record *rid*."""
    eid, key, region = posted.envelopes[rid]
    sent_id, value = seal_receipt(key, eid, outcome, reason, region)
    assert sent_id == rid
    return rid.encode(), value


def reader(outbox: Outbox, feed: MemoryRecordFeed) -> ReceiptReader:
    return ReceiptReader(ReceiptBook(outbox), feed, backoff=Backoff(initial=0.001, maximum=0.01))


async def read_all(outbox: Outbox, feed: MemoryRecordFeed) -> ReceiptReader:
    r = reader(outbox, feed)
    assert await r.read_until(r.caught_up, 5.0)
    await r.close()
    return r


async def outcomes(outbox: Outbox, rids: tuple[str, ...]) -> list[str]:
    states = await ReceiptBook(outbox).states(rids)
    return [states[rid].describe() for rid in rids]


async def test_a_ticket_is_kept_for_every_sealed_record_with_its_entries(
    outbox: Outbox, keys: dict[Region, KemPrivateKey]
) -> None:
    posted = await post(outbox, keys, case(), case("APG", related_regions=["EEG", "WEOG"]))
    rids = [rid for receipts in posted.by_case.values() for rid in receipts]
    assert len(rids) == 2 == len(await outbox.pending(1000))  # each to its own region only
    assert set(rids) == set(posted.envelopes)  # every record, and the aggregator's view
    book = ReceiptBook(outbox)
    kept = await book.keys(rids)
    assert {rid: kept[rid] for rid in rids} == {rid: posted.envelopes[rid][1] for rid in rids}
    states = await book.states(rids)
    second = list(posted.by_case)[1]
    assert [states[r].region for r in posted.by_case[second]] == ["APG"]
    assert {s.outcome for s in states.values()} == {None}
    cases = await book.cases()
    assert [(c.case_id, c.revision, len(c.records)) for c in cases] == [
        (cid, 1, len(r)) for cid, r in posted.by_case.items()
    ]


async def test_the_reader_keeps_its_own_receipts_and_skips_everything_else(
    outbox: Outbox, keys: dict[Region, KemPrivateKey]
) -> None:
    posted = await post(outbox, keys, case(), case(), case())
    (a,), (b,), (c,) = posted.by_case.values()
    feed = MemoryRecordFeed()
    feed.append(*receipt(posted, a, APPLIED))
    others_id, others = seal_receipt(os.urandom(32), str(uuid.uuid4()), APPLIED, None, "AFR")
    feed.append(others_id.encode(), others)  # another node's receipt: never opened
    feed.append(None, b"junk")
    eid = posted.envelopes[b][0]
    _, copied = seal_receipt(os.urandom(32), eid, APPLIED, None, "AFR")
    feed.append(b.encode(), copied)  # a copied envelope id: does not open with b's key
    feed.append(*receipt(posted, b, DEAD, "wrong_cycle"))
    r = await read_all(outbox, feed)
    assert r.received == 2
    assert await outcomes(outbox, (a, b, c)) == [
        "applied",
        "dead-lettered: wrong_cycle",
        "no receipt yet",
    ]
    assert await ReceiptBook(outbox).positions("dief.receipts") == {0: 5}


async def test_outcomes_are_kept_idempotently_whatever_comes_later(
    outbox: Outbox, keys: dict[Region, KemPrivateKey]
) -> None:
    posted = await post(outbox, keys, *(case() for _ in range(4)))
    (a,), (b,), (c,), (d,) = posted.by_case.values()
    feed = MemoryRecordFeed()
    for rid, outcome, reason in [
        (a, APPLIED, None),
        (a, DUPLICATE, None),  # a redelivery or a replay: applied stays
        (a, DEAD, "no_recipient_key"),  # out of order: applied stays
        (b, DEAD, "no_recipient_key"),
        (b, APPLIED, None),  # replayed once its cause was fixed
        (c, DEAD, "no_recipient_key"),
        (c, DEAD, "wrong_cycle"),  # replayed, refused again: today's reason
        (d, DUPLICATE, None),  # the first receipt was lost: what it says is kept
        (d, STALE, None),
    ]:
        feed.append(*receipt(posted, rid, outcome, reason))
    await read_all(outbox, feed)
    assert await outcomes(outbox, (a, b, c, d)) == [
        "applied",
        "applied",
        "dead-lettered: wrong_cycle",
        "stale",
    ]
    # The whole topic once more (a reader whose position was lost): nothing changes.
    assert await reader(outbox, MemoryRecordFeed()).handle(feed.log[0]) == 0
    assert await outcomes(outbox, (a, b, c, d)) == [
        "applied",
        "applied",
        "dead-lettered: wrong_cycle",
        "stale",
    ]


async def test_a_restarted_reader_goes_on_where_it_stopped(
    outbox: Outbox, keys: dict[Region, KemPrivateKey]
) -> None:
    posted = await post(outbox, keys, case(), case())
    (a,), (b,) = posted.by_case.values()
    feed = MemoryRecordFeed(partitions=2)
    feed.append(*receipt(posted, a, APPLIED), partition=1)
    feed.append(b"f" * 64, b"someone else's", partition=0)
    await read_all(outbox, feed)
    later = MemoryRecordFeed(partitions=2)
    later.log = feed.log
    feed.append(*receipt(posted, b, APPLIED), partition=0)
    r = await read_all(outbox, later)
    assert later.positions == {0: 1, 1: 1}
    assert r.received == 1  # only what came after
    assert await outcomes(outbox, (a, b)) == ["applied", "applied"]


async def test_run_keeps_reading_through_broker_failures(
    outbox: Outbox, keys: dict[Region, KemPrivateKey]
) -> None:
    posted = await post(outbox, keys, case())
    ((a,),) = posted.by_case.values()
    feed = MemoryRecordFeed()
    feed.faults.fail(times=3)
    feed.append(*receipt(posted, a, APPLIED))
    book = WatchedBook(outbox)
    stop = asyncio.Event()
    running = ReceiptReader(book, feed, backoff=Backoff(initial=0.001, maximum=0.01))
    task = asyncio.create_task(running.run(stop))
    try:
        await asyncio.wait_for(book.recorded.wait(), 10)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert feed.faults.injected == 3
    assert await outcomes(outbox, (a,)) == ["applied"]


class WatchedBook(ReceiptBook):
    """A receipt book that says when it recorded something."""

    def __init__(self, outbox: Outbox) -> None:
        super().__init__(outbox)
        self.recorded = asyncio.Event()

    async def record(self, *args: Any, **kwargs: Any) -> int:  # noqa: ANN401  passed through to the base class's record as given
        changed = await super().record(*args, **kwargs)
        self.recorded.set()
        return changed

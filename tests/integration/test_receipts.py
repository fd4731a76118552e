"""A node learns what became of each record (DESIGN §8 ⚑), on the embedded broker and on
Apache Kafka (nodes as ``node``, receipts written as an aggregator).

Two nodes post through their outboxes and relays; the regional aggregators (as ``dief
aggregate`` wires them, with their receipts going to ``dief.receipts``) apply or dead-letter
the records; each node's :class:`ReceiptReader` reads the whole receipts topic and keeps
the outcome of its own records only. Bad records are crafted the way a buggy or hostile
node would send them (sealed by hand, their tickets written to the outbox as the node
writes its own), and one record is sealed to another region's key: it cannot be opened, so
it gets no receipt. Waiting is on conditions with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CaseStore
from dief.crypto import RECEIPT_VALUE_BYTES, Sealer, open_receipt
from dief.database import sqlite_url
from dief.kafka import (
    RECEIPTS_TOPIC,
    KafkaReceiptSink,
    KafkaRecordFeed,
    NodePublisher,
    cases_topic,
    read_to_end,
)
from dief.node import (
    CaseIndexEntry,
    NationalNode,
    NodeIdentity,
    Outbox,
    OutboxRelay,
    ReceiptBook,
    ReceiptReader,
    ReceiptTicket,
)
from dief.periods import CspCycle
from dief.seams import HOUR_MS, OutboxEntry
from dief.vocab import Region
from dief.wire import case_id_for, generalise, parse_case
from tests.integration._pipeline_helpers import (
    TODAY,
    Forum,
    case_doc,
    publish_raw,
    running_aggregators,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence
    from pathlib import Path

    from dief.credentials import TokenWallet
    from dief.settings import KafkaSettings
    from tests.integration._brokers import BrokerStack

pytestmark = pytest.mark.integration

TIME_LIMIT = 60.0  # five consumer-group joins on the embedded broker come first


@dataclass
class Node:
    """One national node: its outbox, relay and receipt reader on the test's broker."""

    forum: Forum
    outbox: Outbox
    settings: KafkaSettings
    label: str = field(default_factory=lambda: f"node-{uuid.uuid4().hex[:8]}")
    sent: list[OutboxEntry] = field(default_factory=list)

    async def wallet(self, cycles: list[str]) -> TokenWallet:
        """The node's tokens for every region of *cycles*, from the forum's issuer (the
        node is registered on first use)."""
        return (await self.forum.issuer.issue({self.label: cycles}))[self.label].wallet

    @property
    def identity(self) -> NodeIdentity:
        return NodeIdentity(self.forum.ring.node(self.label).node_secret(self.label))

    @property
    def book(self) -> ReceiptBook:
        return ReceiptBook(self.outbox)

    def reader(self) -> ReceiptReader:
        feed = KafkaRecordFeed(self.settings, RECEIPTS_TOPIC, client_id="dief-node-receipts")
        return ReceiptReader(self.book, feed)

    async def post(self, *docs: dict[str, object]) -> list[tuple[str, ...]]:
        """Post *docs* as ``NationalNode`` does; the receipt ids of each case's records."""
        sealers = {r: self.forum.sealer(r) for r in Region}
        items = [(n, parse_case(d, today=TODAY)) for n, d in enumerate(docs, start=1)]
        wallet = await self.wallet(sorted({str(c.detected_month.cycle()) for _n, c in items}))
        node = NationalNode(
            self.identity,
            self.outbox,
            sealers,
            {r: cases_topic(r) for r in Region},
            credentials=wallet,
        )
        report = await node.submit(items)
        assert report.rejected == []
        return [a.receipts for a in report.accepted]

    async def craft(self, sealer: Sealer, **changes: object) -> str:
        """A signed record of a new AFR case with *changes* made to its JSON afterwards
        (what the node would have refused), sealed by *sealer* and written to the outbox
        with its ticket; its receipt id."""
        case = parse_case(case_doc("ZZA", "AFR"), today=TODAY)
        cycle = CspCycle.of(case.detected_month)
        wallet = await self.wallet([str(cycle)])
        index = self.outbox.next_index
        key = self.identity.owner_key(index)
        raw = key.public_key().public_bytes_raw()
        case_id = case_id_for("AFR", str(cycle), raw)
        unsigned = generalise(case, case_id=case_id, revision=1, owner_key=raw, cycle=cycle)
        credential = wallet.credential(str(cycle), "AFR")
        assert credential is not None
        envelope_id = uuid.uuid4()
        record = unsigned.sign(credential, str(envelope_id), key.sign)
        payload = json.loads(record.to_json()) | changes
        sealed = sealer.seal_with_receipt(json.dumps(payload).encode(), record_id=envelope_id)
        entry = OutboxEntry(cases_topic(Region.AFR), case_id.encode(), sealed.value, 0)
        ticket = ReceiptTicket(sealed.receipt_id, sealed.receipt_key, case_id, 1, "AFR")
        indexed = CaseIndexEntry(case_id, index, "AFR", str(cycle), 1)
        await self.outbox.add([indexed], [entry], receipts=[ticket])
        return sealed.receipt_id

    async def publish(self) -> int:
        self.sent.extend(p.entry for p in await self.outbox.pending(10_000))
        publisher = NodePublisher(self.settings)
        try:
            return await OutboxRelay(self.outbox, publisher).drain_once()
        finally:
            await publisher.close()

    async def said(self, rids: Sequence[str]) -> list[str]:
        states = await self.book.states(rids)
        return [states[rid].describe() for rid in rids]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "aggregator.sqlite")) as opened:
        yield opened


async def _node(forum: Forum, path: Path, settings: KafkaSettings) -> Node:
    outbox = Outbox(path)
    await outbox.start()
    return Node(forum, outbox, settings)


async def test_each_node_learns_what_became_of_its_own_records_and_nothing_else(
    broker_stack: BrokerStack, store: CaseStore, tmp_path: Path
) -> None:
    forum = Forum(tmp_path / "keys")
    settings = broker_stack.settings("node")
    sink = KafkaReceiptSink(broker_stack.settings("aggregator-afr"))  # any aggregator's
    alpha = await _node(forum, tmp_path / "alpha.sqlite", settings)
    bravo = await _node(forum, tmp_path / "bravo.sqlite", settings)
    try:
        async with running_aggregators(broker_stack, forum, store, receipts=sink) as processed:
            # alpha: a case, a case with APG on its route (it goes to AFR only), three
            # records a node should refuse (one changed after it was signed), and one
            # sealed to APG's key on the AFR topic (AFR cannot open it).
            (good,), (told,) = await alpha.post(
                case_doc("ZZA", "AFR"), case_doc("ZZA", "AFR", related_regions=["APG"])
            )
            cycle = await alpha.craft(forum.sealer("AFR"), cycle="CSP99")
            indicator = await alpha.craft(forum.sealer("AFR"), risk_indicators=["DOC-99"])
            altered = await alpha.craft(forum.sealer("AFR"), tlp="clear")
            blind = await alpha.craft(forum.sealer("AFR", keys_of="APG"))
            ((theirs,),) = await bravo.post(case_doc("ZZB", "WEOG"))
            assert await alpha.publish() == 6
            assert await bravo.publish() == 1
            await processed.wait_for(7, TIME_LIMIT)
            assert processed.outcomes == {
                "applied": 3,
                "dlq:wrong_cycle": 1,
                "dlq:unknown_indicator": 1,
                "dlq:ownership": 1,
                "dlq:no_recipient_key": 1,
            }

            mine = [good, told, cycle, indicator, altered, blind]
            reader = alpha.reader()
            expected = mine[:-1]

            async def all_there() -> bool:
                states = await alpha.book.states(expected)
                return all(s.outcome is not None for s in states.values())

            assert await reader.read_until(all_there, TIME_LIMIT)
            assert await alpha.said(mine) == [
                "applied",
                "applied",
                "dead-lettered: wrong_cycle",
                "dead-lettered: unknown_indicator",
                "dead-lettered: ownership",
                "no receipt yet",  # could not be opened: no receipt
            ]

            # bravo reads the same topic: only its own receipt is its, nothing of alpha's.
            theirs_reader = bravo.reader()
            assert await theirs_reader.read_until(theirs_reader.caught_up, TIME_LIMIT)
            await theirs_reader.close()
            assert theirs_reader.received == 1
            assert await bravo.said([theirs]) == ["applied"]
            assert await bravo.book.keys(mine) == {}
            assert await alpha.book.keys([theirs]) == {}

            await _check_the_wire(settings, [*expected, theirs])

            # The first record replayed: a duplicate, which does not hide "applied".
            await publish_raw(broker_stack, alpha.sent[:1])
            await processed.wait_for(8, TIME_LIMIT)
            assert processed.outcomes["duplicate"] == 1
            await _read_one_more(alpha, reader)
            assert await alpha.said([good]) == ["applied"]
            latest = (await read_to_end(settings, [RECEIPTS_TOPIC])).records[-1]
            assert latest.key == good.encode()
            key = (await alpha.book.keys([good]))[good]
            assert open_receipt(key, good, latest.value or b"").outcome == "duplicate"
    finally:
        await sink.close()
        await alpha.outbox.stop()
        await bravo.outbox.stop()


async def _check_the_wire(settings: KafkaSettings, receipt_ids: Sequence[str]) -> None:
    """One receipt per record that opened, all of one length, no headers, the hour only."""
    snapshot = await read_to_end(settings, [RECEIPTS_TOPIC])
    keys = [r.key.decode() for r in snapshot.records if r.key is not None]
    assert sorted(keys) == sorted(receipt_ids)
    assert {len(r.value or b"") for r in snapshot.records} == {RECEIPT_VALUE_BYTES}
    assert all(r.headers == () for r in snapshot.records)
    assert all(r.timestamp_ms % HOUR_MS == 0 for r in snapshot.records)


async def _read_one_more(node: Node, reader: ReceiptReader) -> None:
    """Read on until one more of *node*'s receipts came."""
    before = reader.received

    async def came() -> bool:
        return reader.received > before

    assert await reader.read_until(came, TIME_LIMIT)
    await reader.close()

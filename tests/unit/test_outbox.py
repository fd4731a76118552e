"""The node's outbox: sequence numbers, hand-over to the relay, the case index kept in memory
and checked against the file, marks, and files written before case records v2."""

from __future__ import annotations

import asyncio
import sqlite3
import zlib
from datetime import date
from typing import TYPE_CHECKING

import pytest

from dief.crypto import Sealer
from dief.crypto.keys import KemPrivateKey
from dief.exceptions import StorageError
from dief.kafka import cases_topic
from dief.keyring import NodeSecret
from dief.node import (
    CaseIndexEntry,
    NationalNode,
    NodeIdentity,
    Outbox,
    PendingEntry,
    RevisionConflict,
)
from dief.seams import OutboxEntry
from dief.testing import FakeCredentials
from dief.vocab import Region
from dief.wire import SUITE_X25519, TYPE_CASE, parse_case

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

TODAY = date(2026, 11, 22)
WAIT = 10.0


def _cases(revisions: dict[str, int]) -> list[CaseIndexEntry]:
    """Index entries of cases named *revisions*' keys (each with an index of its own)."""
    return [
        CaseIndexEntry(c, zlib.crc32(c.encode()), "AFR", "CSP12", r) for c, r in revisions.items()
    ]


def _entry(i: int) -> OutboxEntry:
    return OutboxEntry("dief.afr.cases", f"case-{i}".encode(), f"value-{i}".encode(), 0)


@pytest.fixture
async def outbox(tmp_path: Path) -> AsyncIterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite")
    await box.start()
    yield box
    await box.stop()


async def test_add_numbers_entries_in_order_and_pending_pages_by_sequence(outbox: Outbox) -> None:
    first = await outbox.add(_cases({"a": 1}), [_entry(0)])
    more = await outbox.add(_cases({"b": 1, "c": 1}), [_entry(1), _entry(2), _entry(3)])
    assert [p.seq for p in first] == [1]
    assert [p.seq for p in more] == [2, 3, 4]
    assert [p.entry for p in more] == [_entry(1), _entry(2), _entry(3)]
    assert await outbox.pending(2) == [*first, more[0]]
    assert await outbox.pending(10, after=2) == more[1:]
    await outbox.mark_published([1, 3])
    assert [p.seq for p in await outbox.pending(10)] == [2, 4]
    assert await outbox.counts() == (2, 2)


async def test_a_large_add_is_one_transaction_all_or_nothing(outbox: Outbox) -> None:
    revisions = {f"case-{i}": 1 for i in range(600)}
    added = await outbox.add(_cases(revisions), [_entry(i) for i in range(700)], source="ab" * 32)
    assert [p.seq for p in added] == list(range(1, 701))
    clash = {**{f"new-{i}": 1 for i in range(600)}, "case-599": 1}  # the last row conflicts
    with pytest.raises(RevisionConflict):
        await outbox.add(_cases(clash), [_entry(i) for i in range(700)], source="cd" * 32)
    assert await outbox.counts() == (700, 0)
    assert outbox.known_revisions(["new-0", "case-0"]) == {"case-0": 1}
    assert not await outbox.seen("cd" * 32)
    assert await outbox.seen("ab" * 32)


async def test_committed_entries_are_handed_to_the_listener_even_if_the_caller_is_cancelled(
    outbox: Outbox,
) -> None:
    got: list[list[PendingEntry]] = []
    arrived = asyncio.Event()

    def listener(entries: list[PendingEntry]) -> None:
        got.append(entries)
        arrived.set()

    outbox.listen(listener)
    task = asyncio.create_task(outbox.add(_cases({"a": 1}), [_entry(0), _entry(1)]))
    await asyncio.sleep(0)  # the transaction is on the outbox's thread now
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(WAIT):
        await arrived.wait()
    assert [[p.seq for p in batch] for batch in got] == [[1, 2]]
    assert await outbox.counts() == (2, 0)  # committed, durable
    with pytest.raises(StorageError, match="already has a relay"):
        outbox.listen(lambda _entries: None)
    outbox.listen(None)
    await outbox.add(_cases({"b": 1}), [_entry(2)])
    assert len(got) == 1  # nobody listening any more


async def test_revisions_come_from_memory_and_a_second_writer_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    mine, other = Outbox(path), Outbox(path)  # e.g. `dief node` and `dief post`
    await mine.start()
    await other.start()
    try:
        await mine.add(_cases({"x": 1}), [_entry(0)])
        assert mine.known_revisions(["x", "y"]) == {"x": 1}
        assert await other.revisions(["x"]) == {}  # loaded at its start, before x
        await other.add(_cases({"y": 1}), [_entry(1)])  # numbered from an outdated view: fine
        await mine.add(_cases({"y": 2}), [_entry(2)])
        with pytest.raises(RevisionConflict):
            await other.add(_cases({"y": 2}), [_entry(3)])  # y is at 2 in the file already
        # Nothing of the refused add was written, and its view is the file's again.
        assert await other.counts() == (3, 0)
        assert other.known_revisions(["x", "y"]) == {"x": 1, "y": 2}
        await other.add(_cases({"y": 3}), [_entry(3)])
        assert await mine.counts() == (4, 0)
    finally:
        await mine.stop()
        await other.stop()


def _node(box: Outbox, key: KemPrivateKey, secret: bytes) -> NationalNode:
    sealers = {
        r: Sealer(type=TYPE_CASE, region=r.value, recipients=[key.public_key]) for r in Region
    }
    return NationalNode(
        NodeIdentity(NodeSecret("n", secret)),
        box,
        sealers,
        {r: cases_topic(r) for r in Region},
        credentials=FakeCredentials(secret),
    )


async def test_a_node_numbers_again_when_another_process_revised_the_case(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    key = KemPrivateKey.generate(SUITE_X25519)
    doc = {
        "case_id": "8a0c3a5e-2f57-4f5e-9d0e-0d7b1b7f1a11",
        "confidence": "suspected",
        "region": "AFR",
        "detected": "2026-07-14",
        "items": [{"category": "small_arms", "quantity": 40}],
        "transfer_stage": "in_transit",
        "methods": ["falsified_documents"],
        "detection_source": "customs_border_control",
        "risk_indicators": ["DOC-01"],
    }
    service, cli = Outbox(path), Outbox(path)
    await service.start()
    await cli.start()
    try:
        running = _node(service, key, b"s" * 32)  # started before the case existed
        posted = await _node(cli, key, b"s" * 32).submit([(1, parse_case(doc, today=TODAY))])
        assert posted.accepted[0].revision == 1
        again = await running.submit([(1, parse_case(doc, today=TODAY))])
        assert [a.revision for a in again.accepted] == [2]
        stale = await running.submit([(1, parse_case({**doc, "revision": 2}, today=TODAY))])
        assert [r.reason for r in stale.rejected] == ["stale_revision"]
        assert await service.counts() == (2, 0)

        other = {**doc, "case_id": "0f6f2a39-5a0e-4e39-9a5b-3c1f3b0c6d22"}
        await _node(cli, key, b"s" * 32).submit([(1, parse_case(other, today=TODAY))])
        withdrawn = {**other, "status": "withdrawn"}  # no revision: the node must know it
        gone = await running.submit([(1, parse_case(withdrawn, today=TODAY))])
        assert gone.rejected == []
        assert [a.revision for a in gone.accepted] == [2]

        never = {**doc, "case_id": "5d1f0b7e-8e0c-4c1e-b7b2-6a8a2f4e9c33", "status": "withdrawn"}
        refused = await running.submit([(1, parse_case(never, today=TODAY))])
        assert [r.reason for r in refused.rejected] == ["unknown_case"]
    finally:
        await service.stop()
        await cli.stop()


#: The tables as the SQLAlchemy outbox created them.
_EARLIER_SCHEMA = """
CREATE TABLE outbox (
	seq INTEGER NOT NULL, 
	topic VARCHAR(64) NOT NULL, 
	"key" BLOB NOT NULL, 
	value BLOB NOT NULL, 
	timestamp_ms INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	published_at DATETIME, 
	PRIMARY KEY (seq)
);
CREATE INDEX ix_outbox_published_at ON outbox (published_at);
CREATE TABLE intake_sources (
	digest VARCHAR(64) NOT NULL, 
	posted_at DATETIME NOT NULL, 
	PRIMARY KEY (digest)
);
CREATE TABLE node_cases (
	case_id VARCHAR(36) NOT NULL, 
	revision INTEGER NOT NULL, 
	PRIMARY KEY (case_id)
);
INSERT INTO outbox VALUES (1, 'dief.afr.cases', X'6B31', X'7631', 0, '2026-11-23 00:39:05.355041',
    '2026-11-23 00:39:05.480514');
INSERT INTO outbox VALUES (2, 'dief.afr.cases', X'6B32', X'7632', 0, '2026-11-23 00:39:06.000000',
    NULL);
INSERT INTO node_cases VALUES ('k2', 3);
INSERT INTO intake_sources VALUES ('ff', '2026-11-23 00:39:05.000000');
"""  # noqa: W291 - the trailing spaces are SQLAlchemy's


async def test_an_outbox_from_before_case_records_v2_is_refused_clearly(tmp_path: Path) -> None:
    # Its cases have no case index, hence no owner keys: they cannot be revised under the
    # v2 contracts (DESIGN §0: formats change cleanly, no compatibility code).
    path = tmp_path / "outbox.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(_EARLIER_SCHEMA)
    with pytest.raises(StorageError, match="older DIEF"):
        await Outbox(path).start()


async def test_an_outbox_holding_cases_generalised_before_schema_3_is_refused_clearly(
    tmp_path: Path,
) -> None:
    # A held case waits for its token as a generalised record; one from before case record
    # schema 3 lacks the Working Group's fields and could never be signed, so it would hold
    # back its (cycle, region) for ever (docs/case-model.md).
    path = tmp_path / "outbox.sqlite"
    box = Outbox(path)
    await box.start()
    await box.stop()
    held = (
        "INSERT INTO held (seq, case_index, case_id, revision, region, cycle, record, "
        "created_at) VALUES (NULL, ?, 'x', 1, 'AFR', 'CSP12', ?, '2026-11-23')"
    )
    current = b'{"case_id":"y","revision":1,"region":"AFR","cycle":"CSP12","transfer_type":"x"}'
    with sqlite3.connect(path) as db:
        db.execute(held, (0, current))
    box = Outbox(path)
    await box.start()  # a held schema-3 record is fine
    await box.stop()
    old = b'{"case_id":"x","revision":1,"region":"AFR","cycle":"CSP12","kind":"case"}'
    with sqlite3.connect(path) as db:
        db.execute(held, (1, old))
    with pytest.raises(StorageError, match="older DIEF") as info:
        await Outbox(path).start()
    assert "schema 2" in info.value.message


async def test_failures_are_storage_errors_with_the_reason(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.sqlite")
    with pytest.raises(StorageError, match="not started"):
        await box.add(_cases({"a": 1}), [_entry(0)])
    (tmp_path / "taken").write_text("a file where the outbox's directory should be")
    with pytest.raises(StorageError, match=r"cannot open the outbox .*: File exists"):
        await Outbox(tmp_path / "taken" / "outbox.sqlite").start()

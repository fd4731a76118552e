"""RegionAggregator's receipts without a broker (DESIGN §8 ⚑): one per record that opened,
after the batch committed, sealed under the record's own receipt key; none for a record
refused at the envelope stage; the batch is not finished until they are acknowledged."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest

from dief.aggregator import RegionAggregator
from dief.aggregator.store import CaseStore
from dief.crypto import RECEIPT_VALUE_BYTES, Opener, SealedRecord, Sealer, open_receipt
from dief.database import sqlite_url
from dief.exceptions import AuthenticationError, BrokerError, StorageRefusedError
from dief.keyring import KeyRole, SimulatedForum
from dief.seams import InboundRecord, ReceiptRecord
from dief.testing import FakeCredentials, MemoryDeadLetterSink, MemoryReceiptSink
from dief.vocab import Region
from dief.wire import CASE_PADDED_SIZES, TYPE_CASE, Receipt, parse_case
from tests.unit.record_helpers import signed_record

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence
    from pathlib import Path

TOPIC = "dief.afr.cases"
#: a test's name for a case → the case id its owner key derives (what travels)
_DERIVED: dict[str, str] = {}


def cid(name: str) -> str:
    return _DERIVED.get(name, name)


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> SimulatedForum:
    return SimulatedForum.create(tmp_path_factory.mktemp("forum") / "keys", "pw")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "agg.sqlite")) as s:
        yield s


class _NodeSealer(Sealer):
    """Seals a case record in the envelope its ``envelope_id`` names, padded as a node
    pads it (unless the test gives another id)."""

    __slots__ = ()

    def seal_with_receipt(  # type: ignore[override]  # takes only the record id the test passes; no padding or schema
        self, payload: bytes, *, record_id: uuid.UUID | None = None
    ) -> SealedRecord:
        try:
            doc = json.loads(payload)
            named = uuid.UUID(doc["envelope_id"])
            pad = CASE_PADDED_SIZES[doc.get("summary") is not None]
        except (KeyError, ValueError, TypeError):
            return super().seal_with_receipt(payload, record_id=record_id)
        return super().seal_with_receipt(payload, record_id=record_id or named, pad_to=pad)


def sealer(ring: SimulatedForum, keys_of: str = "AFR") -> Sealer:
    recipients = ring.sealing_keys(KeyRole.REGION, keys_of)
    return _NodeSealer(type=TYPE_CASE, region="AFR", recipients=recipients)


def record(
    case_id: str,
    owner: str = "d" * 32,
    *,
    revision: int = 1,
    envelope_id: str | None = None,
    **changes: Any,  # noqa: ANN401  a JSON document or an untyped library object, as the test builds it
) -> bytes:
    """A valid AFR case record (JSON bytes) of the case the test calls *case_id*, signed by
    the owner key *owner* names, with *changes* applied to its JSON afterwards."""
    case = parse_case(
        {
            "confidence": "confirmed",
            "region": "AFR",
            "detected": "2026-02",
            "items": [{"category": "ammunition", "quantity": 300}],
            "transfer_stage": "at_import",
            "detection_source": "intelligence",
            "risk_indicators": ["DOC-01"],
        },
        today=date(2026, 6, 1),
    )
    index = 0 if owner == "d" * 32 else 1
    rec = signed_record(
        case,
        index=int(uuid.UUID(case_id)) % 2**40 * 2 + index,
        revision=revision,
        envelope_id=envelope_id,
    )
    _DERIVED.setdefault(case_id, rec.case_id)
    doc = json.loads(rec.to_json())
    doc["case_id"] = cid(case_id)  # another owner's key does not derive it: ownership
    doc.update(changes)
    return json.dumps(doc, separators=(",", ":")).encode()


def inbound(sealed: SealedRecord | bytes, case_id: str, offset: int) -> InboundRecord:
    value = sealed.value if isinstance(sealed, SealedRecord) else sealed
    return InboundRecord(TOPIC, 0, offset, cid(case_id).encode(), value)


async def handle(
    ring: SimulatedForum,
    store: CaseStore,
    records: Sequence[InboundRecord],
    **kwargs: Any,  # noqa: ANN401  a JSON document or an untyped library object, as the test builds it
) -> tuple[MemoryReceiptSink, MemoryDeadLetterSink]:
    sink, letters = MemoryReceiptSink(), MemoryDeadLetterSink()
    opener = Opener(ring.opening_keys(KeyRole.REGION, "AFR"))
    agg = RegionAggregator(
        Region.AFR, opener, store, letters, receipts=sink, credentials=FakeCredentials(), **kwargs
    )
    report = await agg.handle(records)
    assert report.receipts == len(sink.sent)
    return sink, letters


def opened(sink: MemoryReceiptSink, *sealed: SealedRecord) -> list[Receipt | None]:
    """Each sealed record's receipt (the first sent for it), opened with its key."""
    by_id: dict[str, ReceiptRecord] = {}
    for r in sink.sent:
        by_id.setdefault(r.receipt_id, r)
    out: list[Receipt | None] = []
    for s in sealed:
        found = by_id.get(s.receipt_id)
        out.append(
            None if found is None else open_receipt(s.receipt_key, s.receipt_id, found.value)
        )
    return out


def said(receipts: Sequence[Receipt | None]) -> list[str | None]:
    return [
        None if r is None else str(r.outcome) + (f":{r.reason}" if r.reason else "")
        for r in receipts
    ]


async def test_each_record_that_opened_gets_its_receipt(
    ring: SimulatedForum, store: CaseStore
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(5)]
    seal = sealer(ring)
    good = seal.seal_with_receipt(record(ids[0]))
    cycle = seal.seal_with_receipt(record(ids[1], cycle="CSP99"))
    indicator = seal.seal_with_receipt(record(ids[2], risk_indicators=["DOC-99"]))
    schema = seal.seal_with_receipt(record(ids[3], items=[]))
    blind = sealer(ring, keys_of="APG").seal_with_receipt(record(ids[4]))
    batch = [good, cycle, indicator, schema, blind]
    sink, letters = await handle(
        ring, store, [inbound(s, i, n) for n, (s, i) in enumerate(zip(batch, ids, strict=True))]
    )
    assert letters.reasons() == [
        "wrong_cycle",
        "unknown_indicator",
        "invalid_payload",
        "no_recipient_key",
    ]
    assert said(opened(sink, *batch)) == [
        "applied",
        "dead_lettered:wrong_cycle",
        "dead_lettered:unknown_indicator",
        "dead_lettered:invalid_payload",
        None,  # could not be opened: no receipt
    ]
    assert len(sink.sent) == 4
    assert {len(r.value) for r in sink.sent} == {RECEIPT_VALUE_BYTES}
    assert {r.region for r in opened(sink, good, cycle) if r} == {Region.AFR}


async def test_nothing_for_records_refused_at_the_envelope_stage(
    ring: SimulatedForum, store: CaseStore
) -> None:
    case = str(uuid.uuid4())
    not_an_envelope = inbound(b"{}", case, 0)
    tombstone = InboundRecord(TOPIC, 0, 1, b"k", None)
    bad_id = sealer(ring).seal_with_receipt(record(case), record_id=_LongId(case))
    sink, letters = await handle(
        ring, store, [not_an_envelope, tombstone, inbound(bad_id, case, 2)]
    )
    assert letters.reasons() == ["malformed", "malformed", "bad_id"]
    assert sink.sent == []


class _LongId(uuid.UUID):
    def __str__(self) -> str:
        return super().__str__() + "-and-more"


async def test_a_redelivery_says_duplicate_stale_and_forged_say_so(
    ring: SimulatedForum, store: CaseStore
) -> None:
    case = str(uuid.uuid4())
    seal = sealer(ring)
    first = seal.seal_with_receipt(record(case, revision=2))
    again = seal.seal_with_receipt(record(case, revision=2))  # revision 2 in a new envelope
    older = seal.seal_with_receipt(record(case))  # revision 1 after 2: stale
    forged = seal.seal_with_receipt(record(case, owner="e" * 32, revision=3))
    sink, _ = await handle(ring, store, [inbound(first, case, 0)])
    assert said(opened(sink, first)) == ["applied"]
    sink, letters = await handle(
        ring,
        store,
        [
            inbound(first, case, 0),
            inbound(again, case, 1),
            inbound(older, case, 2),
            inbound(forged, case, 3),
        ],
    )
    assert said(opened(sink, first, again, older, forged)) == [
        "duplicate",
        "duplicate",
        "stale",
        "dead_lettered:ownership",
    ]
    assert letters.reasons() == ["ownership"]


async def test_a_copied_envelope_id_gets_a_receipt_the_genuine_node_cannot_open(
    ring: SimulatedForum, store: CaseStore
) -> None:
    """The envelope id is in clear: a hostile sender can copy it. Its record's receipt has
    the genuine record's receipt id but is sealed under the copier's key."""
    case, envelope_id = str(uuid.uuid4()), uuid.uuid4()
    genuine = sealer(ring).seal_with_receipt(
        record(case, envelope_id=str(envelope_id)), record_id=envelope_id
    )
    copy = sealer(ring).seal_with_receipt(record(case, cycle="CSP99"), record_id=envelope_id)
    sink, _ = await handle(ring, store, [inbound(copy, case, 0), inbound(genuine, case, 1)])
    assert [r.receipt_id for r in sink.sent] == [genuine.receipt_id] * 2
    outcomes: list[str] = []
    for sent in sink.sent:
        try:
            receipt = open_receipt(genuine.receipt_key, sent.receipt_id, sent.value)
            outcomes.append(str(receipt.outcome))
        except AuthenticationError:
            outcomes.append("does not open")  # the copy's receipt: under the copier's key
    assert sorted(outcomes) == ["applied", "does not open"]


class PoisonedStore(CaseStore):
    poisoned = ""

    async def apply_batch(self, region, records, **kwargs):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN003, ANN201  overrides the aggregator's store method; its types come from the base
        if any(r.case_id == self.poisoned for r in records):
            raise StorageRefusedError("value out of range for the column (simulated)")
        return await super().apply_batch(region, records, **kwargs)


async def test_a_record_the_database_refuses_is_told_so(
    ring: SimulatedForum, tmp_path: Path
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(5)]
    sealed = [sealer(ring).seal_with_receipt(record(i)) for i in ids]
    async with PoisonedStore(sqlite_url(tmp_path / "p.sqlite")) as store:
        store.poisoned = cid(ids[2])
        batch = [inbound(s, i, n) for n, (s, i) in enumerate(zip(sealed, ids, strict=True))]
        sink, letters = await handle(ring, store, batch)
    assert letters.reasons() == ["database_refused"]
    assert (
        said(opened(sink, *sealed))
        == ["applied"] * 2 + ["dead_lettered:database_refused"] + ["applied"] * 2
    )
    assert len(sink.sent) == 5


async def test_receipts_are_sent_after_the_commit_and_a_failure_sends_the_batch_again(
    ring: SimulatedForum, store: CaseStore
) -> None:
    case = str(uuid.uuid4())
    good = sealer(ring).seal_with_receipt(record(case))
    sink, letters = MemoryReceiptSink(), MemoryDeadLetterSink()
    opener = Opener(ring.opening_keys(KeyRole.REGION, "AFR"))
    agg = RegionAggregator(
        Region.AFR, opener, store, letters, receipts=sink, credentials=FakeCredentials()
    )
    sink.faults.fail(times=1)
    with pytest.raises(BrokerError):
        await agg.handle([inbound(good, case, 0)])
    assert [c.case_id for c in await store.stored_cases("AFR")] == [cid(case)]  # committed
    report = await agg.handle([inbound(good, case, 0)])  # the batch comes again
    assert said(opened(sink, good)) == ["duplicate"]
    assert report.receipts == 1


async def test_without_a_receipt_sink_the_aggregator_works_as_before(
    ring: SimulatedForum, store: CaseStore
) -> None:
    case = str(uuid.uuid4())
    opener = Opener(ring.opening_keys(KeyRole.REGION, "AFR"))
    agg = RegionAggregator(
        Region.AFR, opener, store, MemoryDeadLetterSink(), credentials=FakeCredentials()
    )
    report = await agg.handle([inbound(sealer(ring).seal_with_receipt(record(case)), case, 0)])
    assert report.outcomes == {"applied": 1}
    assert report.receipts == 0

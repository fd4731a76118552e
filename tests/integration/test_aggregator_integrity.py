"""The aggregator trusts nothing and never stalls (issue: aggregator integrity; DESIGN §5, §8).

Each test is an attack or a poison record that today's aggregator mishandled: a record that
stops the partition for good (a too-long envelope id, a revision past the database's
integer), a record the node would have refused (a cycle that is not the month's, an unknown
indicator, a catalogue version that is not shipped, a region that is not the topic's), a
record whose copied envelope id pre-empts the genuine one, and a record that fails only
inside the database. Run on SQLite and on PostgreSQL (the throw-away cluster of the tests).

On the trust model: the records are posted by a node registered in the test's simulated
forum, with its owner keys and a real RFC 9474 contributor token from the forum's issuer,
and the aggregator verifies tokens with the forum's real check, as the services do.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import TYPE_CHECKING

import pytest

from dief.aggregator import RegionAggregator
from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogues
from dief.crypto import Opener, Sealer
from dief.exceptions import StorageRefusedError
from dief.keyring import KeyRole
from dief.seams import DeadLetter, InboundRecord
from dief.testing import MemoryDeadLetterSink
from dief.vocab import Region
from dief.wire import parse_case
from tests.integration._pipeline_helpers import Forum, database_url
from tests.integration.hostile import scenario_nodes
from tests.unit.record_helpers import signed_record

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence
    from pathlib import Path

    from dief.credentials import SimulatedNode, TokenVerifier

pytestmark = pytest.mark.integration

TOPIC = "dief.afr.cases"
#: the cycle of every record here (detected 2026-02)
CYCLE = "CSP12"
#: a test's name for a case → the case id its owner key derives (what travels)
_DERIVED: dict[str, str] = {}


def cid(name: str) -> str:
    return _DERIVED.get(name, name)


class Posting:
    """The test's simulated forum and the node that posts its records: its secret (owner
    keys) and its wallet of real tokens."""

    def __init__(self, forum: Forum, node: SimulatedNode) -> None:
        self.ring = forum.ring
        self._forum = forum
        self.node = node

    def verifier(self) -> TokenVerifier:
        """The aggregators' real token check (the directory's issuer keys)."""
        return self._forum.verifier()

    def sealer(self, region: str = "AFR") -> Sealer:
        return self._forum.sealer(region)


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory) -> Posting:
    keys = Forum(tmp_path_factory.mktemp("forum") / "keys")
    (node,) = scenario_nodes(keys.issuer, ["poster"], [CYCLE]).values()
    return Posting(keys, node)


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with database_url(request.param, tmp_path) as url, CaseStore(url) as opened:
        yield opened


def record_doc(
    forum: Posting,
    case_id: str,
    *,
    revision: int = 1,
    envelope_id: str | None = None,
    status: str = "active",
    summary: str | None = None,
    indicators: tuple[str, ...] = ("DOC-01",),
    signed_catalogue: str | None = None,
    **changes: object,
) -> dict[str, object]:
    """A valid, signed case record (as JSON data) of AFR for the case the test calls
    *case_id*, posted by *forum*'s node with its real token, with *changes* applied
    afterwards (what a hostile sender can do); *indicators* and *signed_catalogue* (the
    catalogue version named) are part of what the node signs."""
    case = parse_case(
        {
            "confidence": "confirmed",
            "region": "AFR",
            "detected": "2026-02",
            "items": [{"category": "ammunition", "quantity": 300}],
            "transfer_stage": "at_import",
            "methods": ["misdeclaration_concealment"],
            "risk_indicators": list(indicators),
            "end_user_type": "unknown",
            "detection_source": "intelligence",
            "status": status,
            "summary": summary,
            "case_id": case_id,
        },
        today=date(2026, 6, 1),
    )
    index = int(uuid.UUID(case_id)) % 2**40
    rec = signed_record(
        case,
        secret=forum.node.secret.secret_bytes(),
        index=index,
        revision=revision,
        envelope_id=envelope_id,
        credentials=forum.node.wallet,
        catalogue_version=signed_catalogue,
    )
    assert rec.cycle == CYCLE
    _DERIVED.setdefault(case_id, rec.case_id)
    doc: dict[str, object] = json.loads(rec.to_json())
    doc.update(changes)
    return doc


class _LongId(uuid.UUID):
    """A "UUID" whose text is longer than 36 characters: what a hostile sealer can write."""

    def __str__(self) -> str:
        return super().__str__() + "-and-then-some-more-characters"


def seal(
    forum: Posting, doc: dict[str, object] | bytes, record_id: uuid.UUID | None = None
) -> bytes:
    payload = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    if record_id is None and isinstance(doc, dict):
        record_id = uuid.UUID(str(doc["envelope_id"]))  # the envelope it names
    return forum.sealer().seal(payload, record_id=record_id)


def inbound(value: bytes, key: str, offset: int) -> InboundRecord:
    return InboundRecord(TOPIC, 0, offset, cid(key).encode(), value)


async def run(
    forum: Posting, store: CaseStore, values: Sequence[tuple[bytes, str]]
) -> tuple[MemoryDeadLetterSink, list[str]]:
    """Apply *values* (value, key) as one batch; the dead letters and the applied case ids."""
    sink = MemoryDeadLetterSink()
    agg = RegionAggregator(
        Region.AFR,
        Opener(forum.ring.opening_keys(KeyRole.REGION, "AFR")),
        store,
        sink,
        credentials=forum.verifier(),
    )
    await agg.handle([inbound(v, k, i) for i, (v, k) in enumerate(values)])
    cases = await store.stored_cases("AFR")
    return sink, sorted(c.case_id for c in cases)


def reasons(letters: Sequence[DeadLetter]) -> list[str]:
    return [d.reason for d in letters]


async def test_a_too_long_envelope_id_is_dead_lettered_and_the_batch_applies(
    forum: Posting, store: CaseStore
) -> None:
    good, bad = str(uuid.uuid4()), str(uuid.uuid4())
    sink, applied = await run(
        forum,
        store,
        [
            (seal(forum, record_doc(forum, bad), _LongId(bad)), bad),
            (seal(forum, record_doc(forum, good)), good),
        ],
    )
    assert reasons(sink.sent) == ["bad_id"]
    assert applied == [cid(good)]


@pytest.mark.parametrize("revision", [2**31, 2**63, 10**30])
async def test_a_revision_past_any_database_integer_is_refused(
    forum: Posting, store: CaseStore, revision: int
) -> None:
    good, bad = str(uuid.uuid4()), str(uuid.uuid4())
    sink, applied = await run(
        forum,
        store,
        [
            (seal(forum, {**record_doc(forum, bad), "revision": revision}), bad),
            (seal(forum, record_doc(forum, good)), good),
        ],
    )
    assert reasons(sink.sent) == ["invalid_payload"]
    assert applied == [cid(good)]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"cycle": "CSP99"}, "wrong_cycle"),
        ({"detected_month": "2026-10"}, "wrong_cycle"),  # 2026-10 is in CSP13
        ({"risk_indicators": ["DOC-99"]}, "unknown_indicator"),
        ({"catalogue_version": "1999.1"}, "unknown_catalogue"),
        ({"region": "APG"}, "wrong_region"),
        ({"detected_month": "2099-01", "cycle": "CSP85"}, "bad_month"),
        ({"detected_month": "2014-01", "cycle": "CSP1"}, "bad_month"),
    ],
    ids=["cycle", "month", "indicator", "catalogue", "region", "future", "before-treaty"],
)
async def test_records_the_node_would_refuse_are_refused(
    forum: Posting, store: CaseStore, changes: dict[str, object], reason: str
) -> None:
    bad = str(uuid.uuid4())
    doc = record_doc(forum, bad, **changes)  # type: ignore[arg-type]  # record fields set after signing, none of record_doc's keywords
    sink, applied = await run(forum, store, [(seal(forum, doc), bad)])
    assert reasons(sink.sent) == [reason]
    assert applied == []
    assert await store.cell_rows("AFR", ["CSP99", "CSP13"]) == []


async def test_every_shipped_catalogue_version_is_checked_by_its_own_ids(
    forum: Posting, store: CaseStore
) -> None:
    """A record naming an older catalogue version is applied (every version ships with the
    aggregator, DESIGN §6), and checked against that version: an id added later is refused."""
    older, newer = load_catalogues()["2026.1"], load_catalogues()["2026.2"]
    added = next(i for i in newer.ids if i not in older)
    good, bad = str(uuid.uuid4()), str(uuid.uuid4())
    sink, applied = await run(
        forum,
        store,
        [
            (seal(forum, record_doc(forum, good, signed_catalogue="2026.1")), good),
            (
                seal(
                    forum,
                    record_doc(forum, bad, signed_catalogue="2026.1", indicators=(added,)),
                ),
                bad,
            ),
        ],
    )
    assert reasons(sink.sent) == ["unknown_indicator"]
    assert applied == [cid(good)]


async def test_duplicate_keys_in_the_payload_are_refused(forum: Posting, store: CaseStore) -> None:
    bad = str(uuid.uuid4())
    text = json.dumps(record_doc(forum, bad))
    twice = text[:-1] + ', "tlp": "clear"}'  # a second "tlp" after the real one
    sink, applied = await run(forum, store, [(seal(forum, twice.encode()), bad)])
    assert reasons(sink.sent) == ["malformed_payload"]
    assert applied == []


async def test_a_copied_envelope_id_cannot_make_the_genuine_record_a_duplicate(
    forum: Posting, store: CaseStore
) -> None:
    genuine_case = str(uuid.uuid4())
    envelope_id = uuid.uuid4()
    genuine = seal(
        forum, record_doc(forum, genuine_case, envelope_id=str(envelope_id)), envelope_id
    )
    # The attacker saw the id on the topic (it is in clear) and gets there first: once with
    # a record that is dead-lettered, once with a valid record of another case.
    poison = seal(forum, record_doc(forum, genuine_case, cycle="CSP99"), envelope_id)
    other_case = str(uuid.uuid4())
    decoy = seal(forum, record_doc(forum, other_case, envelope_id=str(envelope_id)), envelope_id)
    sink, _ = await run(forum, store, [(poison, genuine_case), (decoy, other_case)])
    assert reasons(sink.sent) == ["wrong_cycle"]
    sink, applied = await run(forum, store, [(genuine, genuine_case)])
    assert sink.sent == []
    assert applied == sorted([cid(genuine_case), cid(other_case)])
    # ... and the genuine record delivered again is a duplicate, counted once.
    await run(forum, store, [(genuine, genuine_case)])
    totals = await store.cell_rows("AFR", ["CSP12"])
    total = next(r for r in totals if r.dimension == "_total")
    assert total.count == 2


class PoisonedStore(CaseStore):
    """A store whose database refuses every batch that holds one chosen case id: the seam
    for a record that passes validation and fails only inside the database."""

    poisoned: str = ""

    async def apply_batch(self, region, records, **kwargs):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN003, ANN201  overrides the store's method; its types come from the base
        if any(r.case_id == self.poisoned for r in records):
            raise StorageRefusedError("value out of range for the column (simulated)")
        return await super().apply_batch(region, records, **kwargs)


async def test_a_record_that_fails_only_in_the_database_is_isolated(
    forum: Posting, tmp_path: Path
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(7)]
    async with database_url("sqlite", tmp_path) as url, PoisonedStore(url) as store:
        values = [(seal(forum, record_doc(forum, i)), i) for i in ids]
        store.poisoned = cid(ids[4])
        sink, applied = await run(forum, store, values)
    assert reasons(sink.sent) == ["database_refused"]
    assert [d.record.offset for d in sink.sent] == [4]
    assert applied == sorted(cid(i) for i in ids[:4] + ids[5:])


async def test_a_dead_letter_replayed_once_its_cause_is_fixed_is_applied(
    forum: Posting, store: CaseStore
) -> None:
    """DESIGN §8: dead letters can be replayed once their cause is fixed. A record the
    aggregator could not open (its key was not picked up yet) is dead-lettered; replayed
    when the key is there, it is applied, and counted once however often it comes."""
    case = str(uuid.uuid4())
    value = seal(forum, record_doc(forum, case))
    blind = MemoryDeadLetterSink()
    without_key = RegionAggregator(
        Region.AFR,
        Opener(forum.ring.opening_keys(KeyRole.REGION, "APG")),
        store,
        blind,
        credentials=forum.verifier(),
    )
    await without_key.handle([inbound(value, case, 0)])
    assert reasons(blind.sent) == ["no_recipient_key"]
    sink, applied = await run(forum, store, [(value, case)])
    assert sink.sent == []
    assert applied == [cid(case)]
    await run(forum, store, [(value, case)])  # and once more: a duplicate now
    total = next(r for r in await store.cell_rows("AFR", ["CSP12"]) if r.dimension == "_total")
    assert total.count == 1


async def test_a_record_without_a_key_is_refused(forum: Posting, store: CaseStore) -> None:
    """The key keeps a case's revisions on one partition: a keyless record could be applied
    out of order with them."""
    case = str(uuid.uuid4())
    sink = MemoryDeadLetterSink()
    agg = RegionAggregator(
        Region.AFR,
        Opener(forum.ring.opening_keys(KeyRole.REGION, "AFR")),
        store,
        sink,
        credentials=forum.verifier(),
    )
    await agg.handle([InboundRecord(TOPIC, 0, 0, None, seal(forum, record_doc(forum, case)))])
    assert reasons(sink.sent) == ["key_mismatch"]
    assert await store.stored_cases("AFR") == []


async def test_a_withdrawal_erases_the_sealed_lesson(forum: Posting, store: CaseStore) -> None:
    """DESIGN §8: a withdrawal erases the case's sealed lesson at the aggregator."""
    case = str(uuid.uuid4())
    lesson = "Forged end-user certificates were found at the point of entry."
    first = seal(forum, record_doc(forum, case, summary=lesson))
    withdrawn = seal(forum, record_doc(forum, case, revision=2, status="withdrawn", summary=lesson))
    await run(forum, store, [(first, case)])
    assert [c for c, _ in await store.sealed_cases("AFR")] == [cid(case)]
    await run(forum, store, [(withdrawn, case)])
    assert await store.sealed_cases("AFR") == []
    assert await store.sealed_cases("AFR", include_withdrawn=True) == [(cid(case), b"")]

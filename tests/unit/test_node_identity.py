"""Case identity and ownership at the node (DESIGN §5 ⚑, §4 backups, §9 accepted.jsonl):
derived case ids, practitioners' references, the unknown-case rule, revisions that would move
a case, cases held until their contributor token arrives."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from dief.crypto.keys import KemPrivateKey
from dief.node import (
    CaseIndexEntry,
    NationalNode,
    Outbox,
    ReceiptBook,
    ReceiptState,
    write_accepted,
)
from dief.testing import FakeCredentials
from dief.vocab import Region
from dief.wire import SUITE_X25519
from tests.unit.test_node import _case, _items, _node, _records

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

REFERENCE = "0b6a3f7e-1111-4222-8333-444455556666"


@pytest.fixture(scope="module")
def keys() -> dict[Region, KemPrivateKey]:
    return {r: KemPrivateKey.generate(SUITE_X25519) for r in Region}


@pytest.fixture
async def outbox(tmp_path: Path) -> AsyncIterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite")
    await box.start()
    yield box
    await box.stop()


async def test_a_new_case_gets_a_derived_id_and_its_reference_stays_home(
    outbox: Outbox, keys: dict[Region, KemPrivateKey]
) -> None:
    node = _node(outbox, keys)
    report = await node.submit(_items(_case(case_id=REFERENCE)))
    [accepted] = report.accepted
    assert accepted.case_id != REFERENCE
    assert accepted.revision == 1
    [pending] = await outbox.pending(10)
    assert REFERENCE.encode() not in pending.entry.value
    [record] = await _records(outbox, keys)
    assert record.case_id == accepted.case_id
    assert REFERENCE not in record.to_json().decode()
    # The reference and the derived id both name the case from now on.
    by_reference = await node.submit(_items(_case(case_id=REFERENCE, confidence="confirmed")))
    by_id = await node.submit(_items(_case(case_id=accepted.case_id, status="withdrawn")))
    assert [a.case_id for a in by_reference.accepted + by_id.accepted] == [accepted.case_id] * 2
    assert [a.revision for a in by_reference.accepted + by_id.accepted] == [2, 3]


async def test_a_reference_and_its_revision_in_one_file(
    outbox: Outbox, keys: dict[Region, KemPrivateKey]
) -> None:
    report = await _node(outbox, keys).submit(
        _items(_case(case_id=REFERENCE), _case(case_id=REFERENCE, revision=2, status="withdrawn"))
    )
    assert report.rejected == []
    assert [(a.case_id, a.revision) for a in report.accepted] == [
        (report.accepted[0].case_id, 1),
        (report.accepted[0].case_id, 2),
    ]


async def test_every_new_case_has_its_own_owner_key_and_id(
    outbox: Outbox, keys: dict[Region, KemPrivateKey]
) -> None:
    report = await _node(outbox, keys).submit(_items(*[_case() for _ in range(5)]))
    records = await _records(outbox, keys)
    assert len({a.case_id for a in report.accepted}) == 5
    assert len({r.owner_key for r in records}) == 5
    assert len({r.contributor for r in records}) == 1  # one pseudonym per (cycle, region)


@pytest.mark.parametrize(
    "overrides",
    [
        {"case_id": REFERENCE, "revision": 2},
        {"case_id": REFERENCE, "status": "withdrawn"},
        {"case_id": REFERENCE, "status": "withdrawn", "revision": 4},
        {"revision": 3},
    ],
)
async def test_an_unknown_case_cannot_be_revised_or_withdrawn(
    outbox: Outbox, keys: dict[Region, KemPrivateKey], overrides: dict[str, object]
) -> None:
    report = await _node(outbox, keys).submit(_items(_case(**overrides)))
    assert [r.reason for r in report.rejected] == ["unknown_case"]
    assert await outbox.pending(10) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"region": "WEOG"}, "region_changed"), ({"detected": "2026-09-02"}, "cycle_changed")],
)
async def test_a_revision_cannot_move_a_case_to_another_region_or_cycle(
    outbox: Outbox, keys: dict[Region, KemPrivateKey], change: dict[str, object], reason: str
) -> None:
    node = _node(outbox, keys)
    [first] = (await node.submit(_items(_case()))).accepted
    report = await node.submit(_items(_case(case_id=first.case_id, **change)))
    [refused] = report.rejected
    assert refused.reason == reason
    assert "withdraw it and post it anew" in refused.message
    assert len(await outbox.pending(10)) == 1


async def test_a_held_case_is_released_when_its_credential_arrives_even_after_a_restart(
    tmp_path: Path, keys: dict[Region, KemPrivateKey]
) -> None:
    credentials = FakeCredentials(b"s" * 32)
    credentials.withheld.add(("CSP12", "AFR"))
    path = tmp_path / "o.sqlite"
    box = Outbox(path)
    await box.start()
    node = _node(box, keys, credentials=credentials)
    report = await node.submit(
        _items(_case(case_id=REFERENCE), _case(case_id=REFERENCE), _case(region="EEG"))
    )
    held = [a for a in report.accepted if a.held]
    assert [(a.revision, a.records, a.receipts) for a in held] == [(1, 0, ()), (2, 0, ())]
    assert len(await box.pending(10)) == 1  # the EEG case: its token is there
    assert await node.release_held() == 0  # still no token
    await box.stop()

    box = Outbox(path)  # a restart: nothing held is lost
    await box.start()
    assert box.held_count == 2
    credentials.withheld.clear()
    node = _node(box, keys, credentials=credentials)
    assert await node.release_held() == 2
    assert await node.release_held() == 0
    records = await _records(box, keys)
    afr = [r for r in records if r.region == "AFR"]
    assert [(r.case_id, r.revision) for r in afr] == [(held[0].case_id, 1), (held[0].case_id, 2)]
    assert all(FakeCredentials().verify(r.credential) for r in afr)
    states = await _receipt_states(box)
    assert {(s.case_id, s.revision) for s in states} >= {(held[0].case_id, 2)}
    await box.stop()


async def _receipt_states(box: Outbox) -> list[ReceiptState]:

    return [r for case in await ReceiptBook(box).cases() for r in case.records]


async def test_new_cases_wait_behind_held_ones_of_their_pair(
    outbox: Outbox, keys: dict[Region, KemPrivateKey]
) -> None:
    credentials = FakeCredentials(b"s" * 32)
    credentials.withheld.add(("CSP12", "AFR"))
    node = _node(outbox, keys, credentials=credentials)
    await node.submit(_items(_case()))
    credentials.withheld.clear()
    await node.submit(_items(_case(confidence="confirmed")))  # releases the first one first
    records = await _records(outbox, keys)
    assert [r.confidence for r in records] == ["suspected", "confirmed"]
    assert outbox.held_count == 0


async def test_after_a_restore_a_revision_needs_its_number(
    outbox: Outbox, keys: dict[Region, KemPrivateKey], tmp_path: Path
) -> None:
    node = _node(outbox, keys)
    [first] = (await node.submit(_items(_case(case_id=REFERENCE)))).accepted
    [entry] = await outbox.index_entries()
    assert entry == CaseIndexEntry(first.case_id, 0, "AFR", "CSP12", 1, REFERENCE)

    restored = Outbox(tmp_path / "restored.sqlite")
    await restored.start()
    unknown = CaseIndexEntry(entry.case_id, entry.index, entry.region, entry.cycle, None, REFERENCE)
    await restored.restore_index([unknown])
    node = _node(restored, keys)
    refused = await node.submit(_items(_case(case_id=REFERENCE)))
    assert [r.reason for r in refused.rejected] == ["unknown_revision"]
    given = await node.submit(_items(_case(case_id=REFERENCE, revision=5)))
    assert [(a.case_id, a.revision) for a in given.accepted] == [(first.case_id, 5)]
    [record] = await _records(restored, keys)
    [original] = await _records(outbox, keys)
    assert record.owner_key == original.owner_key  # the same owner key: it can sign
    # A new case after the restore gets the next index, not the restored one's.
    fresh = await node.submit(_items(_case()))
    assert fresh.accepted[0].case_id != first.case_id
    await restored.stop()


async def test_two_writers_never_give_two_cases_one_index(
    tmp_path: Path, keys: dict[Region, KemPrivateKey]
) -> None:
    path = tmp_path / "shared.sqlite"
    a, b = Outbox(path), Outbox(path)
    await a.start()
    await b.start()
    first = await _node(a, keys).submit(_items(_case()))
    second = await _node(b, keys).submit(_items(_case(region="EEG")))  # b numbered from 0 too
    assert first.accepted[0].case_id != second.accepted[0].case_id
    entries = await b.index_entries()
    assert sorted(e.index for e in entries) == [0, 1]
    await a.stop()
    await b.stop()


async def test_accepted_jsonl_names_the_derived_case_ids(
    outbox: Outbox, keys: dict[Region, KemPrivateKey], tmp_path: Path
) -> None:
    node: NationalNode = _node(outbox, keys)
    report = await node.submit(_items(_case(case_id=REFERENCE), _case(), _case(region="XX")))
    out = tmp_path / "accepted.jsonl"
    write_accepted(out, report.accepted)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == [
        {"line": a.line, "case_id": a.case_id, "revision": a.revision} for a in report.accepted
    ]
    assert [r["line"] for r in rows] == [1, 2]
    assert REFERENCE not in out.read_text()
    records = {r.case_id for r in await _records(outbox, keys)}
    assert {r["case_id"] for r in rows} == records

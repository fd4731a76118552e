"""The national node's intake: case identity and ownership, credentials and held cases,
screening, revisions, padding, sealing, outbox (DESIGN §5 ⚑, §8)."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING

import pytest

from dief.crypto import Opener, Sealer, b64url_decode
from dief.crypto.keys import KemPrivateKey
from dief.exceptions import ValidationError
from dief.kafka import cases_topic
from dief.keyring import NodeSecret
from dief.node import (
    NationalNode,
    NodeIdentity,
    Outbox,
    write_rejections,
)
from dief.seams import Backoff
from dief.testing import FakeClock, FakeCredentials
from dief.vocab import Region
from dief.wire import (
    CASE_PADDED_SIZES,
    CASE_SCHEMA_VERSION,
    SUITE_X25519,
    TYPE_CASE,
    CaseInput,
    CaseRecord,
    case_id_for,
    ownership_problem,
    parse_case,
)
from tests.unit.record_helpers import clear_text

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

TODAY = date(2026, 11, 22)
# 2026-11-22T10:37:12Z: the record timestamp must come out as 10:00:00.
NOW = 1_795_343_832.0


def _case(**overrides: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "confidence": "suspected",
        "region": "AFR",
        "detected": "2026-07-14",
        "items": [{"category": "small_arms", "quantity": 40}],
        "transfer_stage": "in_transit",
        "methods": ["falsified_documents"],
        "detection_source": "customs_border_control",
        "risk_indicators": ["DOC-01"],
        "submitted_by": "ZZA",
    }
    doc.update(overrides)
    return doc


@pytest.fixture(scope="module")
def region_keys() -> dict[Region, KemPrivateKey]:
    return {r: KemPrivateKey.generate(SUITE_X25519) for r in Region}


@pytest.fixture
async def outbox(tmp_path: Path) -> AsyncIterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite")
    await box.start()
    yield box
    await box.stop()


def _node(
    outbox: Outbox,
    keys: dict[Region, KemPrivateKey],
    secret: bytes = b"s" * 32,
    credentials: FakeCredentials | None = None,
) -> NationalNode:
    sealers = {
        r: Sealer(
            type=TYPE_CASE, region=r.value, recipients=[k.public_key], schema=CASE_SCHEMA_VERSION
        )
        for r, k in keys.items()
    }
    return NationalNode(
        NodeIdentity(NodeSecret("test-node", secret)),
        outbox,
        sealers,
        {r: cases_topic(r) for r in Region},
        credentials=credentials if credentials is not None else FakeCredentials(secret),
        clock=FakeClock(NOW),
    )


async def _records(outbox: Outbox, keys: dict[Region, KemPrivateKey]) -> list[CaseRecord]:
    out = []
    for pending in await outbox.pending(100):
        region = Region(pending.entry.topic.split(".")[1].upper())
        opened = Opener([keys[region]]).open(pending.entry.value)
        out.append(CaseRecord.model_validate_json(opened.payload))
    return out


def _items(*docs: dict[str, object]) -> list[tuple[int, CaseInput | ValidationError]]:
    out: list[tuple[int, CaseInput | ValidationError]] = []
    for line, doc in enumerate(docs, start=1):
        try:
            out.append((line, parse_case(doc, line=line, today=TODAY)))
        except ValidationError as exc:
            out.append((line, exc))
    return out


def test_owner_keys_derive_from_the_secret_and_the_case_index() -> None:
    node = NodeIdentity(NodeSecret("n", b"a" * 32))
    assert node.owner_public(0) == node.owner_public(0)
    assert node.owner_public(0) != node.owner_public(1)
    assert NodeIdentity(NodeSecret("n", b"b" * 32)).owner_public(0) != node.owner_public(0)
    assert node.case_id(3, "AFR", "CSP13") == case_id_for("AFR", "CSP13", node.owner_public(3))
    assert node.group("0" * 32) != node.group("1" * 32)
    assert node.group("0" * 32) != "0" * 32
    assert "a" * 8 not in repr(node)


async def test_accepted_case_is_sealed_generalised_and_never_names_the_state(
    outbox: Outbox, region_keys: dict[Region, KemPrivateKey]
) -> None:
    report = await _node(outbox, region_keys).submit(_items(_case()))
    assert report.rejected == []
    [accepted] = report.accepted
    [pending] = await outbox.pending(10)
    entry = pending.entry
    assert entry.topic == "dief.afr.cases"
    assert entry.key == accepted.case_id.encode()
    assert entry.timestamp_ms % 3_600_000 == 0
    assert "ZZA" not in clear_text(entry.value)  # (random fields can hold it by chance)
    opened = Opener([region_keys[Region.AFR]]).open(entry.value)
    record = CaseRecord.model_validate_json(opened.payload)
    assert record.case_id == accepted.case_id
    assert record.envelope_id == opened.id
    assert ownership_problem(json.loads(opened.payload), opened.id) is None
    assert FakeCredentials().verify(record.credential)
    assert entry.group == NodeIdentity(NodeSecret("n", b"s" * 32)).group(record.contributor)
    assert record.contributor not in entry.group
    assert not entry.urgent
    assert record.detected_month == "2026-07"
    assert [i.band for i in record.items] == ["11-100"]
    assert record.cycle == "CSP12"  # CSP12 = 2025-09 … 2026-08
    assert "ZZA" not in clear_text(opened.payload)
    assert b"submitted_by" not in opened.payload


async def test_a_case_goes_to_its_own_region_only(
    outbox: Outbox, region_keys: dict[Region, KemPrivateKey]
) -> None:
    report = await _node(outbox, region_keys).submit(_items(_case(related_regions=["EEG", "WEOG"])))
    assert report.accepted[0].records == 1
    [entry] = [p.entry for p in await outbox.pending(10)]
    assert entry.topic == "dief.afr.cases"
    [record] = await _records(outbox, region_keys)
    assert record.related_regions == ["EEG", "WEOG"]


async def test_records_are_padded_to_two_sizes_only(
    outbox: Outbox, region_keys: dict[Region, KemPrivateKey]
) -> None:
    docs = [
        _case(),
        _case(items=[{"category": "ammunition", "quantity": 5}] * 20, methods=["other"]),
        _case(summary="short lesson"),
        _case(summary="A much longer lesson on paperwork checks. " * 30),
    ]
    await _node(outbox, region_keys).submit(_items(*docs))
    sizes = set()
    for pending in await outbox.pending(10):
        ciphertext = b64url_decode(json.loads(pending.entry.value)["ciphertext"])
        sizes.add(len(ciphertext) - 16)  # the padded plaintext and the AES-GCM tag
    assert sizes == set(CASE_PADDED_SIZES)
    values = {len(p.entry.value) for p in await outbox.pending(10)}
    assert len(values) == 2  # the sealed size tells only whether there is a lesson


async def test_an_alert_is_urgent(outbox: Outbox, region_keys: dict[Region, KemPrivateKey]) -> None:
    await _node(outbox, region_keys).submit(_items(_case(kind="alert")))
    [pending] = await outbox.pending(10)
    assert pending.entry.urgent


async def test_one_bad_line_refuses_only_that_line(
    outbox: Outbox, region_keys: dict[Region, KemPrivateKey], tmp_path: Path
) -> None:
    docs = [_case() for _ in range(50)]
    docs[17] = _case(items=[{"category": "small_arm", "quantity": 1}])
    docs[33] = _case(summary="Rifles were shipped by Ruritania Arms, see www.example.org.")
    report = await _node(outbox, region_keys).submit(_items(*docs))
    assert [r.line for r in report.rejected] == [18, 34]
    assert report.rejected[0].reason == "invalid_value"
    assert "items[0].category" in report.rejected[0].message
    assert report.rejected[1].reason == "screening"
    assert "www.example.org" not in report.rejected[1].message
    assert len(report.accepted) == 48
    assert len(await outbox.pending(100)) == 48
    out = tmp_path / "rejected.jsonl"
    write_rejections(out, report.rejected)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["line"] for r in rows] == [18, 34]
    assert set(rows[0]) == {"line", "case_id", "reason", "message"}


async def test_revisions_are_numbered_and_stale_ones_refused(
    outbox: Outbox, region_keys: dict[Region, KemPrivateKey]
) -> None:
    node = _node(outbox, region_keys)
    first = await node.submit(_items(_case()))
    case_id = first.accepted[0].case_id
    second = await node.submit(_items(_case(case_id=case_id, confidence="confirmed")))
    assert second.accepted[0].revision == 2
    stale = await node.submit(_items(_case(case_id=case_id, revision=2)))
    assert stale.rejected[0].reason == "stale_revision"
    withdrawn = await node.submit(_items(_case(case_id=case_id, status="withdrawn")))
    assert withdrawn.accepted[0].revision == 3


async def test_a_restarted_node_continues_the_revision_numbers(
    tmp_path: Path, region_keys: dict[Region, KemPrivateKey]
) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    await box.start()
    first = await _node(box, region_keys).submit(_items(_case()))
    await box.stop()
    box = Outbox(tmp_path / "o.sqlite")
    await box.start()
    case_id = first.accepted[0].case_id
    again = await _node(box, region_keys).submit(_items(_case(case_id=case_id)))
    assert again.accepted[0].revision == 2
    assert (await box.counts()) == (2, 0)
    await box.stop()


def test_backoff_is_capped_and_survives_long_outages() -> None:
    backoff = Backoff(initial=0.1, maximum=5.0)
    assert 0.05 <= backoff.delay(0) <= 0.1
    assert 2.5 <= backoff.delay(10) <= 5.0
    assert 2.5 <= backoff.delay(5000) <= 5.0  # 2**5000 overflows a float


async def test_a_source_is_remembered_with_its_cases(
    outbox: Outbox, region_keys: dict[Region, KemPrivateKey]
) -> None:
    assert not await outbox.seen("f" * 64)
    await _node(outbox, region_keys).submit(_items(_case()), source="f" * 64)
    assert await outbox.seen("f" * 64)
    assert len(await outbox.pending(10)) == 1

"""The sealed digest payload: shape, round trip, signature, tampering, versions, sizes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dief.aggregator.store import CaseStore, DigestVersions
from dief.crypto import Opener, Sealer, canonical_json
from dief.database import sqlite_url
from dief.digests import (
    MAX_PAYLOAD_BYTES,
    DigestPayload,
    build_digest,
    build_payload,
    closed_periods,
    content_hash,
    parse_payload,
    payload_bytes,
    publish_closed_periods,
    publish_digests,
    sign_payload,
    signing_bytes,
)
from dief.digests._publish import _fit  # the fitting rule, tested directly
from dief.exceptions import (
    BrokerError,
    DiefError,
    NoRecipientKeyError,
    SignatureError,
    ValidationError,
)
from dief.kafka import DIGESTS_TOPIC
from dief.testing import MemoryRecordSink
from dief.vocab import Region, Tlp
from dief.wire import TYPE_DIGEST, Lesson
from tests.unit.reporting_support import make_facts
from tests.unit.secretariat_support import (
    CATALOGUE,
    ISSUED,
    KEYS,
    fill,
    issuer,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

AFR, EEG = Region.AFR, Region.EEG


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        await fill(s, 7, (AFR, EEG))
        yield s


async def _signed(store: CaseStore, period: str = "CSP12", region: Region = AFR) -> DigestPayload:
    draft = await build_payload(
        store, region, period, version=1, issued_at=ISSUED, catalogue=CATALOGUE
    )
    return sign_payload(draft, KEYS.region_sign[region])


async def test_payload_carries_the_meeting_digest_and_unsuppressed_non_red_cells(
    store: CaseStore,
) -> None:
    payload = await _signed(store, "CSP12")
    assert (payload.region, payload.period, payload.version) == (AFR, "CSP12", 1)
    assert payload.digest == await build_digest(store, AFR, "CSP12", k=2, catalogue=CATALOGUE)
    rows = await store.cell_rows("AFR", ["CSP12"], include_red=False)
    assert sorted(payload.rows(), key=repr) == sorted(rows, key=repr)
    with_red = await store.cell_rows("AFR", ["CSP12"], include_red=True)
    assert sum(r.count for r in with_red) > sum(r.count for r in rows)  # red really left out
    # below k_csp = 3 contributors, still present with its count: the Secretariat suppresses
    assert any(c.contributors < 3 for c in payload.csp_cells)


async def test_round_trip_through_the_wire_form(store: CaseStore) -> None:
    payload = await _signed(store)
    data = payload_bytes(payload)
    assert json.loads(data)["signature"]["alg"] == "MLDSA65+Ed25519"
    back = parse_payload(data, KEYS.keys_for)
    assert back == payload
    assert payload_bytes(back) == data
    assert back.issued_at == datetime(2026, 9, 1, 10, tzinfo=UTC)


async def test_signature_covers_everything_but_itself(store: CaseStore) -> None:
    payload = await _signed(store)
    assert payload.signature is not None
    assert b'"signature"' not in signing_bytes(payload)
    key = KEYS.region_sign[AFR].verify_key
    key.verify(signing_bytes(payload), payload.signature, context="dief.digest")
    with pytest.raises(SignatureError):  # the context binds what kind of document it is
        key.verify(signing_bytes(payload), payload.signature, context="dief.csp-summary")


async def test_issued_at_must_be_coarse(store: CaseStore) -> None:
    with pytest.raises(ValueError, match="to the hour"):
        await build_payload(
            store,
            AFR,
            "CSP12",
            version=1,
            issued_at=datetime(2026, 9, 1, 10, 5, tzinfo=UTC),
            catalogue=CATALOGUE,
        )


async def test_wrong_regions_key_does_not_verify(store: CaseStore) -> None:
    draft = await build_payload(
        store, AFR, "CSP12", version=1, issued_at=ISSUED, catalogue=CATALOGUE
    )
    forged = sign_payload(draft, KEYS.region_sign[EEG])
    with pytest.raises(SignatureError, match="not a trusted verify key"):
        parse_payload(payload_bytes(forged), KEYS.keys_for)


async def test_unsigned_and_malformed_payloads_are_refused(store: CaseStore) -> None:
    payload = await _signed(store)
    doc = json.loads(payload_bytes(payload))
    del doc["signature"]
    for unsigned in (json.dumps(doc).encode(), b'{"region": "AFR"}'):
        with pytest.raises(SignatureError) as refused:
            parse_payload(unsigned, KEYS.keys_for)
        assert refused.value.code == "unsigned"
    for bad in (b"[]", b"{", b'{"region": "AFR", "region": "AFR"}', b'{"region": "XYZ"}'):
        with pytest.raises(ValidationError) as invalid:
            parse_payload(bad, KEYS.keys_for)
        assert invalid.value.code == "invalid_payload"


async def test_a_signed_document_of_the_wrong_shape_is_refused(store: CaseStore) -> None:
    """Validly signed by the region, yet not schema 1 (an unknown member, a bad version)."""
    payload = await _signed(store)
    for change in ({"extra": 1}, {"version": 0}, {"period": "2026-13"}):
        doc = {**json.loads(signing_bytes(payload)), **change}
        signature = KEYS.region_sign[AFR].sign(canonical_json(doc), context="dief.digest")
        data = canonical_json({**doc, "signature": signature.model_dump()})
        with pytest.raises(ValidationError) as invalid:
            parse_payload(data, KEYS.keys_for)
        assert invalid.value.code == "invalid_payload"


async def test_a_changed_value_with_the_old_signature_fails(store: CaseStore) -> None:
    payload = await _signed(store)
    doc = json.loads(payload_bytes(payload))
    doc["csp_cells"][0]["count"] += 1
    with pytest.raises(SignatureError):
        parse_payload(json.dumps(doc).encode(), KEYS.keys_for)
    doc = json.loads(payload_bytes(payload))
    doc["version"] = 7  # a replay under a higher version
    with pytest.raises(SignatureError):
        parse_payload(json.dumps(doc).encode(), KEYS.keys_for)


@pytest.fixture
async def wire(store: CaseStore) -> bytes:
    return payload_bytes(await _signed(store, "2026-01"))


def _tampered_positions(data: bytes) -> list[int]:
    """Every byte of the first and last 300, and of each top-level member's start."""
    positions = set(range(min(300, len(data)))) | set(range(max(0, len(data) - 300), len(data)))
    for key in (b'"csp_cells"', b'"digest"', b'"issued_at"', b'"period"', b'"version"'):
        at = data.index(key)
        positions.update(range(at, min(len(data), at + 40)))
    return sorted(positions)


async def test_tampering_any_byte_fails(wire: bytes) -> None:
    accepted = []
    for i in _tampered_positions(wire):
        for flip in (0x01, 0x20):
            changed = bytearray(wire)
            changed[i] ^= flip
            try:
                parse_payload(bytes(changed), KEYS.keys_for)
            except DiefError:
                continue
            accepted.append((i, flip))
    assert accepted == []


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
async def test_tampering_a_random_byte_fails(wire: bytes, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(wire) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != wire[i]))
    changed = bytearray(wire)
    changed[i] = new
    with pytest.raises(DiefError):
        parse_payload(bytes(changed), KEYS.keys_for)


async def test_content_hash_ignores_version_issue_time_and_signature(store: CaseStore) -> None:
    payload = await _signed(store)
    again = payload.model_copy(
        update={"version": 5, "issued_at": datetime(2027, 1, 1, tzinfo=UTC), "signature": None}
    )
    assert content_hash(again) == content_hash(payload)
    other = await _signed(store, "CSP11")
    assert content_hash(other) != content_hash(payload)


# -- publishing ---------------------------------------------------------------------------


async def test_publish_seals_to_the_secretariat_keyed_by_region(store: CaseStore) -> None:
    sink = MemoryRecordSink()
    done = await publish_digests(store, AFR, ["CSP12", "2026-01"], issuer=issuer(AFR, sink))
    assert [(d.period, d.version) for d in done] == [("CSP12", 1), ("2026-01", 1)]
    assert [(s.topic, s.key) for s in sink.sent] == [(DIGESTS_TOPIC, b"AFR")] * 2
    opened = KEYS.opener().open(sink.sent[0].value)
    assert (opened.type, opened.schema, opened.region) == (TYPE_DIGEST, 1, "AFR")
    payload = parse_payload(opened.payload, KEYS.keys_for)
    assert (payload.period, payload.version, payload.issued_at) == ("CSP12", 1, ISSUED)
    assert all(d.size == len(s.value) for d, s in zip(done, sink.sent, strict=True))
    with pytest.raises(NoRecipientKeyError):  # nobody else can open it
        Opener([KEYS.other_kem]).open(sink.sent[0].value)


async def test_reissue_increments_the_version(store: CaseStore) -> None:
    sink = MemoryRecordSink()
    iss = issuer(AFR, sink)
    await publish_digests(store, AFR, ["CSP12"], issuer=iss)
    await publish_digests(store, AFR, ["CSP12", "CSP11"], issuer=iss)
    versions = [
        (p.period, p.version)
        for p in (
            parse_payload(KEYS.opener().open(s.value).payload, KEYS.keys_for) for s in sink.sent
        )
    ]
    assert versions == [("CSP12", 1), ("CSP12", 2), ("CSP11", 1)]
    state = await DigestVersions(store).of_region("AFR")
    assert (state["CSP12"].version, state["CSP12"].published_version) == (2, 2)


async def test_only_changed_skips_identical_digests(store: CaseStore) -> None:
    sink = MemoryRecordSink()
    iss = issuer(AFR, sink)
    first = await publish_digests(store, AFR, ["CSP12"], issuer=iss, only_changed=True)
    again = await publish_digests(store, AFR, ["CSP12"], issuer=iss, only_changed=True)
    assert (len(first), again) == (1, [])
    await fill(store, 99, (AFR,))  # late revisions and new cases
    third = await publish_digests(store, AFR, ["CSP12"], issuer=iss, only_changed=True)
    assert [d.version for d in third] == [2]


async def test_a_failed_publish_leaves_a_gap_not_a_reused_version(store: CaseStore) -> None:
    sink = MemoryRecordSink()
    sink.faults.fail(BrokerError("publishing to dief.digests failed"))
    iss = issuer(AFR, sink)
    with pytest.raises(BrokerError):
        await publish_digests(store, AFR, ["CSP12"], issuer=iss, only_changed=True)
    sink.faults.heal()
    done = await publish_digests(store, AFR, ["CSP12"], issuer=iss, only_changed=True)
    assert [d.version for d in done] == [2]  # published even though "only changed"


def test_closed_periods() -> None:
    periods = ["2026-04", "2026-05", "2026-06", "2026-Q2", "2026-Q3", "CSP12", "CSP13"]
    closed = closed_periods(periods, date(2026, 7, 3))
    assert closed == ["2026-04", "2026-05", "2026-06", "2026-Q2", "CSP11"]
    assert closed_periods([], date(2026, 9, 1)) == ["CSP12"]


async def test_publish_closed_periods_first_all_then_only_changes(store: CaseStore) -> None:
    sink = MemoryRecordSink()
    iss = issuer(AFR, sink)
    first = await publish_closed_periods(store, AFR, date(2026, 9, 2), issuer=iss)
    periods = {d.period for d in first}
    with_data = await store.periods_with_data("AFR")
    assert periods == set(closed_periods(with_data, date(2026, 9, 2)))
    assert {"2026-Q2", "CSP12", "CSP11"} <= periods
    assert "2026-Q3" not in periods  # July to September is not over on 2 September
    assert all(d.version == 1 for d in first)
    assert await publish_closed_periods(store, AFR, date(2026, 9, 2), issuer=iss) == []


async def test_oversized_lessons_are_withheld_with_a_note(store: CaseStore) -> None:
    text = "Check the end-user certificate against the consignee records. " * 30
    lessons = [Lesson(text=f"{i} {text}", tlp=Tlp.GREEN) for i in range(200)]
    sink = MemoryRecordSink()
    (done,) = await publish_digests(
        store, AFR, ["CSP12"], issuer=issuer(AFR, sink), lessons=lessons
    )
    payload = parse_payload(KEYS.opener().open(sink.sent[0].value).payload, KEYS.keys_for)
    kept = len(payload.digest.lessons)
    assert 0 < kept < 200
    assert done.lessons_withheld == 200 - kept
    assert (payload.digest.notes.model_extra or {})["lessons_withheld"] == 200 - kept
    bigger = _signed_with_lessons(payload, lessons[: kept + 1])
    assert len(payload_bytes(bigger)) > MAX_PAYLOAD_BYTES - 5000  # the fewest were withheld
    assert len(payload_bytes(payload)) <= MAX_PAYLOAD_BYTES
    assert done.size < 256 * 1024


def _signed_with_lessons(payload: DigestPayload, lessons: list[Lesson]) -> DigestPayload:
    digest = payload.digest.model_copy(update={"lessons": lessons})
    return sign_payload(payload.model_copy(update={"digest": digest}), KEYS.region_sign[AFR])


async def test_sealer_region_label_is_bound(store: CaseStore) -> None:
    """An envelope relabelled to another region does not open (AAD binds the header)."""
    payload = await _signed(store)
    value = Sealer(
        type=TYPE_DIGEST, region="AFR", recipients=[KEYS.secretariat_kem.public_key]
    ).seal(payload_bytes(payload))
    relabelled = value.replace(b'"region":"AFR"', b'"region":"EEG"')
    with pytest.raises(DiefError):
        KEYS.opener().open(relabelled)


@pytest.mark.slow
async def test_tampering_every_byte_of_a_small_digest_fails(tmp_path: Path) -> None:
    """Each byte of a whole signed payload (one case), changed in turn, is refused."""
    async with CaseStore(sqlite_url(tmp_path / "one.db")) as one:
        await one.apply_batch(
            "AFR",
            [make_facts(region="AFR", month="2026-01", node=1, values=(("kind", "alert"),))],
        )
        wire = payload_bytes(await _signed(one, "2026-01"))
    assert len(wire) > 6000  # the notes and the signature make up most of it
    accepted = []
    for i in range(len(wire)):
        changed = bytearray(wire)
        changed[i] ^= 0x01
        try:
            parse_payload(bytes(changed), KEYS.keys_for)
        except DiefError:
            continue
        accepted.append(i)
    assert accepted == []


async def test_catalogue_details_leave_before_any_lesson(store: CaseStore) -> None:
    """A cycle digest over the record size limit (the 2,500-case demo's AFR CSP11 was)
    first sheds what the catalogue already says of each checklist entry; the questions,
    counts and lessons stay."""
    draft = await _signed(store)
    long_source = "A public source of the indicator, cited in full. " * 400
    checklist = [e.model_copy(update={"source": long_source}) for e in draft.digest.checklist]
    assert len(checklist) * len(long_source) > MAX_PAYLOAD_BYTES
    lessons = [Lesson(text="Check the consignee records.", tlp=Tlp.GREEN)]
    digest = draft.digest.model_copy(update={"checklist": checklist, "lessons": lessons})
    fitted, withheld = _fit(draft.model_copy(update={"digest": digest}))
    assert withheld == 0
    assert fitted.digest.lessons == lessons
    assert [(e.id, e.question, e.count) for e in fitted.digest.checklist] == [
        (e.id, e.question, e.count) for e in checklist
    ]
    assert all(e.source is None and e.title is None for e in fitted.digest.checklist)
    assert any("catalogue" in t for t in fitted.digest.notes.text)
    assert len(payload_bytes(fitted)) <= MAX_PAYLOAD_BYTES

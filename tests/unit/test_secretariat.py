"""The Secretariat: verify, refuse to the DLQ, keep the latest version, publish summaries."""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any

import pytest

from dief.aggregator.store import CaseStore
from dief.crypto import Sealer, SigningKey
from dief.database import sqlite_url
from dief.digests import (
    DigestPayload,
    KeysFor,
    RegionDigests,
    build_payload,
    parse_payload,
    payload_bytes,
    publish_digests,
    sign_payload,
)
from dief.exceptions import BrokerError, SignatureError, UnprotectedCellError
from dief.kafka import CSP_TOPIC, DIGESTS_TOPIC
from dief.seams import DLQ_HEADERS, InboundRecord
from dief.secretariat import IncompleteCycleError, SecretariatStore, build_summary, verify_summary
from dief.testing import MemoryRecordSink, SentRecord
from dief.vocab import Region
from dief.wire import TYPE_CASE, TYPE_DIGEST, CspSummary
from tests.unit.reporting_support import History
from tests.unit.secretariat_support import (
    CATALOGUE,
    ISSUED,
    KEYS,
    MONTHS,
    dlq_reasons,
    fill,
    issuer,
    records,
    region_dlqs,
    secretariat,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from dief.disclosure import RowRequirement

AFR, EEG, WEOG = Region.AFR, Region.EEG, Region.WEOG
SECRETARIAT_KEYS = [KEYS.secretariat_sign.verify_key]


def test_support_keys_are_distinct() -> None:
    kids = {k.kid for k in KEYS.region_sign.values()} | {KEYS.secretariat_sign.kid}
    assert len(kids) == len(Region) + 1


@pytest.fixture
async def cases(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        yield s


@pytest.fixture
async def inbox(tmp_path: Path) -> AsyncIterator[SecretariatStore]:
    async with SecretariatStore(sqlite_url(tmp_path / "secretariat.db")) as s:
        yield s


async def _issue(
    cases: CaseStore,
    periods: list[str],
    regions: tuple[Region, ...] = tuple(Region),
    *,
    k_csp: int = 3,
) -> list[SentRecord]:
    sink = MemoryRecordSink()
    for region in regions:
        await publish_digests(cases, region, periods, issuer=issuer(region, sink, k_csp=k_csp))
    return sink.sent


def _published(sink: MemoryRecordSink) -> list[CspSummary]:
    out = []
    for sent in sink.on(CSP_TOPIC):
        verified = verify_summary(sent.value, SECRETARIAT_KEYS)
        assert sent.key == verified.summary.cycle.encode()
        out.append(verified.summary)
    return out


def _unsigned(summary: CspSummary) -> dict[str, object]:
    data: dict[str, object] = summary.model_dump(mode="json", by_alias=True)
    data["signature"] = None
    data["issued_at"] = None  # when it was signed, not what it reports
    return data


@pytest.mark.parametrize(
    ("seed", "k"),
    [
        (3, 3),
        (4, 3),
        (5, 2),
        (6, 4),
    ],
)
async def test_summary_from_digests_equals_summary_from_the_store(
    cases: CaseStore, inbox: SecretariatStore, seed: int, k: int
) -> None:
    await fill(cases, seed)
    sent = await _issue(cases, ["CSP11", "CSP12", "2026-03"], k_csp=k)
    sink, dlq = MemoryRecordSink(), region_dlqs()
    report = await secretariat(inbox, sink, dlq, k_csp=k).handle(records(sent))
    assert report.outcomes == {"stored": 15}
    assert report.summaries == ["CSP11", "CSP12"]
    assert dlq_reasons(dlq) == {}
    summaries = {s.cycle: s for s in _published(sink)}
    prior: CspSummary | None = None  # the previous cycle's summary breaks ties
    for cycle in ("CSP11", "CSP12"):
        # what each region's joint pattern requires of its row, as its cycle digest said
        rows = {
            region: (
                await RegionDigests.load(
                    cases, region, k=2, k_csp=k, earlier=await cases.published_suppressions(region)
                )
            ).pattern.rows[cycle]
            for region in Region
        }
        direct = await build_summary(
            cases, cycle, k=k, catalogue=CATALOGUE, prior_cycle=prior, rows=rows
        )
        assert _unsigned(summaries[cycle]) == _unsigned(direct)
        prior = summaries[cycle]
    csp12 = summaries["CSP12"]
    assert csp12.methodology.suppressed > 0  # the comparison covers suppression too
    assert csp12.signature is not None
    assert csp12.signature["kid"] == KEYS.secretariat_sign.kid


async def test_a_summary_waits_for_every_region(cases: CaseStore, inbox: SecretariatStore) -> None:
    await fill(cases, 8)
    four = await _issue(cases, ["CSP12"], (Region.AFR, Region.APG, Region.EEG, Region.GRULAC))
    sink, dlq = MemoryRecordSink(), region_dlqs()
    sec = secretariat(inbox, sink, dlq)
    report = await sec.handle(records(four))
    assert (report.summaries, sink.on(CSP_TOPIC)) == ([], [])
    assert await sec.missing("CSP12") == [WEOG]
    with pytest.raises(IncompleteCycleError, match="WEOG"):
        await sec.build("CSP12")
    partial = await sec.build("CSP12", partial=True)
    assert WEOG not in partial.regions
    assert len(partial.regions) == 4
    last = await _issue(cases, ["CSP12"], (WEOG,))
    report = await sec.handle(records(last, start=4))
    assert report.summaries == ["CSP12"]
    assert set(_published(sink)[0].regions) == set(Region)


async def test_a_summary_that_cannot_be_protected_is_withheld_and_the_batch_goes_on(
    cases: CaseStore, inbox: SecretariatStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disclosure control that cannot protect a cycle's summary fails the same way every
    time: retrying the batch held the Secretariat's partition for good (session 20: ten
    minutes of retries, no later digest read). The cycle is withheld, with its reason,
    and the batch is applied; a later batch for the cycle tries it again."""
    await fill(cases, 8)
    sent = await _issue(cases, ["CSP12", "CSP13"])
    where = "dief.secretariat._cycle_summary.build_summary"  # what Secretariat.build calls

    async def cannot(stores: SecretariatStore, cycle: str, **kwargs: Any) -> CspSummary:  # noqa: ANN401  build_summary's keywords, passed through
        if cycle == "CSP12":
            raise UnprotectedCellError(("CSP12", "end_user_type", "civilian_market"))
        return await build_summary(stores, cycle, **kwargs)

    monkeypatch.setattr(where, cannot)
    sink, dlq = MemoryRecordSink(), region_dlqs()
    sec = secretariat(inbox, sink, dlq)
    report = await sec.handle(records(sent))
    assert report.summaries == []
    # CSP13 waits too: its trend flags compare with CSP12's tables, never published
    assert list(report.withheld) == ["CSP12", "CSP13"]
    assert "end_user_type/civilian_market" in report.withheld["CSP12"]
    assert "CSP12" in report.withheld["CSP13"]
    assert report.outcomes == {"stored": 2 * len(Region)}
    assert sink.on(CSP_TOPIC) == []
    # kept, not only logged: the Secretariat's portal shows it after a restart
    held = await inbox.withheld()
    assert sorted(held) == ["CSP12", "CSP13"]
    assert report.withheld_now == 2  # the gauge's value
    assert held["CSP12"].reason == report.withheld["CSP12"]
    assert held["CSP13"].reason == report.withheld["CSP13"]
    monkeypatch.setattr(where, build_summary)
    again = await sec.handle(records(sent))
    assert (again.summaries, again.withheld) == (["CSP12", "CSP13"], {})
    assert [s.cycle for s in _published(sink)] == ["CSP12", "CSP13"]
    assert await inbox.withheld() == {}  # published now: no longer withheld
    assert again.withheld_now == 0


async def test_a_withheld_cycle_keeps_the_day_it_was_first_withheld(
    inbox: SecretariatStore,
) -> None:
    await inbox.record_withheld("CSP12", "first reason")
    first = (await inbox.withheld())["CSP12"]
    await inbox.record_withheld("CSP12", "second reason")
    second = (await inbox.withheld())["CSP12"]
    assert (second.reason, second.since) == ("second reason", first.since)
    assert second.checked_at >= first.checked_at
    await inbox.clear_withheld("CSP12")
    await inbox.clear_withheld("CSP12")  # clearing twice is harmless
    assert await inbox.withheld() == {}


async def test_digest_signed_with_another_regions_key_goes_to_the_dlq(
    cases: CaseStore, inbox: SecretariatStore
) -> None:
    await fill(cases, 9, (AFR,))
    draft = await build_payload(
        cases, AFR, "CSP12", version=1, issued_at=ISSUED, catalogue=CATALOGUE
    )
    forged = sign_payload(draft, KEYS.region_sign[EEG])
    value = _seal(AFR, payload_bytes(forged))
    sink, dlq = MemoryRecordSink(), region_dlqs()
    sec = secretariat(inbox, sink, dlq, regions=(AFR,))
    report = await sec.handle([_record(value, b"AFR", offset=41)])
    assert report.outcomes == {"dlq:bad_signature": 1}
    (letter,) = dlq[AFR].sent
    headers = dict(letter.headers())
    assert [name for name, _ in letter.headers()] == list(DLQ_HEADERS)
    assert headers["dief-reason"] == b"bad_signature"
    assert b"not a trusted verify key" in headers["dief-detail"]
    assert (headers["dief-source-topic"], headers["dief-source-offset"]) == (
        DIGESTS_TOPIC.encode(),
        b"41",
    )
    assert letter.record.value == value  # the original value, unchanged
    assert await inbox.versions("CSP12") == {}
    assert sink.sent == []


async def test_refusals_go_to_the_claimed_regions_dlq_or_stay_in_the_database(
    cases: CaseStore, inbox: SecretariatStore
) -> None:
    await fill(cases, 10, (AFR, EEG))
    good = sign_payload(
        await build_payload(cases, AFR, "CSP12", version=1, issued_at=ISSUED, catalogue=CATALOGUE),
        KEYS.region_sign[AFR],
    )
    eeg = sign_payload(
        await build_payload(cases, EEG, "CSP12", version=1, issued_at=ISSUED, catalogue=CATALOGUE),
        KEYS.region_sign[EEG],
    )
    not_for_us = Sealer(
        type=TYPE_DIGEST, region="EEG", recipients=[KEYS.other_kem.public_key]
    ).seal(payload_bytes(eeg))
    a_case = Sealer(
        type=TYPE_CASE, region="AFR", recipients=[KEYS.secretariat_kem.public_key]
    ).seal(b"{}")
    batch = [
        _record(not_for_us, b"EEG", 0),  # sealed to someone else
        _record(b"garbage", b"WEOG", 1),  # not an envelope: the key names the region
        _record(b"garbage", None, 2),  # names no region at all
        _record(None, b"AFR", 3),  # a tombstone
        _record(a_case, b"AFR", 4),  # a case envelope on the digests topic
        _record(_seal(AFR, payload_bytes(good)), b"EEG", 5),  # key is not the region
        _record(_seal(EEG, payload_bytes(good)), b"EEG", 6),  # AFR digest sealed as EEG
    ]
    sink, dlq = MemoryRecordSink(), region_dlqs()
    sec = secretariat(inbox, sink, dlq)
    report = await sec.handle(batch)
    assert dlq_reasons(dlq) == {
        EEG: ["no_recipient_key", "wrong_region"],
        WEOG: ["malformed"],
        AFR: ["malformed", "wrong_type", "key_mismatch"],
    }
    assert report.outcomes["kept:malformed"] == 1
    assert report.refused == 7
    assert await inbox.refused_counts() == {"malformed": 1}
    await sec.handle([_record(b"garbage", None, 2)])  # a redelivery is kept once
    assert await inbox.refused_counts() == {"malformed": 1}
    assert await inbox.versions("CSP12") == {}


async def test_the_latest_version_is_kept(cases: CaseStore, inbox: SecretariatStore) -> None:
    await fill(cases, 11, (AFR,))
    sink = MemoryRecordSink()
    iss = issuer(AFR, sink)
    await publish_digests(cases, AFR, ["CSP12"], issuer=iss)
    v1_rows = await cases.cell_rows("AFR", ["CSP12"], include_red=False)
    await fill(cases, 12, (AFR,))  # more cases: v2 differs
    await publish_digests(cases, AFR, ["CSP12"], issuer=iss)
    v2_rows = await cases.cell_rows("AFR", ["CSP12"], include_red=False)
    assert sorted(v1_rows, key=repr) != sorted(v2_rows, key=repr)
    v1, v2 = sink.sent
    dlq = region_dlqs()
    sec = secretariat(inbox, MemoryRecordSink(), dlq, regions=(AFR,))

    report = await sec.handle(records([v2, v1, v2]))
    assert report.outcomes == {"stored": 1, "stale": 1, "duplicate": 1}
    assert await inbox.versions("CSP12") == {"AFR": 2}
    held = await inbox.cell_rows("AFR", ["CSP12"], include_red=False)
    assert sorted(held, key=repr) == sorted(v2_rows, key=repr)

    # the same version number with other content: refused, the held one stays
    other = await build_payload(
        cases, AFR, "2026-03", version=2, issued_at=ISSUED, catalogue=CATALOGUE
    )
    twin = await build_payload(
        cases, AFR, "CSP12", version=2, issued_at=ISSUED, catalogue=CATALOGUE
    )
    changed = twin.model_copy(update={"csp_cells": twin.csp_cells[1:]})
    value = _seal(AFR, payload_bytes(sign_payload(changed, KEYS.region_sign[AFR])))
    report = await sec.handle([_record(value, b"AFR", 9)])
    assert report.outcomes == {"dlq:version_conflict": 1}
    assert dlq_reasons(dlq) == {AFR: ["version_conflict"]}
    assert await inbox.versions("CSP12") == {"AFR": 2}
    assert other.period == "2026-03"


async def test_an_unchanged_summary_is_not_published_again(
    cases: CaseStore, inbox: SecretariatStore
) -> None:
    await fill(cases, 13, (AFR,))
    sent = await _issue(cases, ["CSP12"], (AFR,))
    sink = MemoryRecordSink()
    sec = secretariat(inbox, sink, region_dlqs(), regions=(AFR,))
    assert (await sec.handle(records(sent))).summaries == ["CSP12"]
    # a redelivery, and a re-issue with the same numbers: nothing new to publish
    again = await _issue(cases, ["CSP12"], (AFR,))
    assert (await sec.handle(records([*sent, *again]))).summaries == []
    assert len(sink.on(CSP_TOPIC)) == 1
    await fill(cases, 14, (AFR,))
    changed = await _issue(cases, ["CSP12"], (AFR,))
    assert (await sec.handle(records(changed))).summaries == ["CSP12"]
    first, second = _published(sink)
    assert first.regions != second.regions
    # numbered issues of the cycle: the older one is refused by a reader holding the newer
    assert (first.issue, second.issue) == (1, 2)
    with pytest.raises(SignatureError, match="replayed"):
        verify_summary(sink.on(CSP_TOPIC)[0].value, SECRETARIAT_KEYS, held_issue=second.issue)
    held = await inbox.summary("CSP12")
    assert held is not None
    assert json.loads(held[1]) == json.loads(sink.on(CSP_TOPIC)[1].value)


async def test_a_failed_publish_is_retried_on_redelivery(
    cases: CaseStore, inbox: SecretariatStore
) -> None:
    await fill(cases, 15, (AFR,))
    sent = await _issue(cases, ["CSP12"], (AFR,))
    sink = MemoryRecordSink()
    sink.faults.fail(BrokerError("the broker does not answer"))
    sec = secretariat(inbox, sink, region_dlqs(), regions=(AFR,))
    with pytest.raises(BrokerError):
        await sec.handle(records(sent))
    sink.faults.heal()
    report = await sec.handle(records(sent))  # the same records come again
    assert report.outcomes == {"duplicate": 1}
    assert report.summaries == ["CSP12"]


@pytest.mark.slow
async def test_tampered_summary_fails_verification(
    cases: CaseStore, inbox: SecretariatStore
) -> None:
    await fill(cases, 16)
    sink = MemoryRecordSink()
    await secretariat(inbox, sink, region_dlqs()).handle(records(await _issue(cases, ["CSP12"])))
    (sent,) = sink.on(CSP_TOPIC)
    original = json.loads(sent.value)
    verify_summary(sent.value, SECRETARIAT_KEYS)
    step = max(1, len(sent.value) // 1500)
    for i in range(0, len(sent.value), step):
        changed = bytearray(sent.value)
        changed[i] ^= 0x01
        try:
            verified = verify_summary(bytes(changed), SECRETARIAT_KEYS)
        except SignatureError:
            continue
        # only a change that leaves the same JSON document may verify
        assert verified.summary.model_dump(mode="json", by_alias=True) == original
    # a changed number, however it is formatted
    doc = json.loads(sent.value)
    doc["global"]["totals"]["cases"] += 1
    with pytest.raises(SignatureError, match="does not verify"):
        verify_summary(json.dumps(doc, indent=2), SECRETARIAT_KEYS)
    # re-formatted but unchanged: still valid
    assert verify_summary(json.dumps(original, indent=4), SECRETARIAT_KEYS).kid == (
        KEYS.secretariat_sign.kid
    )
    with pytest.raises(SignatureError, match="not a trusted verify key"):
        verify_summary(sent.value, [SigningKey.generate().verify_key])
    del doc["signature"]
    with pytest.raises(SignatureError, match="not signed"):
        verify_summary(json.dumps(doc), SECRETARIAT_KEYS)


# -- helpers ------------------------------------------------------------------------------


def _seal(region: Region, payload: bytes) -> bytes:
    return Sealer(
        type=TYPE_DIGEST, region=region.value, recipients=[KEYS.secretariat_kem.public_key]
    ).seal(payload)


def _record(value: bytes | None, key: bytes | None, offset: int) -> InboundRecord:
    return InboundRecord(DIGESTS_TOPIC, 0, offset, key, value)


def _row_hidden(source: RegionDigests, cycle: str) -> frozenset[tuple[str, str]]:
    """The cells of *cycle*'s summary row that the region's joint pattern suppresses."""
    table = f"S{cycle}"
    return frozenset(
        (c.cell.dimension, c.cell.value)
        for c in source.pattern.listed([table])
        if c.cell.period == table and c.count is None
    )


@pytest.mark.parametrize(
    ("seed", "later"),
    [(8, "CSP11"), (21, "CSP11"), (34, "CSP11"), (8, "CSP12"), (21, "CSP12")],
)
async def test_the_secretariat_holds_the_row_requirement_the_regions_pattern_relies_on(
    cases: CaseStore, inbox: SecretariatStore, seed: int, later: str
) -> None:
    """Two more issues after new cases in *later*'s months. At every issue the row
    requirement the region sends for CSP12 names every row cell its joint pattern
    suppressed (the pattern's protection relies on each; one left out is published by the
    Secretariat, and what it protected is given away), the Secretariat holds it, and an
    issue that changes nothing changes nothing. With CSP12's data unchanged, its row keeps
    the cells its first issue let the summary publish (the summary is public; every reader
    links its issues by the data version it states).

    Found in session 22: new cases in CSP11 only, then an issue of CSP11 and CSP12 (seed
    8): the pattern hid the CSP12 row's total again (20 cases, published in summary issue
    1), while the requirement left it out as "published before"; the next issue, with no
    new case, required it hidden."""
    await fill(cases, seed, (AFR,))
    periods = ["CSP11", "CSP12"]
    sent = MemoryRecordSink()
    sec = secretariat(inbox, MemoryRecordSink(), region_dlqs(), regions=(AFR,))
    csp11 = [m for m in MONTHS if m < "2025-09"]
    months = csp11 if later == "CSP11" else [m for m in MONTHS if m not in csp11]

    async def issue() -> tuple[RowRequirement, frozenset[tuple[str, str]]]:
        source = await RegionDigests.for_issue(cases, AFR, k=2, k_csp=3, periods=periods)
        done = len(sent.sent)
        await publish_digests(cases, AFR, periods, issuer=issuer(AFR, sent), only_changed=True)
        await sec.handle(records(sent.sent[done:], start=done))
        held = (await inbox.summary_rows("CSP12"))["AFR"]
        assert held == source.pattern.rows["CSP12"]
        assert held.hidden == _row_hidden(source, "CSP12")
        return held, _row_hidden(source, "CSP12")

    first, _ = await issue()
    csp12 = await cases.cell_rows(AFR.value, ["CSP12"], include_red=False)
    # another stream than fill's: its case ids are new, not revisions of the first cases
    rng = random.Random(seed + 10_000)
    await cases.apply_batch(AFR.value, History(AFR.value, rng, months).batch(25))
    second, _ = await issue()
    third, _ = await issue()
    assert third == second  # nothing new: the same requirement
    if later == "CSP11":
        assert await cases.cell_rows(AFR.value, ["CSP12"], include_red=False) == csp12
        assert second.hidden == first.hidden


@pytest.mark.parametrize(
    ("stored", "why"),
    [
        ("not a summary", "the stored CSP12 summary does not parse"),
        ("the CSP11 summary", "CSP11"),
    ],
)
async def test_a_cycle_whose_summary_cannot_be_built_is_withheld_not_the_partition(
    cases: CaseStore, inbox: SecretariatStore, stored: str, why: str
) -> None:
    """A summary that fails the same way every time (here: the issue kept for the cycle
    does not parse, or is another cycle's) made every batch with a digest of the cycle
    fail: the partition stopped, and with it every region's later digests and the other
    cycles' summaries. The cycle is withheld with its reason (the Secretariat's portal
    shows it), the batch is stored and the other cycles published."""
    await fill(cases, 8)
    first = await _issue(cases, ["CSP11", "CSP12"])
    sink = MemoryRecordSink()
    sec = secretariat(inbox, sink, region_dlqs())
    assert (await sec.handle(records(first))).summaries == ["CSP11", "CSP12"]
    csp11 = await inbox.summary("CSP11")
    assert csp11 is not None
    await inbox.record_summary(
        "CSP12", "altered", "{not json" if stored == "not a summary" else csp11[1]
    )
    await fill(cases, 9)  # new cases in both cycles
    later = await _issue(cases, ["CSP11", "CSP12"])

    report = await sec.handle(records(later, start=len(first)))

    assert report.outcomes == {"stored": len(later)}
    assert report.summaries == ["CSP11"]
    assert list(report.withheld) == ["CSP12"]
    assert why in report.withheld["CSP12"]
    assert list(await inbox.withheld()) == ["CSP12"]
    assert report.withheld_now == 1
    assert await inbox.versions("CSP12") == {r.value: 2 for r in Region}


async def test_an_unexpected_error_decoding_one_digest_dead_letters_it_alone(
    cases: CaseStore, inbox: SecretariatStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception no check names (a bug, or a library's error passed on unwrapped, as
    the OverflowError of an issue hour past the calendar was) failed the whole batch, every
    time: the digest is dead-lettered as ``internal_error`` (its type only) and the rest of
    the batch stored, as the aggregator does with a case."""
    await fill(cases, 8)
    sent = await _issue(cases, ["CSP12"])
    real = parse_payload
    calls = 0

    def failing_once(data: bytes, keys_for: KeysFor) -> DigestPayload:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OverflowError("date value out of range: 9999-12-31T23:00:00-05:00")
        return real(data, keys_for)

    monkeypatch.setattr("dief.secretariat._secretariat.parse_payload", failing_once)
    sink, dlq = MemoryRecordSink(), region_dlqs()
    report = await secretariat(inbox, sink, dlq).handle(records(sent))
    assert report.outcomes == {"stored": len(Region) - 1, "dlq:internal_error": 1}
    ((region, letters),) = [(r, d.sent) for r, d in dlq.items() if d.sent]
    assert [(letter.reason, letter.detail) for letter in letters] == [
        ("internal_error", "OverflowError")
    ]
    assert letters[0].record.key == region.value.encode()
    assert len(await inbox.versions("CSP12")) == len(Region) - 1

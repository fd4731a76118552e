"""The release rule audits from the aggregator's own documents, by default (issue #18,
DESIGN §13 ⚑): the digests it builds from its store, the summaries it read from
``csp.reporting`` and every bulletin it released — kept in its database, so a restart
forgets none of them and releases none again.

The attack: AFR's January has 7 cases, 6 at stage ``in_transit`` (6 contributors) and 1 at
``stockpile`` (1 contributor); the digests hide both stages (k = 2) and publish the total.
Each in-transit alert is a bulletin every reader knows: once enough are out, ``stockpile``
lies in an interval narrower than k (with five out, [0, 1] or [1, 1] with the sixth) — so the
last ones must wait (how many go first depends on the relations the audit can rely on).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CaseStore, ReleasedBulletins
from dief.bulletins import (
    BulletinCollector,
    BulletinLedger,
    ContributorRelease,
    HeldSummaries,
    MemoryLedger,
    RegionBulletins,
    StoreDocuments,
    bulletin_audit_check,
    own_digests,
)
from dief.catalogue import load_catalogue
from dief.crypto import SigningKey
from dief.database import sqlite_url
from dief.exceptions import BrokerError
from dief.kafka import CSP_TOPIC, ConsumedRecord, TopicSnapshot
from dief.secretariat import sign_summary
from dief.testing import FakeClock
from dief.wire import CaseRecord, CspSummary
from tests.unit.record_helpers import case_doc, record_facts, signed_record

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from dief.aggregator import CaseFacts
    from dief.audit import ReaderView
    from dief.keyring import ForumDirectory

TRANSIT = 6


def _record(n: int, stage: str, *, status: str = "active", revision: int = 1) -> CaseRecord:
    doc = case_doc(
        kind="alert",
        tlp="green",
        detected="2026-01-10",
        transfer_stage=stage,
        methods=[],
        risk_indicators=[],
        status=status,
        # a withdrawal names a case; the id that travels derives from the owner key
        **({"case_id": "00000000-0000-4000-8000-000000000001"} if status != "active" else {}),
    )
    return signed_record(doc, secret=bytes([n + 1]) * 32, index=n, revision=revision)


def _facts(record: CaseRecord) -> CaseFacts:
    return record_facts(record, record_id=f"{record.case_id}/{record.revision}")


RECORDS = [_record(n, "in_transit") for n in range(TRANSIT)] + [_record(TRANSIT, "stockpile")]


async def _filled(path: Path) -> CaseStore:
    store = CaseStore(sqlite_url(path))
    await store.start()
    await store.apply_batch("AFR", [_facts(r) for r in RECORDS])
    return store


def _collector(store: CaseStore, ledger: BulletinLedger) -> BulletinCollector:
    """The collector as the aggregator service wires it, without a folder."""
    audit = bulletin_audit_check(documents=StoreDocuments(store), ledger=ledger)
    assert audit is not None
    release = ContributorRelease(store, audit=audit)
    return BulletinCollector("AFR", release=release, interval=0, jitter=0, ledger=ledger)


async def test_by_default_the_alert_that_would_pin_a_hidden_cell_waits(tmp_path: Path) -> None:
    store = await _filled(tmp_path / "agg.sqlite")
    try:
        ledger = MemoryLedger()
        collector = _collector(store, ledger)
        for record in RECORDS[:TRANSIT]:
            collector.offer(record)
        sent = await collector.take(force=True)
        assert 1 <= len(sent) < TRANSIT  # the last would narrow stockpile below k
        assert collector.queued == TRANSIT - len(sent)
        assert len(await ledger.released("AFR")) == len(sent)
        assert await collector.take(force=True) == []  # still waits at the next batch
    finally:
        await store.stop()


async def test_the_stored_ledger_keeps_no_lesson_and_the_first_write_wins(tmp_path: Path) -> None:
    store = CaseStore(sqlite_url(tmp_path / "agg.sqlite"))
    await store.start()
    try:
        ledger = ReleasedBulletins(store)
        facts = json.dumps({"bulletin_id": "a" * 32, "kind": "alert"})
        for body in (facts, "{}"):  # the second write of the id changes nothing
            assert await ledger.keep(
                bulletin_id="a" * 32,
                region="AFR",
                case_id="c1",
                revision=1,
                cycle="CSP12",
                facts=body,
            ) == (body == facts)
        (held,) = await ledger.released("AFR")
        assert (held.bulletin_id, held.facts) == ("a" * 32, facts)
        assert "c1" not in repr(held)
        await ledger.retract("a" * 32)
        assert await ledger.released("AFR") == []
        (gone,) = await ledger.released("AFR", include_retracted=True)
        assert gone.retracted
    finally:
        await store.stop()


async def test_a_restart_counts_every_bulletin_released_and_releases_none_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "agg.sqlite"
    store = await _filled(path)
    try:
        collector = _collector(store, ReleasedBulletins(store))
        for record in RECORDS[:TRANSIT]:
            collector.offer(record)
        sent = await collector.take(force=True)
        assert 1 <= len(sent) < TRANSIT
        out = len(sent)
    finally:
        await store.stop()

    # a fresh aggregator on the same database
    store = CaseStore(sqlite_url(path))
    await store.start()
    try:
        ledger = ReleasedBulletins(store)
        assert len(await ledger.released("AFR")) == out
        collector = _collector(store, ledger)
        assert await collector.recall() == out
        collector.offer(RECORDS[out])  # the first that waited, asked about again
        assert await collector.take(force=True) == []  # those out before still count
        # forgetting them (the old in-memory ledger) would let it out
        forgetful = _collector(store, MemoryLedger())
        forgetful.offer(RECORDS[out])
        assert len(await forgetful.take(force=True)) == 1

        # an earlier bulletin is never asked about (or counted) twice
        audit = bulletin_audit_check(documents=StoreDocuments(store), ledger=ledger)
        assert audit is not None
        (first, *_) = await ledger.released("AFR")
        assert await audit.holds_with("AFR", "CSP12", json.loads(first.facts))
        assert len(await ledger.released("AFR")) == out

        # the memory came back: withdrawing a case retracts its bulletin from before
        withdrawn = _record(0, "in_transit", status="withdrawn", revision=2)
        await store.apply_batch("AFR", [_facts(withdrawn)])
        collector.offer(withdrawn)
        retractions = [e for e in await collector.take(force=True) if e.action == "retract"]
        assert [e.bulletin_id for e in retractions] == [sent[0].bulletin_id]
        assert len(await ledger.released("AFR")) == out - 1
    finally:
        await store.stop()


async def test_a_case_withdrawn_while_the_service_was_down_is_retracted_at_start(
    tmp_path: Path,
) -> None:
    path = tmp_path / "agg.sqlite"
    store = await _filled(path)
    try:
        collector = _collector(store, ReleasedBulletins(store))
        collector.offer(RECORDS[0])
        (sent,) = await collector.take(force=True)
        # withdrawn, applied, but the service stops before the retraction goes out
        withdrawn = _record(0, "in_transit", status="withdrawn", revision=2)
        await store.apply_batch("AFR", [_facts(withdrawn)])
        collector.offer(withdrawn)
    finally:
        await store.stop()

    store = CaseStore(sqlite_url(path))
    await store.start()
    try:
        ledger = ReleasedBulletins(store)
        bulletins = RegionBulletins(
            ["AFR"],
            signing_key=_no_key,
            directory=_no_directory,
            sink=_NoSink(),
            interval=0,
            jitter=0,
            ledger=ledger,
        )
        assert await bulletins.recall(store.stored_cases) == 1
        (retraction,) = await bulletins.collectors["AFR"].take(force=True)
        assert (retraction.action, retraction.bulletin_id) == ("retract", sent.bulletin_id)
        assert await ledger.released("AFR") == []
    finally:
        await store.stop()


def _no_key(region: str) -> SigningKey:
    raise AssertionError("nothing is signed here")


def _no_directory() -> ForumDirectory:
    raise AssertionError("no directory is read here")


class _NoSink:
    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        raise AssertionError("nothing is sent here")


async def test_the_documents_are_kept_while_the_store_is_unchanged(tmp_path: Path) -> None:
    store = await _filled(tmp_path / "agg.sqlite")
    try:
        documents = StoreDocuments(store)
        view = await documents("AFR")
        assert await documents("AFR") is view
        assert {t[2] for t in view.issues[0].tables if t[0] == "digest"} >= {"2026-Q1", "CSP12"}
        await store.apply_batch("AFR", [_facts(_record(9, "stockpile"))])
        assert await documents("AFR") is not view
    finally:
        await store.stop()


@pytest.mark.parametrize(
    ("folder", "error"),
    [(False, BrokerError("csp.reporting cannot be read")), (True, None), (False, ValueError())],
)
async def test_a_failed_read_of_the_documents_refuses_for_now(
    tmp_path: Path, folder: bool, error: Exception | None
) -> None:
    async def unreadable(region: str) -> ReaderView:
        raise error or AssertionError(region)  # the folder (missing) is read instead

    check = bulletin_audit_check(
        tmp_path / "missing" if folder else None, documents=unreadable, ledger=MemoryLedger()
    )
    assert check is not None
    facts = json.loads(RECORDS[0].model_dump_json())
    facts.update(action="publish", month="2026-01", bulletin_id="b" * 32)
    assert not await check.holds_with("AFR", "CSP12", facts)


def _summary(issue: int, key: SigningKey) -> bytes:
    table = {
        "totals": {"cases": 7, "contributors": 7, "suppressed": 0},
        "dimensions": {
            "transfer_stage": [
                {"value": "in_transit", "count": None, "contributors": None, "suppressed": True},
                {"value": "stockpile", "count": None, "contributors": None, "suppressed": True},
            ]
        },
    }
    summary = CspSummary.model_validate(
        {
            "cycle": "CSP12",
            "from": "2025-09",
            "to": "2026-08",
            "k": 3,
            "regions": {"AFR": table},
            "global": table,
            "narrative": [],
            "methodology": {"rules": ["k_csp = 3"], "k": 3, "suppressed": 1},
        }
    )
    return sign_summary(summary, key, issue=issue).to_json().encode()


async def test_the_summaries_held_are_the_newest_verified_issues_read_on(tmp_path: Path) -> None:
    secretariat, stranger = SigningKey.generate(), SigningKey.generate()
    batches = [
        [_summary(1, secretariat), _summary(3, stranger)],  # a forgery passed over
        [_summary(2, secretariat), _summary(1, secretariat)],  # an older one too
    ]
    asked: list[dict[tuple[str, int], int]] = []

    async def read(start: Mapping[tuple[str, int], int]) -> TopicSnapshot:
        asked.append(dict(start))
        values = batches.pop(0) if batches else []
        offset = next(iter(start.values()), 0)
        records = tuple(
            ConsumedRecord(CSP_TOPIC, 0, offset + n, 0, b"CSP12", v, ())
            for n, v in enumerate(values)
        )
        return TopicSnapshot(records, {(CSP_TOPIC, 0): offset + len(values)})

    clock = FakeClock(1000.0)
    held = HeldSummaries(read, lambda: [secretariat.verify_key], refresh=30.0, clock=clock)
    (first,) = await held()
    assert first["issue"] == 1
    assert held.ignored == 1
    assert await held() == (first,)  # within the refresh time: not read again
    assert len(asked) == 1
    clock.advance(30.0)
    (second,) = await held()
    assert second["issue"] == 2
    assert asked == [{}, {(CSP_TOPIC, 0): 2}]  # read on from where it stopped
    store = await _filled(tmp_path / "agg.sqlite")
    try:
        view = await StoreDocuments(store, summaries=held)("AFR")
        assert ("summary", "AFR", "CSP12") in view.issues[0].tables
    finally:
        await store.stop()

    async def missing(start: Mapping[tuple[str, int], int]) -> TopicSnapshot:
        raise BrokerError("no topic csp.reporting on localhost:9092")

    assert await HeldSummaries(missing, list)() == ()  # nothing was ever published

    async def unreachable(start: Mapping[tuple[str, int], int]) -> TopicSnapshot:
        raise BrokerError("cannot reach localhost:9092 within 30 s")

    with pytest.raises(BrokerError):
        await HeldSummaries(unreachable, list)()


async def _next_issue_read_with_the_bulletins(store: CaseStore) -> list[tuple[str, str]]:
    """The cells a reader pins from the region's next issue (its digests as the aggregator
    builds them) read with every bulletin it released."""
    from dief.audit import audit, bulletin_case, held_reader  # noqa: PLC0415  seconds to import

    digests = await own_digests(
        store, "AFR", catalogue=load_catalogue(), k_meeting=2, k_csp=3, start_month=9
    )
    view = held_reader("AFR", digests, ())
    released = await ReleasedBulletins(store).released("AFR")
    known = [bulletin_case(json.loads(b.facts), "AFR") for b in released]
    report = audit(view, bulletins=[c for c in known if c is not None], verdicts_only=True)
    return sorted((c.table, c.cell) for c in report.determined)


async def test_released_bulletins_are_known_cases_in_the_next_issue(tmp_path: Path) -> None:
    """#15 item 5: the collector lets out the in-transit alerts the audit allows (the
    stockpile case keeps an interval of at least k); then the in-transit cases whose
    alerts waited are withdrawn. January holds the released alerts and the stockpile case:
    a next issue that publishes January's total (as the digests did, blind to the
    bulletins) pins in_transit at the bulletins' count and stockpile at 1."""
    store = await _filled(tmp_path / "agg.sqlite")
    try:
        collector = _collector(store, ReleasedBulletins(store))
        for record in RECORDS[:TRANSIT]:
            collector.offer(record)
        out = len(await collector.take(force=True))
        assert 1 <= out < TRANSIT
        waited = [
            _record(n, "in_transit", status="withdrawn", revision=2) for n in range(out, TRANSIT)
        ]
        # the withdrawals name the cases by their own ids (as the nodes send them)
        await store.apply_batch(
            "AFR",
            [
                _facts(w.model_copy(update={"case_id": r.case_id}))
                for w, r in zip(waited, RECORDS[out:TRANSIT], strict=True)
            ],
        )
        assert await _next_issue_read_with_the_bulletins(store) == []
    finally:
        await store.stop()

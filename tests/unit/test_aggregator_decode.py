"""RegionAggregator without a broker: reason codes, and dead letters inside the transaction.

A fake sink stands in for ``dief.<region>.dlq``. The DESIGN §8 property checked here: a
batch's dead letters are sent before its transaction commits, and if sending fails
nothing of the batch is committed (so the offsets are not committed either and the whole
batch comes again).
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, NoReturn

import pytest

from dief.aggregator import CaseFacts, RegionAggregator
from dief.aggregator._facts import default_half
from dief.aggregator.store import CaseStore
from dief.crypto.envelope import Opener, Sealer
from dief.database import sqlite_url
from dief.exceptions import BrokerError
from dief.keyring import KeyRole, SimulatedForum
from dief.seams import DLQ_HEADERS, InboundRecord
from dief.testing import FakeCredentials, MemoryDeadLetterSink
from dief.vocab import Region
from dief.wire import TYPE_CASE, TYPE_DIGEST, CaseRecord, parse_case
from tests.unit.record_helpers import seal_record, signed_record

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

TOPIC = "dief.afr.cases"


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> SimulatedForum:
    return SimulatedForum.create(tmp_path_factory.mktemp("forum") / "keys", "pw")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "agg.sqlite")) as s:
        yield s


def sealer(
    ring: SimulatedForum,
    label: str,
    keys_of: str | None = None,
    type_: str = TYPE_CASE,
    sizes: list[int] | None = None,
) -> Sealer:
    recipients = ring.sealing_keys(KeyRole.REGION, keys_of or label)
    return Sealer(type=type_, region=label, recipients=recipients, sizes=sizes)


def aggregator(
    ring: SimulatedForum, store: CaseStore, sink: MemoryDeadLetterSink
) -> RegionAggregator:
    opener = Opener(ring.opening_keys(KeyRole.REGION, "AFR"))
    return RegionAggregator(Region.AFR, opener, store, sink, credentials=FakeCredentials())


def record(region: str = "AFR", index: int = 0, **more: object) -> CaseRecord:
    doc = {
        "confidence": "confirmed",
        "region": region,
        "detected": "2026-02",
        "items": [{"category": "ammunition", "quantity": 300}],
        "transfer_stage": "at_import",
        "methods": ["misdeclaration_concealment"],
        "end_user_type": "unknown",
        "detection_source": "intelligence",
        **more,
    }
    return signed_record(parse_case(doc, today=date(2026, 6, 1)), index=index)


def sealed(
    ring: SimulatedForum, rec: CaseRecord, label: str = "AFR", keys_of: str | None = None
) -> bytes:
    return seal_record(sealer(ring, label, keys_of), rec)


def inbound(value: bytes | None, key: bytes | None, offset: int = 0) -> InboundRecord:
    return InboundRecord(TOPIC, 1, offset, key, value)


def flip(value: bytes) -> bytes:
    env = json.loads(value)
    text = env["ciphertext"]
    raw = bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    raw[0] ^= 0x80
    env["ciphertext"] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    return json.dumps(env).encode()


def bad_records(ring: SimulatedForum) -> dict[str, tuple[str, InboundRecord]]:
    rec = record(index=1)
    key = rec.case_id.encode()
    good = sealed(ring, rec)
    apg = record(region="APG", index=2)
    return {
        "tombstone": ("malformed", inbound(None, key)),
        "not json": ("malformed", inbound(b"\x00\x01 not json", key)),
        "truncated": ("malformed", inbound(good[:-40], key)),
        "tampered": ("authentication_failed", inbound(flip(good), key)),
        "oversized": ("oversized", inbound(good + b" " * (256 * 1024), key)),
        "wrong key": ("no_recipient_key", inbound(sealer(ring, "AFR", "APG").seal(b"{}"), key)),
        "wrong type": (
            "wrong_type",
            inbound(sealer(ring, "AFR", type_=TYPE_DIGEST).seal(b"{}"), key),
        ),
        "envelope for APG": ("wrong_region", inbound(sealed(ring, rec, "APG", "AFR"), key)),
        "bad padding": (
            "bad_padding",
            inbound(sealer(ring, "AFR", sizes=[8192]).seal(rec.to_json()), key),
        ),
        "case of APG": ("wrong_region", inbound(sealed(ring, apg), apg.case_id.encode())),
        "invalid payload": ("invalid_payload", inbound(sealer(ring, "AFR").seal(b'{"a":1}'), key)),
        "key mismatch": ("key_mismatch", inbound(good, b"another-key")),
    }


async def test_each_bad_record_has_its_reason(ring: SimulatedForum, store: CaseStore) -> None:
    sink = MemoryDeadLetterSink()
    agg = aggregator(ring, store, sink)
    bad = bad_records(ring)
    rec = record(index=3)
    cid = rec.case_id
    good = inbound(sealed(ring, rec), cid.encode(), offset=99)
    # Each at its own offset, as on a partition.
    bad = {name: (why, replace(r, offset=i)) for i, (name, (why, r)) in enumerate(bad.items())}
    report = await agg.handle([*(r for _, r in bad.values()), good])
    assert report.outcomes["applied"] == 1
    assert report.dead_lettered == len(bad)
    assert len(sink.sent) == len(bad)
    for (name, (reason, sent)), letter in zip(bad.items(), sink.sent, strict=True):
        assert letter.reason == reason, name
        assert letter.record is sent, name  # key and value unchanged
        headers = dict(letter.headers())
        assert tuple(headers) == DLQ_HEADERS
        assert headers["dief-reason"] == reason.encode()
        assert headers["dief-source-topic"] == TOPIC.encode()
        assert headers["dief-source-partition"] == b"1"
        assert headers["dief-source-offset"] == str(sent.offset).encode()
        assert cid not in letter.detail, name  # details never carry case data
    counts = await store.dead_letter_counts("AFR")
    assert sum(counts.values()) == len(bad)
    assert counts["malformed"] == 3
    assert counts["wrong_region"] == 2
    assert counts["bad_padding"] == 1


async def test_failed_dead_letter_send_commits_nothing(
    ring: SimulatedForum, store: CaseStore
) -> None:
    sink = MemoryDeadLetterSink()
    agg = aggregator(ring, store, sink)
    rec = record(index=4)
    batch = [
        inbound(sealed(ring, rec), rec.case_id.encode(), 0),
        inbound(b"garbage", b"k", 1),
    ]
    sink.faults.fail(BrokerError("the DLQ topic is unavailable"))
    with pytest.raises(BrokerError):
        await agg.handle(batch)
    assert await store.outcome_counts() == {}
    assert await store.dead_letter_counts("AFR") == {}
    assert await store.periods_with_data("AFR") == []
    # The batch comes again (offsets were not committed) and now applies in full.
    sink.faults.heal()
    report = await agg.handle(batch)
    assert report.outcomes == {"applied": 1, "dlq:malformed": 1}
    assert await store.periods_with_data("AFR") == ["2026-02", "2026-Q1", "CSP12", "CSP12-H1"]
    assert [letter.reason for letter in sink.sent] == ["malformed"]


async def test_an_unexpected_error_dead_letters_that_record_only(tmp_path: Path) -> None:
    """One record that trips a bug goes to the DLQ as internal_error; the batch commits."""

    class ExplodingOpener:
        def open(self, value: bytes) -> NoReturn:
            raise RuntimeError("boom")

    sink = MemoryDeadLetterSink()

    store = CaseStore(sqlite_url(tmp_path / "a.sqlite"))
    await store.start()
    try:
        agg = RegionAggregator(
            Region.AFR, ExplodingOpener(), store, sink, credentials=FakeCredentials()
        )
        report = await agg.handle([InboundRecord("dief.afr.cases", 0, 7, b"k", b"v")])
        assert report.outcomes == {"dlq:internal_error": 1}
        assert [letter.reason for letter in sink.sent] == ["internal_error"]
        assert await store.dead_letter_counts("AFR") == {"internal_error": 1}
    finally:
        await store.stop()


def test_decode_builds_the_facts_from_record_builds(ring: SimulatedForum, store: CaseStore) -> None:
    """``CaseFacts.from_record`` is the one construction: the aggregator's decode gives the
    same facts (its own region, the route, the half by its start month), and the helpers'
    defaults drop the route and take the default half."""
    rec = record(related_regions=["WEOG", "APG"])
    value = sealed(ring, rec)
    decoded = aggregator(ring, store, MemoryDeadLetterSink()).decode(
        inbound(value, rec.case_id.encode())
    )
    built = CaseFacts.from_record(
        rec, record_id=decoded.record_id, sealed=value, region="AFR", start_month=9
    )
    assert decoded == built
    assert built.related_regions == ("WEOG", "APG")
    assert built.half == "CSP12-H1"
    bare = CaseFacts.from_record(rec, record_id="r", route=False)
    assert (bare.related_regions, bare.sealed, bare.region) == ((), b"", "AFR")
    assert bare.half == default_half(rec.detected_month, rec.cycle)

"""RegionAggregator without a broker: reason codes, and dead letters inside the transaction.

A fake sink stands in for ``dief.<region>.dlq``. The DESIGN §8 property checked here: a
batch's dead letters are sent before its transaction commits, and if sending fails
nothing of the batch is committed (so the offsets are not committed either and the whole
batch comes again).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from dief.aggregator import RegionAggregator
from dief.aggregator.store import CaseStore
from dief.crypto.envelope import Opener, Sealer
from dief.database import sqlite_url
from dief.exceptions import BrokerError
from dief.keyring import KdfParams, Keyring, KeyRole
from dief.seams import DLQ_HEADERS, InboundRecord
from dief.testing import MemoryDeadLetterSink
from dief.vocab import Region
from dief.wire import TYPE_CASE, TYPE_DIGEST, generalise, parse_case

TOPIC = "dief.afr.cases"
WHO = "c" * 32
OWNER = "d" * 32


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> Keyring:
    kdf = KdfParams(iterations=1, lanes=1, memory_kib=8)
    return Keyring.init_forum(tmp_path_factory.mktemp("forum") / "keys", "pw", kdf=kdf)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "agg.sqlite")) as s:
        yield s


def sealer(ring: Keyring, label: str, keys_of: str | None = None, type_: str = TYPE_CASE) -> Sealer:
    recipients = ring.sealing_keys(KeyRole.REGION, keys_of or label)
    return Sealer(type=type_, region=label, recipients=recipients)


def payload(case_id: str, region: str = "AFR", **more: object) -> bytes:
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
    case = parse_case(doc, today=date(2026, 6, 1))
    rec = generalise(
        case,
        case_id=case_id,
        revision=1,
        contributor=WHO,
        owner_tag=OWNER,
        cycle=case.detected_month.cycle(),
    )
    return rec.to_json()


def inbound(value: bytes | None, key: bytes | None, offset: int = 0) -> InboundRecord:
    return InboundRecord(TOPIC, 1, offset, key, value)


def flip(value: bytes) -> bytes:
    env = json.loads(value)
    text = env["ciphertext"]
    raw = bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    raw[0] ^= 0x80
    env["ciphertext"] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    return json.dumps(env).encode()


def bad_records(ring: Keyring) -> dict[str, tuple[str, InboundRecord]]:
    cid = str(uuid.uuid4())
    key = cid.encode()
    good = sealer(ring, "AFR").seal(payload(cid))
    related_elsewhere = payload(cid, region="APG", related_regions=["WEOG"])
    related_elsewhere = json.dumps({**json.loads(related_elsewhere), "related": True}).encode()
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
        "envelope for APG": (
            "wrong_region",
            inbound(sealer(ring, "APG", "AFR").seal(payload(cid)), key),
        ),
        "case of APG": (
            "wrong_region",
            inbound(sealer(ring, "AFR").seal(payload(cid, region="APG")), key),
        ),
        "related copy off route": (
            "wrong_region",
            inbound(sealer(ring, "AFR").seal(related_elsewhere), key),
        ),
        "invalid payload": ("invalid_payload", inbound(sealer(ring, "AFR").seal(b'{"a":1}'), key)),
        "key mismatch": ("key_mismatch", inbound(good, b"another-key")),
    }


async def test_each_bad_record_has_its_reason(ring: Keyring, store: CaseStore) -> None:
    sink = MemoryDeadLetterSink()
    agg = RegionAggregator(
        Region.AFR, Opener(ring.opening_keys(KeyRole.REGION, "AFR")), store, sink
    )
    bad = bad_records(ring)
    cid = str(uuid.uuid4())
    good = inbound(sealer(ring, "AFR").seal(payload(cid)), cid.encode(), offset=99)
    # Each at its own offset, as on a partition.
    bad = {name: (why, replace(rec, offset=i)) for i, (name, (why, rec)) in enumerate(bad.items())}
    report = await agg.handle([*(rec for _, rec in bad.values()), good])
    assert report.outcomes["applied"] == 1
    assert report.dead_lettered == len(bad)
    assert len(sink.sent) == len(bad)
    for (name, (reason, rec)), letter in zip(bad.items(), sink.sent, strict=True):
        assert letter.reason == reason, name
        assert letter.record is rec, name  # key and value unchanged
        headers = dict(letter.headers())
        assert tuple(headers) == DLQ_HEADERS
        assert headers["dief-reason"] == reason.encode()
        assert headers["dief-source-topic"] == TOPIC.encode()
        assert headers["dief-source-partition"] == b"1"
        assert headers["dief-source-offset"] == str(rec.offset).encode()
        assert cid not in letter.detail, name  # details never carry case data
    counts = await store.dead_letter_counts("AFR")
    assert sum(counts.values()) == len(bad)
    assert counts["malformed"] == 3
    assert counts["wrong_region"] == 3


async def test_failed_dead_letter_send_commits_nothing(ring: Keyring, store: CaseStore) -> None:
    sink = MemoryDeadLetterSink()
    agg = RegionAggregator(
        Region.AFR, Opener(ring.opening_keys(KeyRole.REGION, "AFR")), store, sink
    )
    cid = str(uuid.uuid4())
    batch = [
        inbound(sealer(ring, "AFR").seal(payload(cid)), cid.encode(), 0),
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
    assert await store.periods_with_data("AFR") == ["2026-02", "2026-Q1", "CSP12"]
    assert [letter.reason for letter in sink.sent] == ["malformed"]


async def test_an_unexpected_error_dead_letters_that_record_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One record that trips a bug goes to the DLQ as internal_error; the batch commits."""
    from dief.aggregator import RegionAggregator
    from dief.aggregator.store import CaseStore
    from dief.seams import InboundRecord
    from dief.vocab import Region

    class ExplodingOpener:
        def open(self, value: bytes):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    sink = MemoryDeadLetterSink()

    store = CaseStore(sqlite_url(tmp_path / "a.sqlite"))
    await store.start()
    try:
        agg = RegionAggregator(Region.AFR, ExplodingOpener(), store, sink)
        report = await agg.handle([InboundRecord("dief.afr.cases", 0, 7, b"k", b"v")])
        assert report.outcomes == {"dlq:internal_error": 1}
        assert [letter.reason for letter in sink.sent] == ["internal_error"]
        assert await store.dead_letter_counts("AFR") == {"internal_error": 1}
    finally:
        await store.stop()

"""One signed digest the Secretariat's database cannot hold never holds ``dief.digests``
(real SQLite and PostgreSQL).

A region's digest is signed by its aggregator, so a buggy or compromised aggregator can send
one that verifies and still does not fit the Secretariat's tables: a count past what the
``count`` column holds, a ``data_version`` longer than its column, a text the database
refuses. Stored in one transaction with the rest of its batch, such a digest made the whole
batch fail with a :class:`~dief.exceptions.StorageError`, every time it came again: the
partition stopped there, and with it every region's later digests and the forum's
summaries. Now the payload's schema refuses what no table can hold (with the field it
names), and a digest the database still refuses is isolated and dead-lettered alone
(``database_refused``), as the aggregator does with a case; the rest of its batch is
stored and its summaries published.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from dief.aggregator.store import CaseStore
from dief.crypto import Opener, Sealer
from dief.database import sqlite_url
from dief.digests import (
    DigestIssuer,
    DigestPayload,
    parse_payload,
    payload_bytes,
    publish_digests,
    sign_payload,
)
from dief.exceptions import StorageRefusedError
from dief.kafka import CSP_TOPIC, DIGESTS_TOPIC
from dief.seams import InboundRecord
from dief.secretariat import ReceivedDigest, Secretariat, SecretariatConfig, SecretariatStore
from dief.testing import MemoryDeadLetterSink, MemoryRecordSink
from dief.vocab import Region
from dief.wire import TYPE_DIGEST
from tests.integration._pipeline_helpers import DATABASE_KINDS, database_url
from tests.integration.test_secretariat_store import (
    CATALOGUE,
    REGION_KEYS,
    SECRETARIAT_KEM,
    SECRETARIAT_SIGN,
    _facts,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

pytestmark = pytest.mark.integration

CYCLE = "CSP12"


async def _genuine(tmp_path: Path) -> dict[Region, bytes]:
    """Each region's sealed CSP12 digest (version 1), issued by its aggregator."""
    rng = random.Random(5)
    sink = MemoryRecordSink()
    async with CaseStore(sqlite_url(tmp_path / "cases.sqlite")) as cases:
        for region in Region:
            await cases.apply_batch(region.value, _facts(region, rng))
            issuer = DigestIssuer(
                region=region,
                signer=REGION_KEYS[region],
                recipients=(SECRETARIAT_KEM.public_key,),
                sink=sink,
                catalogue=CATALOGUE,
            )
            await publish_digests(cases, region, [CYCLE], issuer=issuer)
    return {Region(key.decode("ascii")): value for _, key, value in sink.sent}


def _payload(sealed: bytes) -> DigestPayload:
    opened = Opener([SECRETARIAT_KEM]).open(sealed)
    return parse_payload(opened.payload, lambda region: [REGION_KEYS[region].verify_key])


def _resealed(payload: DigestPayload) -> bytes:
    """*payload*, signed by its own region's key (so it verifies) and sealed again."""
    signed = sign_payload(payload, REGION_KEYS[payload.region])
    sealer = Sealer(
        type=TYPE_DIGEST, region=payload.region.value, recipients=(SECRETARIAT_KEM.public_key,)
    )
    return sealer.seal(payload_bytes(signed))


async def _batch(
    tmp_path: Path, region: Region, change: Callable[[DigestPayload], DigestPayload]
) -> tuple[dict[Region, bytes], list[InboundRecord]]:
    """Every region's genuine digest, then *region*'s changed by *change* (signed by its
    key, sealed to the Secretariat), as one batch of records."""
    genuine = await _genuine(tmp_path)
    changed = _resealed(change(_payload(genuine[region])))
    records = [
        InboundRecord(DIGESTS_TOPIC, 0, i, r.value.encode("ascii"), value)
        for i, (r, value) in enumerate([*genuine.items(), (region, changed)])
    ]
    return genuine, records


def _huge_count(payload: DigestPayload) -> DigestPayload:
    cells = list(payload.csp_cells)
    cells[0] = cells[0].model_copy(update={"count": 2**40, "contributors": 2**40})
    return payload.model_copy(update={"csp_cells": cells, "version": 2})


def _long_data_version(payload: DigestPayload) -> DigestPayload:
    notes = payload.digest.notes.model_copy(update={"data_version": "v" * 200})
    digest = payload.digest.model_copy(update={"notes": notes})
    return payload.model_copy(update={"digest": digest, "version": 2})


def _huge_version(payload: DigestPayload) -> DigestPayload:
    return payload.model_copy(update={"version": 2**40})


def _nul_in_a_value(payload: DigestPayload) -> DigestPayload:
    cells = list(payload.csp_cells)
    cells[0] = cells[0].model_copy(update={"value": "in\x00transit"})
    return payload.model_copy(update={"csp_cells": cells, "version": 2})


def _issued_past_the_calendar(payload: DigestPayload) -> DigestPayload:
    """9999-12-31 23:00 at UTC-5 is in year 10000 at UTC: converting it overflowed, and
    pydantic passed the OverflowError on unwrapped (found by a second read)."""
    moment = datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5)))
    return payload.model_copy(update={"issued_at": moment, "version": 2})


HOSTILE: dict[str, tuple[Callable[[DigestPayload], DigestPayload], str]] = {
    "a count past the column": (_huge_count, "csp_cells.0.count"),
    "a data version past the column": (_long_data_version, "data_version"),
    "a version past the column": (_huge_version, "version"),
    "a NUL character in a value": (_nul_in_a_value, "csp_cells.0.value"),
    "an issue hour past the calendar": (_issued_past_the_calendar, "issued_at"),
}


def _secretariat(
    inbox: SecretariatStore, out: MemoryRecordSink, dlq: MemoryDeadLetterSink
) -> Secretariat:
    return Secretariat(
        inbox,
        Opener([SECRETARIAT_KEM]),
        lambda region: [REGION_KEYS[region].verify_key],
        SECRETARIAT_SIGN,
        dead_letters=lambda _region: dlq,
        sink=out,
        config=SecretariatConfig(catalogue=CATALOGUE),
    )


@pytest.mark.parametrize("kind", DATABASE_KINDS)
@pytest.mark.parametrize("hostile", sorted(HOSTILE))
async def test_a_digest_no_table_can_hold_is_refused_and_the_rest_stored(
    kind: str, hostile: str, tmp_path: Path
) -> None:
    change, field = HOSTILE[hostile]
    genuine, records = await _batch(tmp_path, Region.EEG, change)
    async with database_url(kind, tmp_path) as url, SecretariatStore(url) as inbox:
        out, dlq = MemoryRecordSink(), MemoryDeadLetterSink()
        report = await _secretariat(inbox, out, dlq).handle(records)

        assert report.outcomes == {"stored": 5, "dlq:invalid_payload": 1}
        assert dlq.reasons() == ["invalid_payload"]
        (letter,) = dlq.sent
        assert letter.record.offset == len(genuine)
        assert field in letter.detail  # what is wrong, and where
        assert await inbox.versions(CYCLE) == {r.value: 1 for r in Region}
        assert [key for topic, key, _ in out.sent if topic == CSP_TOPIC] == [b"CSP12"]


def _second_apg(payload: DigestPayload) -> DigestPayload:
    return payload.model_copy(update={"version": 2})


def _cycle_100_meeting(payload: DigestPayload) -> DigestPayload:
    """A "since the last meeting" digest of CSP100 (9 characters; the schema allows 10)."""
    period = "CSP100-H1"
    cells = [c.model_copy(update={"period": period}) for c in payload.csp_cells]
    digest = payload.digest.model_copy(update={"period": period})
    update = {"period": period, "digest": digest, "csp_cells": cells, "summary_row": None}
    return payload.model_copy(update=update)


#: What the database refuses that the schema cannot foresee: a CHECK constraint an operator
#: added (an integrity violation), and a store made by a release before this one, whose
#: period columns held 8 characters (PostgreSQL's "value too long", SQLSTATE 22001, which
#: asyncpg reports as a plain DBAPIError)
REFUSALS: dict[str, tuple[str, Callable[[DigestPayload], DigestPayload]]] = {
    "a constraint": (
        (
            "ALTER TABLE secretariat_digests ADD CONSTRAINT no_second_apg "
            "CHECK (region <> 'APG' OR version < 2)"
        ),
        _second_apg,
    ),
    "a narrower column": (
        "ALTER TABLE secretariat_digests ALTER COLUMN period TYPE VARCHAR(8)",
        _cycle_100_meeting,
    ),
}


@pytest.mark.postgres
@pytest.mark.parametrize("refusal", sorted(REFUSALS))
async def test_a_digest_the_database_refuses_is_dead_lettered_alone(
    refusal: str, tmp_path: Path
) -> None:
    """A refusal the schema cannot foresee: the digest it refuses goes to its region's
    DLQ, every other digest of the batch is stored."""
    statement, change = REFUSALS[refusal]
    genuine, records = await _batch(tmp_path, Region.APG, change)
    async with database_url("postgresql", tmp_path) as url:
        async with SecretariatStore(url):
            pass  # its tables
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(statement))
        finally:
            await engine.dispose()
        async with SecretariatStore(url) as inbox:
            out, dlq = MemoryRecordSink(), MemoryDeadLetterSink()
            report = await _secretariat(inbox, out, dlq).handle(records)

            assert report.outcomes == {"stored": 5, "dlq:database_refused": 1}
            (letter,) = dlq.sent
            assert letter.record.offset == len(genuine)
            assert letter.detail.startswith("the database refused the digest APG")
            assert await inbox.versions(CYCLE) == {r.value: 1 for r in Region}
            assert [key for topic, key, _ in out.sent if topic == CSP_TOPIC] == [b"CSP12"]


@pytest.mark.postgres
async def test_the_store_refuses_what_asyncpg_cannot_encode_without_naming_it(
    tmp_path: Path,
) -> None:
    """The second layer alone (as if the schema had let a count past int32 through):
    asyncpg refuses to encode it before the server sees it, which is the data's fault, not
    an outage; and the value is not in the reason that is logged."""
    genuine = await _genuine(tmp_path)
    payload = _huge_count(_payload(genuine[Region.EEG]))  # model_copy: not validated
    async with database_url("postgresql", tmp_path) as url, SecretariatStore(url) as inbox:
        with pytest.raises(StorageRefusedError) as caught:
            await inbox.store_digests([ReceivedDigest(payload, genuine[Region.EEG])])
    assert "int32" in caught.value.message
    assert str(2**40) not in caught.value.message

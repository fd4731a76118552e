"""The digest issuer keeps the suppression pattern across issues: it records what its sent
digests list (``CaseStore.published_suppressions``) before sending, and a re-issue after a
late revision keeps every cell an earlier issue suppressed."""

from __future__ import annotations

import random
from datetime import date
from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CaseStore, SuppressedCell
from dief.database import sqlite_url
from dief.digests import parse_payload, publish_closed_periods
from dief.disclosure import visible_tables
from dief.exceptions import BrokerError
from dief.testing import MemoryRecordSink
from dief.vocab import Region
from tests.unit.reporting_support import History, make_facts
from tests.unit.secretariat_support import KEYS, fill, issuer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from dief.wire import Digest

AFR = Region.AFR
DAY = date(2026, 9, 1)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        await fill(s, 11, (AFR,))
        yield s


def _sent(sink: MemoryRecordSink) -> list[Digest]:
    return [
        parse_payload(KEYS.opener().open(s.value).payload, KEYS.keys_for).digest for s in sink.sent
    ]


def _cells(digest: Digest) -> dict[SuppressedCell, int | None]:
    out: dict[SuppressedCell, int | None] = {
        SuppressedCell(digest.period, "_total", "_all"): digest.totals.cases
    }
    for dimension, cells in digest.dimensions.items():
        for cell in cells:
            out[SuppressedCell(digest.period, dimension.value, cell.value)] = cell.count
    return out


async def test_the_issuer_records_what_it_sends_and_keeps_it(store: CaseStore) -> None:
    sink = MemoryRecordSink()
    first = await publish_closed_periods(store, AFR, DAY, issuer=issuer(AFR, sink))
    recorded = await store.published_suppressions("AFR")
    sent = _sent(sink)
    assert len(sent) == len(first) > 0
    hidden: set[SuppressedCell] = set()
    for digest in sent:
        for cell, count in _cells(digest).items():
            if count is None:
                hidden.add(cell)
                assert cell in recorded.suppressed
            elif count > 0:
                assert recorded.counts[cell] == count
    assert hidden
    # only the tables the sent digests show are recorded (not the open month)
    shown = visible_tables([d.period for d in first], start_month=9)
    assert {c.period for c in (*recorded.suppressed, *recorded.counts)} <= shown

    # a late revision and new cases in closed months: the re-issued digests keep the pattern
    rng = random.Random(3)
    history = History("AFR", rng, ["2026-06", "2026-07"], nodes=5)
    await store.apply_batch("AFR", history.batch(25))
    sink.sent.clear()
    again = await publish_closed_periods(store, AFR, DAY, issuer=issuer(AFR, sink))
    assert again, "new cases in closed months re-issue their digests"
    kept = 0
    for digest in _sent(sink):
        now = _cells(digest)
        listed = [c for c in hidden if c.period == digest.period and c in now]
        assert all(now[c] is None for c in listed)
        kept += len(listed)
    assert kept > 0
    assert (await store.published_suppressions("AFR")).suppressed >= recorded.suppressed


async def test_the_record_is_written_before_the_digests_are_sent(store: CaseStore) -> None:
    sink = MemoryRecordSink()
    sink.faults.fail(BrokerError("broker down"))
    with pytest.raises(BrokerError):
        await publish_closed_periods(store, AFR, DAY, issuer=issuer(AFR, sink))
    assert sink.sent == []
    assert (await store.published_suppressions("AFR")).suppressed


async def test_the_issued_data_versions_are_recorded_once_the_digests_are_sent(
    store: CaseStore,
) -> None:
    """The ``data_version`` each sent digest states is recorded only after the broker took
    them (a failed send records none: no reader holds that issue); a later case in a month
    makes that month and the periods it is in changed again."""
    sink = MemoryRecordSink()
    sink.faults.fail(BrokerError("broker down"))
    with pytest.raises(BrokerError):
        await publish_closed_periods(store, AFR, DAY, issuer=issuer(AFR, sink))
    assert (await store.published_suppressions("AFR")).unchanged_periods == frozenset()

    sink = MemoryRecordSink()
    sent = await publish_closed_periods(store, AFR, DAY, issuer=issuer(AFR, sink))
    stated = {d.period: (d.notes.model_extra or {}).get("data_version") for d in _sent(sink)}
    assert {p for p, v in stated.items() if v is not None} == {d.period for d in sent}
    unchanged = (await store.published_suppressions("AFR")).unchanged_periods
    assert unchanged == set(stated)

    # versions lost (a store from before migration 0016, or a record that failed after the
    # send): the next issue sends nothing new (every digest unchanged) and still records
    # the versions its readers hold
    await store.record_issued_versions("AFR", dict.fromkeys(stated, "0" * 16))
    assert (await store.published_suppressions("AFR")).unchanged_periods == frozenset()
    assert await publish_closed_periods(store, AFR, DAY, issuer=issuer(AFR, sink)) == []
    assert (await store.published_suppressions("AFR")).unchanged_periods == unchanged

    month = min(p for p in unchanged if len(p) == len("2026-06"))
    await store.apply_batch("AFR", [make_facts(region="AFR", month=month, node=2)])
    now = (await store.published_suppressions("AFR")).unchanged_periods
    assert month not in now
    assert now < unchanged

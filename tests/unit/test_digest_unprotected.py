"""A cell no suppression can protect (``UnprotectedCellError``, a region's first issue):
the region's issue is withheld whole — nothing claimed, recorded, sealed or sent — the
operator gets one log line naming the table and the cell (never a State or a count), and
the other regions' issues go on (docs/digests.md, "A cell no suppression can protect").

The error is provoked where the issuer calls the pattern (``RegionDigests.load``'s
``digest_pattern``): the histories that raised it (seed 5 of ``test_secretariat.py``
before session 6) no longer do, and ``test_reporting_suppression.py`` tests the search's
side (``test_a_first_issue_never_publishes_a_pinned_cell_silently``)."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest

import dief.digests._region as region_module
from dief.aggregator.store import CaseStore, DigestVersions
from dief.database import sqlite_url
from dief.digests import DigestSchedule, closed_period_publisher, publish_digests
from dief.disclosure import Group, digest_pattern, protect
from dief.exceptions import UnprotectedCellError
from dief.kafka import DIGESTS_TOPIC
from dief.testing import FakeClock, MemoryRecordSink
from dief.vocab import Region
from tests.unit.secretariat_support import NOW, fill, issuer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from dief.disclosure import DigestPattern

AFR, EEG = Region.AFR, Region.EEG
#: the cell the pattern cannot protect: a month's table, a vocabulary value
CELL = ("2026-01", "transport_mode", "air")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        await fill(s, 7, (AFR, EEG))
        yield s


def _first_call_raises(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The issuer's pattern raises ``UnprotectedCellError`` on its first call (the first
    region issued), and is the real one after; returns the calls seen."""
    calls: list[int] = []

    def pattern(*args: Any, **kwargs: Any) -> DigestPattern:  # noqa: ANN401  digest_pattern's own signature, passed through
        calls.append(len(calls))
        if len(calls) == 1:
            raise UnprotectedCellError(CELL)
        return digest_pattern(*args, **kwargs)

    monkeypatch.setattr(region_module, "digest_pattern", pattern)
    return calls


def _assert_told(caplog: pytest.LogCaptureFixture) -> None:
    lines = [r.getMessage() for r in caplog.records if "issue withheld" in r.getMessage()]
    assert len(lines) == 1, lines
    (line,) = lines
    assert line.startswith("AFR: issue withheld")
    assert "transport_mode/air of table 2026-01" in line
    # the period's digits aside, no number: no count, no contributor
    assert re.findall(r"\d+", line.replace("2026-01", "")) == []


async def test_an_unprotected_cell_withholds_the_whole_issue(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _first_call_raises(monkeypatch)
    sink = MemoryRecordSink()
    iss = issuer(AFR, sink)
    with (
        caplog.at_level(logging.ERROR, logger="dief.digests"),
        pytest.raises(UnprotectedCellError) as raised,
    ):
        await publish_digests(store, AFR, ["CSP12", "2026-01", "2026-Q1"], issuer=iss)
    assert raised.value.cell == CELL
    assert sink.sent == []  # nothing sealed or sent
    assert await DigestVersions(store).of_region("AFR") == {}  # no version claimed
    recorded = await store.published_suppressions("AFR")
    assert not recorded.suppressed
    assert not recorded.counts  # nothing recorded: the next issue is a first issue again
    _assert_told(caplog)
    # once the pattern protects every cell, the same issue goes out with version 1
    done = await publish_digests(store, AFR, ["CSP12", "2026-01", "2026-Q1"], issuer=iss)
    assert [(d.period, d.version) for d in done] == [("CSP12", 1), ("2026-01", 1), ("2026-Q1", 1)]


async def test_the_other_regions_issues_go_on(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls = _first_call_raises(monkeypatch)
    sink = MemoryRecordSink()
    issuers = {r: issuer(r, sink) for r in (AFR, EEG)}
    schedule = DigestSchedule(
        [AFR, EEG], closed_period_publisher(store, issuers), interval=3600, clock=FakeClock(NOW)
    )
    with caplog.at_level(logging.ERROR, logger="dief.digests"):
        done = await schedule.run_once()
    assert len(calls) == 2  # AFR's pattern raised, EEG's was computed
    ((region, reason),) = done.failed
    assert region is AFR
    assert "transport_mode/air of table 2026-01" in reason
    assert done.published
    assert {d.region for d in done.published} == {EEG}
    assert len(sink.on(DIGESTS_TOPIC)) == len(done.published)
    _assert_told(caplog)
    assert done.day == date(2026, 9, 1)


def test_a_table_that_lists_nothing_frees_what_hiding_cannot() -> None:
    """The decision's ground (docs/digests.md): October's and November's ``x`` count one
    case each, both hidden, under a quarter of 2 known from elsewhere. Listed, each is at
    least 1, so each is 1: hidden as suppressed (as they are), they still raise. October's
    table withheld whole — its cells listed nowhere, least value 0, still in the sum —
    leaves October in [0, 1] and November in [1, 2], and the pattern returns."""
    oct_x, nov_x, q_x = (("2025-10", "d", "x"), ("2025-11", "d", "x"), ("2025-Q4", "d", "x"))
    counts = {oct_x: 1, nov_x: 1, q_x: 2}
    groups = [Group(q_x, (oct_x, nov_x))]
    with pytest.raises(UnprotectedCellError):
        protect(counts, {oct_x, nov_x}, groups, known={q_x}, bounds=True)
    done = protect(counts, {oct_x, nov_x}, groups, known={q_x}, bounds=True, unlisted={oct_x})
    assert done.suppressed >= {oct_x, nov_x}

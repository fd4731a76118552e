"""A cell no suppression can protect (``UnprotectedCellError``, a region's first issue):
its table is silenced — the period's digest lists nothing, not even its total, and says
why; every cell of it stays in every sum — and the issue goes out; the record keeps the
table silent in later issues; the operator gets one log line per silenced table naming
the table and the cell (never a State or a count). Only where that cannot help (the table
silent already) is the region's whole issue withheld, and the other regions' issues go on
(docs/digests.md, "A cell no suppression can protect").

The error is injected where the issuer calls the pattern (``RegionDigests.load``'s
``digest_pattern``): the histories that raised it (seed 5 of ``test_secretariat.py``
before session 6) no longer do, and ``test_reporting_suppression.py`` tests the search's
side (``test_a_first_issue_never_publishes_a_pinned_cell_silently``)."""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest
from markupsafe import escape

import dief.digests._region as region_module
from dief.aggregator.store import CaseStore, DigestVersions, SuppressedCell
from dief.audit import audit_folder
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.digests import DigestSchedule, RegionDigests, closed_period_publisher, publish_digests
from dief.digests._notes import SILENT_KEY, SILENT_NOTE, missing_tables_note
from dief.digests._withheld import WITHHELD_KEY
from dief.disclosure import SILENT_CELL, Group, digest_pattern, protect, silent_tables
from dief.exceptions import UnprotectedCellError
from dief.kafka import DIGESTS_TOPIC
from dief.render import render_digest_html, render_digest_markdown, write_outputs
from dief.testing import FakeClock, MemoryRecordSink
from dief.vocab import Region
from dief.wire import Digest
from tests.unit.secretariat_support import NOW, fill, issuer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from dief.disclosure import DigestPattern

AFR, EEG = Region.AFR, Region.EEG
#: the cell the pattern cannot protect: a month's table, a vocabulary value
CELL = ("2026-01", "transport_mode", "air")
TABLE = CELL[0]
PERIODS = ["CSP12", "2026-01", "2026-Q1"]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        await fill(s, 7, (AFR, EEG))
        yield s


def _silent_of(kwargs: dict[str, Any]) -> frozenset[str]:
    return frozenset(kwargs.get("silent", ())) | silent_tables(kwargs.get("earlier"))


def _raises_unless_silent(monkeypatch: pytest.MonkeyPatch) -> list[frozenset[str]]:
    """The issuer's pattern raises ``UnprotectedCellError`` for :data:`CELL` while its
    table is not silent (given, or silenced by an earlier issue), and is the real one
    after; returns the silent tables of each call."""
    calls: list[frozenset[str]] = []

    def pattern(*args: Any, **kwargs: Any) -> DigestPattern:  # noqa: ANN401  digest_pattern's own signature, passed through
        calls.append(_silent_of(kwargs))
        if TABLE not in calls[-1]:
            raise UnprotectedCellError(CELL)
        return digest_pattern(*args, **kwargs)

    monkeypatch.setattr(region_module, "digest_pattern", pattern)
    return calls


def _raises(monkeypatch: pytest.MonkeyPatch, times: int) -> list[int]:
    """The issuer's pattern raises ``UnprotectedCellError`` on its first *times* calls
    (silencing its table does not help), and is the real one after."""
    calls: list[int] = []

    def pattern(*args: Any, **kwargs: Any) -> DigestPattern:  # noqa: ANN401  digest_pattern's own signature, passed through
        calls.append(len(calls))
        if len(calls) <= times:
            raise UnprotectedCellError(CELL)
        return digest_pattern(*args, **kwargs)

    monkeypatch.setattr(region_module, "digest_pattern", pattern)
    return calls


def _always_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    """The issuer's pattern built with :data:`TABLE` silent from the start (no error)."""

    def pattern(*args: Any, **kwargs: Any) -> DigestPattern:  # noqa: ANN401  digest_pattern's own signature, passed through
        return digest_pattern(*args, **{**kwargs, "silent": _silent_of(kwargs) | {TABLE}})

    monkeypatch.setattr(region_module, "digest_pattern", pattern)


def _no_counts(line: str) -> None:
    # the period's digits aside, no number: no count, no contributor
    assert re.findall(r"\d+", line.replace(TABLE, "")) == []


def _assert_silenced(caplog: pytest.LogCaptureFixture) -> None:
    lines = [r.getMessage() for r in caplog.records if "lists nothing" in r.getMessage()]
    told = f"AFR: table {TABLE} lists nothing: disclosure control cannot protect"
    assert lines == [f"{told} transport_mode/air in it"]
    _no_counts(lines[0])


def _assert_withheld(caplog: pytest.LogCaptureFixture) -> None:
    lines = [r.getMessage() for r in caplog.records if "issue withheld" in r.getMessage()]
    assert len(lines) == 1, lines
    (line,) = lines
    assert line.startswith("AFR: issue withheld")
    assert f"transport_mode/air of table {TABLE}" in line
    _no_counts(line)


async def test_an_unprotected_table_is_silenced_and_the_issue_goes_out(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls = _raises_unless_silent(monkeypatch)
    sink = MemoryRecordSink()
    iss = issuer(AFR, sink)
    with caplog.at_level(logging.INFO, logger="dief.digests"):
        done = await publish_digests(store, AFR, PERIODS, issuer=iss)
    assert calls == [frozenset(), frozenset({TABLE})]  # raised once, built again silent
    assert [(d.period, d.version) for d in done] == [(p, 1) for p in PERIODS]
    assert len(sink.on(DIGESTS_TOPIC)) == len(PERIODS)
    _assert_silenced(caplog)
    # the record says so: the next issue keeps the table silent, the pattern protecting it
    recorded = await store.published_suppressions("AFR")
    assert SuppressedCell(TABLE, *SILENT_CELL) in recorded.suppressed
    assert silent_tables(recorded) == {TABLE}
    # nothing of the silenced table but its total is recorded as listed
    listed = {(c.dimension, c.value) for c in (*recorded.suppressed, *recorded.counts)}
    mine = {
        (c.dimension, c.value)
        for c in (*recorded.suppressed, *recorded.counts)
        if c.period == TABLE
    }
    assert mine == {("_total", "_all"), SILENT_CELL}
    assert len(listed) > len(mine)
    monkeypatch.setattr(region_module, "digest_pattern", digest_pattern)
    again = await RegionDigests.for_issue(store, AFR, k=2, k_csp=3, periods=PERIODS)
    assert again.pattern.silenced(TABLE)
    digest = again.digest(TABLE, catalogue=load_catalogue())
    assert digest.dimensions == {}
    assert digest.totals.cases is None


async def test_a_table_silent_already_withholds_the_whole_issue(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Silencing the table does not free the cell: nothing of the issue goes out."""
    calls = _raises(monkeypatch, 2)
    sink = MemoryRecordSink()
    iss = issuer(AFR, sink)
    with (
        caplog.at_level(logging.INFO, logger="dief.digests"),
        pytest.raises(UnprotectedCellError) as raised,
    ):
        await publish_digests(store, AFR, PERIODS, issuer=iss)
    assert len(calls) == 2  # bounded: the table silenced once, then the issue withheld
    assert raised.value.cell == CELL
    assert sink.sent == []  # nothing sealed or sent
    assert await DigestVersions(store).of_region("AFR") == {}  # no version claimed
    recorded = await store.published_suppressions("AFR")
    assert not recorded.suppressed
    assert not recorded.counts  # nothing recorded: the next issue is a first issue again
    _assert_silenced(caplog)
    _assert_withheld(caplog)
    # once the pattern protects every cell, the same issue goes out with version 1
    done = await publish_digests(store, AFR, PERIODS, issuer=iss)
    assert [(d.period, d.version) for d in done] == [(p, 1) for p in PERIODS]


async def test_the_other_regions_issues_go_on(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls = _raises(monkeypatch, 2)
    sink = MemoryRecordSink()
    issuers = {r: issuer(r, sink) for r in (AFR, EEG)}
    schedule = DigestSchedule(
        [AFR, EEG], closed_period_publisher(store, issuers), interval=3600, clock=FakeClock(NOW)
    )
    with caplog.at_level(logging.INFO, logger="dief.digests"):
        done = await schedule.run_once()
    assert len(calls) == 3  # AFR's pattern raised twice, EEG's was computed
    ((region, reason),) = done.failed
    assert region is AFR
    assert f"transport_mode/air of table {TABLE}" in reason
    assert done.published
    assert {d.region for d in done.published} == {EEG}
    assert len(sink.on(DIGESTS_TOPIC)) == len(done.published)
    _assert_withheld(caplog)
    assert done.day == date(2026, 9, 1)


async def _write(store: CaseStore, out: Path) -> Path:
    await write_outputs(
        out, store, regions=["AFR"], catalogue=load_catalogue(), html=False, docx=False
    )
    return out


def _digests(out: Path) -> dict[str, dict[str, Any]]:
    folder = out / "digests" / "AFR"
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")}


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    notes = {k: v for k, v in doc["notes"].items() if k != "data_version"}
    return {**{k: v for k, v in doc.items() if k not in {"issued_at", "notes"}}, "notes": notes}


async def test_the_silenced_digest_lists_nothing_and_says_why(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """(c) the silenced period's digest lists no value and says why, in one sentence; (a)
    every other digest is published as a pattern built with the table silent from the
    start (no error) publishes it."""
    _raises_unless_silent(monkeypatch)
    out = await _write(store, tmp_path / "silenced")
    docs = _digests(out)
    silenced = Digest.model_validate(docs[TABLE])
    assert silenced.dimensions == {}
    assert silenced.totals.cases is None
    assert silenced.totals.contributors is None
    assert (silenced.notes.model_extra or {}).get(SILENT_KEY) == [TABLE]
    assert WITHHELD_KEY not in (silenced.notes.model_extra or {})  # not "fewer than k"
    assert SILENT_NOTE in silenced.notes.text
    assert missing_tables_note(silenced) == SILENT_NOTE
    # every page says it where the tables would be
    assert SILENT_NOTE in render_digest_markdown(silenced)
    assert str(escape(SILENT_NOTE)) in render_digest_html(silenced)
    others = {p for p in docs if p != TABLE}
    assert others
    for period in others:
        assert SILENT_KEY not in docs[period]["notes"]
    async with CaseStore(sqlite_url(tmp_path / "twin.db")) as twin:
        await fill(twin, 7, (AFR, EEG))
        _always_silent(monkeypatch)
        direct = _digests(await _write(twin, tmp_path / "direct"))
    assert set(direct) == set(docs)
    for period in sorted(docs):
        assert _comparable(docs[period]) == _comparable(direct[period]), period


async def test_the_audit_pins_nothing_across_both_issues(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """(b) the LP audit over every document of the first issue, then of both issues
    (the second after new cases, the table kept silent by the record), pins no
    suppressed cell; the silenced table is silent in both."""
    calls = _raises_unless_silent(monkeypatch)
    first = await _write(store, tmp_path / "issue1")
    report = audit_folder([first], "AFR", verdicts_only=True)
    assert report.suppressed
    assert not report.determined
    await fill(store, 8, (AFR,))
    second = await _write(store, tmp_path / "issue2")
    assert calls[-1] == frozenset({TABLE})  # kept silent by the record, no error needed
    assert len(calls) == 3
    for out in (first, second):
        doc = _digests(out)[TABLE]
        assert doc["dimensions"] == {}
        assert doc["notes"][SILENT_KEY] == [TABLE]
    both = audit_folder([first, second], "AFR", verdicts_only=True)
    assert not both.determined


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

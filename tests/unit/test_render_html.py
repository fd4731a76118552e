"""HTML digests and summaries: every published cell, no suppressed value, nothing fetched."""

from __future__ import annotations

import random
import re
from html.parser import HTMLParser
from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.digests import build_digest, digest_series, load_series, withheld_dimensions
from dief.disclosure import merge_rows
from dief.periods import parse_period
from dief.render import render_digest_html, render_digest_markdown, render_summary_html
from dief.secretariat import build_summary
from dief.vocab import Dimension
from dief.wire import Cell, ChecklistEntry, Digest, Lesson, RegionTable
from tests.unit.reporting_support import History, make_facts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

CATALOGUE = load_catalogue()
MONTHS = (*(f"2025-{m:02d}" for m in range(1, 13)), "2026-01", "2026-02", "2026-03")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        rng = random.Random(11)
        for region in ("AFR", "APG", "EEG"):
            await s.apply_batch(region, History(region, rng, MONTHS, nodes=5).batch(150))
        yield s


@pytest.fixture
async def busy_store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    """AFR with twelve nodes: its 2026-Q1 digest publishes a stage and hides another (with
    five nodes the reserve for totals hides every stage of the quarter, by design)."""
    async with CaseStore(sqlite_url(tmp_path / "busy.db")) as s:
        rng = random.Random(11)
        await s.apply_batch("AFR", History("AFR", rng, MONTHS, nodes=12).batch(400))
        yield s


class _Page(HTMLParser):
    """Table rows (with their data-* attributes and cell texts), chart points, tags seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[tuple[dict[str, str], list[str]]] = []
        self.points: list[dict[str, str]] = []
        self.tags: set[str] = set()
        self.attrs_seen: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self._row: tuple[dict[str, str], list[str]] | None = None
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.add(tag)
        self.attrs_seen += [(tag, k, v) for k, v in a.items()]
        if tag == "tr" and "data-suppressed" in a:
            self._row = (a, [])
        elif tag == "td" and self._row is not None:
            self._row[1].append("")
            self._in_cell = True
        elif tag == "g" and "pt" in a.get("class", "").split():
            self.points.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_cell = False
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._row is not None and self._in_cell:
            self._row[1][-1] += data


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def _check_cells(page: _Page, dimension: Dimension, cells: list[Cell], table: str = "") -> None:
    rows = {
        a["data-value"]: (a, texts)
        for a, texts in page.rows
        if a.get("data-dimension") == dimension.value and a.get("data-table", table) == table
    }
    assert set(rows) == {c.value for c in cells}, dimension
    for cell in cells:
        attrs, texts = rows[cell.value]
        if cell.suppressed:
            assert attrs["data-suppressed"] == "true"
            assert "data-count" not in attrs
            assert texts[1].startswith("suppressed")  # with why: (few) or (protects)
            assert not any(re.search(r"\d", t) for t in texts[1:]), texts
        else:
            assert attrs["data-suppressed"] == "false"
            assert attrs["data-count"] == texts[1].strip() == str(cell.count)
            assert attrs["data-contributors"] == texts[2].strip() == str(cell.contributors)


def _check_checklist(page: _Page, entries: list[ChecklistEntry]) -> None:
    rows = {a["data-id"]: texts for a, texts in page.rows if "data-id" in a}
    assert set(rows) == {e.id for e in entries}
    for entry in entries:
        texts = rows[entry.id]
        if entry.suppressed:
            assert texts[3].startswith("suppressed (")  # with why
            assert not re.search(r"\d", texts[0] + texts[3] + texts[4] + texts[5])
        else:
            assert texts[3] == str(entry.count)


def _check_offline(html: str, page: _Page) -> None:
    assert "://" not in html  # no URL at all, not even an XML namespace
    assert not page.tags & {"script", "link", "img", "iframe", "object", "embed", "image"}
    assert not [x for x in page.attrs_seen if x[1] in {"src", "href", "xlink:href"}]
    assert "default-src 'none'" in html
    assert "@import" not in html
    assert "url(" not in html


def _check_points(page: _Page, html: str, digest: Digest) -> int:
    """The charts draw the period's published counts, no count of a hidden cell, and no
    point of a dimension the digest withholds (its card says why). Returns the points
    of the period's dimension charts."""
    period = digest.period
    index = {(d.value, c.value): c for d, cs in digest.dimensions.items() for c in cs}
    # a withheld dimension: its card says why, and each of its points is hidden
    withheld = {d.value for d in withheld_dimensions(digest)}
    for code in withheld:
        assert f'data-withheld="{code}"' in html
    drawn = 0
    for point in page.points:
        if "data-group" not in point or point["data-label"] != period:
            continue
        cell = index.get((point["data-group"], point["data-series"]))
        drawn += 1
        if point["data-group"] in withheld:
            assert point.get("data-suppressed") == "true"
            assert "data-value" not in point
        elif cell is None:  # a value of earlier periods, without a case now
            assert point["data-value"] == "0"
        elif cell.suppressed:
            assert point.get("data-suppressed") == "true"
            assert "data-value" not in point
        else:
            assert point["data-value"] == str(cell.count)
    return drawn


async def test_digest_html_shows_every_published_cell_and_no_suppressed_value(
    store: CaseStore,
) -> None:
    suppressed_seen = 0
    for period in ("2026-Q1", "2025-11", "CSP12"):
        for k in (2, 4):
            digest = await build_digest(store, "AFR", period, k=k, catalogue=CATALOGUE)
            series = await load_series(store, "AFR", period, k=k)
            html = render_digest_html(digest, series)
            assert html == render_digest_html(digest, series), "deterministic"
            page = parse(html)
            for dimension, cells in digest.dimensions.items():
                _check_cells(page, dimension, cells)
                suppressed_seen += sum(c.suppressed for c in cells)
            _check_checklist(page, digest.checklist)
            _check_offline(html, page)
            drawn = _check_points(page, html, digest)
            assert drawn == sum(len(lines) for lines in series.dimensions.values())
            totals = [p for p in page.points if "data-group" not in p and p["data-label"] == period]
            assert len(totals) == 1
            if digest.totals.cases is None:
                assert totals[0]["data-suppressed"] == "true"
            else:
                assert totals[0]["data-value"] == str(digest.totals.cases)
    assert suppressed_seen > 0, "k = 4 must suppress something"


async def test_html_and_markdown_publish_the_same_cells(store: CaseStore) -> None:
    digest = await build_digest(store, "APG", "2025-Q4", k=3, catalogue=CATALOGUE)
    page = parse(render_digest_html(digest))  # no series: charts of the period only
    markdown = render_digest_markdown(digest)
    for a, _texts in page.rows:
        if a.get("data-suppressed") == "false" and "data-dimension" in a:
            assert f"| `{a['data-value']}` | {a['data-count']} | {a['data-contributors']} |" in (
                markdown
            )
        elif "data-dimension" in a:
            assert f"| `{a['data-value']}` | suppressed (" in markdown


@pytest.mark.slow
async def test_series_points_equal_what_each_periods_digest_publishes(store: CaseStore) -> None:
    for period, k in (("2026-03", 2), ("2026-Q1", 3), ("CSP12", 2)):
        series = await load_series(store, "EEG", period, k=k)
        assert series.periods[-1] == period
        assert len(series.periods) >= 2
        for index, name in enumerate(series.periods):
            digest = await build_digest(store, "EEG", name, k=k, catalogue=CATALOGUE)
            assert series.totals[index] == digest.totals.cases
            cells = {(d, c.value): c for d, cs in digest.dimensions.items() for c in cs}
            for dimension, lines in series.dimensions.items():
                assert len(lines) <= 5
                for line in lines:
                    cell = cells.get((dimension, line.value))
                    # a digest of fewer than k contributors lists no value: hidden points
                    blank = not digest.dimensions and digest.totals.cases is None
                    # nor of a dimension it withholds
                    blank = blank or dimension in withheld_dimensions(digest)
                    expected = (
                        None
                        if blank or (cell is not None and cell.suppressed)
                        else 0
                        if cell is None
                        else cell.count
                    )
                    assert line.counts[index] == expected, (name, dimension, line.value)


async def test_series_drops_empty_leading_periods_and_never_ranks_by_hidden_counts(
    store: CaseStore,
) -> None:
    # a multi-valued dimension (method): its values do not add up to the total, so the
    # hidden count stays hidden without hiding its neighbour. (With kind, whose two values
    # add up to the total, the joint suppression now hides alert too: 11 - 2 would give
    # case away.)
    facts = [
        make_facts(region="WEOG", month="2026-02", node=1, values=(("method", "ant_trade"),))
        for _ in range(9)
    ]
    facts += [
        make_facts(region="WEOG", month="2026-02", node=n, values=(("method", "other"),))
        for n in (2, 3)
    ]
    await store.apply_batch("WEOG", facts)
    rows = await store.cell_rows("WEOG", ["2026-01", "2026-02"])
    series = digest_series(merge_rows(rows), parse_period("2026-02"), k=2)
    assert series.periods == ("2026-02",)
    assert series.totals == (11,)
    methods = series.dimensions[Dimension.METHOD]
    assert [(s.value, s.counts) for s in methods] == [("other", (2,))]  # 9 cases, 1 contributor


async def test_lessons_are_escaped_grouped_and_never_red(busy_store: CaseStore) -> None:
    store = busy_store
    plain = await build_digest(store, "AFR", "2026-Q1", k=2, catalogue=CATALOGUE)
    stages = plain.dimensions[Dimension.TRANSFER_STAGE]
    shown = next(c.value for c in stages if not c.suppressed)
    hidden = next(c.value for c in stages if c.suppressed)
    lessons = [
        Lesson(text="Check <script>alert(1)</script> stamps & seals.", tlp="amber", stage=shown),
        Lesson(text="Red text.", tlp="red", stage=shown),
        Lesson(text="Strict text.", tlp="amber_strict", stage=shown),
        Lesson(text="Route via free zone.", tlp="green", stage=hidden),
    ]
    digest = await build_digest(store, "AFR", "2026-Q1", k=2, catalogue=CATALOGUE, lessons=lessons)
    html = render_digest_html(digest)
    assert "<script>" not in html
    assert "Check &lt;script&gt;alert(1)&lt;/script&gt; stamps &amp; seals." in html
    assert "Red text." not in html
    assert "Strict text." not in html
    section = html[html.index('id="lessons"') : html.index('id="notes"')]
    heading = shown.replace("_", " ").capitalize()
    # a lesson of a suppressed stage is listed without its stage
    assert hidden.replace("_", " ").capitalize() not in section
    assert (
        section.index(heading)
        < section.index("Check &lt;")
        < section.index("Other stages")
        < section.index("Route via free zone.")
    )
    assert "TLP:AMBER" in section
    assert "TLP:GREEN" in section
    assert [lesson.stage for lesson in digest.lessons] == [shown, None]

    omitted = await build_digest(store, "AFR", "2026-Q1", k=2, catalogue=CATALOGUE, lessons=None)
    assert omitted.notes.lessons_omitted
    assert "rendered without the region&#39;s private key" in render_digest_html(omitted)
    assert "rendered without the region's private key" in render_digest_markdown(omitted)


async def test_withheld_totals_in_html(store: CaseStore) -> None:
    await store.apply_batch(
        "GRULAC", [make_facts(region="GRULAC", month="2026-05", node=1) for _ in range(7)]
    )
    digest = await build_digest(store, "GRULAC", "2026-05", k=2, catalogue=CATALOGUE)
    html = render_digest_html(digest, await load_series(store, "GRULAC", "2026-05", k=2))
    page = parse(html)
    assert all(a["data-suppressed"] == "true" for a, _ in page.rows if "data-dimension" in a)
    assert ">7<" not in html
    assert "7 cases" not in html
    assert 'data-tile="cases"' in html


def _summary_table(page: _Page, key: str, table: RegionTable) -> None:
    for dimension, cells in table.dimensions.items():
        _check_cells(_only(page, key), dimension, cells, table=key)


def _only(page: _Page, key: str) -> _Page:
    """The rows of one table group (a region or "global") of a summary page."""
    sub = _Page()
    sub.rows = [r for r in page.rows if r[0].get("data-table") == key]
    return sub


async def test_summary_html(store: CaseStore) -> None:
    summary = await build_summary(
        store, "CSP12", k=4, catalogue=CATALOGUE, regions=["AFR", "APG", "EEG"]
    )
    assert summary.methodology.suppressed > 0
    html = render_summary_html(summary)
    assert html == render_summary_html(summary)
    page = parse(html)
    _check_offline(html, page)
    _summary_table(page, "global", summary.global_)
    for region, table in summary.regions.items():
        _summary_table(page, region.value, table)
    _check_checklist(page, summary.checklist)
    text = "".join(page.text)
    for paragraph in summary.narrative:
        assert paragraph in text
    assert "<svg" in html
    assert 'class="chart bars"' in html


def test_digest_without_cells_renders() -> None:
    digest = Digest.model_validate(
        {
            "region": "WEOG",
            "period": "2026-05",
            "k": 2,
            "totals": {"cases": 0, "contributors": 0, "suppressed": 0},
            "dimensions": {d.value: [] for d in Dimension},
        }
    )
    html = render_digest_html(digest)
    assert "No data." in html
    assert "<svg" in html


async def test_pages_link_their_csv_annex_when_told_its_name(store: CaseStore) -> None:
    """The output folder writes ``<period>.csv`` beside each page; the page links it (a
    relative link: the folder can be moved or served as it is)."""
    digest = await build_digest(store, "APG", "2025-Q4", k=3, catalogue=CATALOGUE)
    assert 'href="2025-Q4.csv"' in render_digest_html(digest, annex="2025-Q4.csv")
    assert ".csv" not in render_digest_html(digest)
    summary = await build_summary(store, "CSP12", k=4, catalogue=CATALOGUE, regions=["AFR"])
    assert 'href="CSP12.csv"' in render_summary_html(summary, annex="CSP12.csv")
    assert ".csv" not in render_summary_html(summary)

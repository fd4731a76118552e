"""Markdown renderings and the output directory."""

from __future__ import annotations

import json
import random
import re
from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.digests import build_digest
from dief.render import render_digest_markdown, render_summary_markdown, write_outputs
from dief.secretariat import build_summary
from dief.vocab import REGION_NAMES, Region
from dief.wire import Cell, ChecklistEntry, CspSummary, Digest, RegionTable
from tests.unit.reporting_support import History, make_facts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

CATALOGUE = load_catalogue()
MONTHS = ("2025-08", "2025-11", "2026-02", "2026-05", "2026-07", "2026-08", "2026-09")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        rng = random.Random(5)
        for region in ("AFR", "APG", "EEG"):
            history = History(region, rng, MONTHS, nodes=5)
            await s.apply_batch(region, history.batch(70))
        yield s


def _sections(markdown: str, level: str) -> dict[str, str]:
    """Heading → text up to the next heading of this level or above."""
    parts = re.split(rf"^(#{{1,{len(level)}}} )", markdown, flags=re.MULTILINE)
    return {
        body.splitlines()[0]: body
        for mark, body in zip(parts[1::2], parts[2::2], strict=True)
        if mark == f"{level} "
    }


def _rows(section: str) -> dict[str, list[str]]:
    """First column (a `code`) → the other columns, for every table row of *section*."""
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            cols = [c.strip() for c in line.strip("|").split(" | ")]
            rows[cols[0].strip("`")] = cols[1:]
    return rows


def _check_table(section: str, cells: list[Cell]) -> None:
    rows = _rows(section)
    assert set(rows) == {c.value for c in cells}
    for cell in cells:
        cols = rows[cell.value]
        if cell.suppressed:
            assert cols[0] in {"suppressed (few)", "suppressed (protects)"}
            assert not any(re.search(r"\d", c) for c in cols), cols
        else:
            assert cols[0] == str(cell.count)
            assert cols[1] == str(cell.contributors)


def _check_checklist(markdown: str, entries: list[ChecklistEntry]) -> None:
    rows = {}
    for line in markdown.splitlines():
        cols = [c.strip() for c in line.strip("|").split(" | ")]
        if len(cols) == 7 and cols[1].startswith("`"):
            rows[cols[1].strip("`")] = cols
    assert set(rows) == {e.id for e in entries}
    for entry in entries:
        cols = rows[entry.id]
        if entry.suppressed:
            assert cols[3] in {"suppressed (few)", "suppressed (protects)"}
            assert not re.search(r"\d", cols[0] + cols[4] + cols[5])
        else:
            assert cols[3] == str(entry.count)


def _check_region_table(markdown: str, table: RegionTable) -> None:
    for dim, cells in table.dimensions.items():
        header = next(h for h in _sections(markdown, "###") if f"(`{dim.value}`)" in h)
        _check_table(_sections(markdown, "###")[header], cells)


async def test_digest_markdown_shows_every_published_count_and_no_suppressed_one(
    store: CaseStore,
) -> None:
    for k in (2, 4):
        digest = await build_digest(store, "AFR", "2026-Q3", k=k, catalogue=CATALOGUE)
        text = render_digest_markdown(digest)
        assert text.endswith("\n")
        assert text == render_digest_markdown(digest)
        assert "(AFR), 2026-Q3" in text.splitlines()[0]
        _check_region_table(text, RegionTable(totals=digest.totals, dimensions=digest.dimensions))
        _check_checklist(text, digest.checklist)
        totals = _sections(text, "##")["Totals"]
        if digest.totals.cases is not None:
            assert f"| {digest.totals.cases} | {digest.totals.contributors} |" in totals
    assert digest.notes.suppressed_cells > 0, "k = 4 must suppress something"


async def test_withheld_totals_render_as_suppressed(store: CaseStore) -> None:
    await store.apply_batch(
        "WEOG", [make_facts(region="WEOG", month="2026-05", node=1) for _ in range(3)]
    )
    digest = await build_digest(store, "WEOG", "2026-05", k=2, catalogue=CATALOGUE)
    text = render_digest_markdown(digest)
    totals = _sections(text, "##")["Totals"]
    assert "| suppressed (few) | \u2013 |" in totals
    assert "| 3 |" not in text


async def test_summary_markdown(store: CaseStore) -> None:
    summary = await build_summary(
        store, "CSP12", k=4, catalogue=CATALOGUE, regions=["AFR", "APG", "EEG"]
    )
    assert summary.methodology.suppressed > 0
    text = render_summary_markdown(summary)
    sections = _sections(text, "##")
    for region, table in summary.regions.items():
        name = f"{REGION_NAMES[region]} ({region.value})"
        _check_region_table(sections[name], table)
    _check_region_table(sections["All regions"], summary.global_)
    _check_checklist(sections["Global risk-indicator checklist"], summary.checklist)
    for paragraph in summary.narrative:
        assert paragraph in text
    assert f"k = {summary.methodology.k}" in text


@pytest.mark.slow
async def test_write_outputs(store: CaseStore, tmp_path: Path) -> None:
    out = tmp_path / "out"
    index = await write_outputs(
        out, store, regions=list(Region), k_meeting=2, k_csp=3, catalogue=CATALOGUE
    )
    for region in Region:
        periods = await store.periods_with_data(region.value)
        for period in periods:
            for ext in ("json", "md"):
                assert (out / "digests" / region.value / f"{period}.{ext}").is_file()
        if not periods:
            assert not (out / "digests" / region.value).exists()
    afr = await store.periods_with_data("AFR")
    assert {"2025-08", "2025-Q3", "CSP11", "CSP12", "CSP13", "2026-Q3"} <= set(afr)
    for cycle in ("CSP11", "CSP12", "CSP13"):
        summary = CspSummary.model_validate_json((out / "summary" / f"{cycle}.json").read_text())
        assert summary.cycle == cycle
        assert (
            (out / "summary" / f"{cycle}.md").read_text().startswith(f"# DIEF summary for {cycle}")
        )
    # every file but the manifest of what was rendered from what (.dief/, issue #15)
    on_disk = sorted(p for p in out.rglob("*") if p.is_file() and ".dief" not in p.parts)
    assert sorted(index.paths) == on_disk
    assert len(index.summaries) == 3
    assert len(index.digests) == sum([len(await store.periods_with_data(r.value)) for r in Region])
    text = (out / "digests" / "AFR" / "2026-Q3.json").read_text()
    assert text.endswith("}\n")
    assert text.startswith('{\n  "region": "AFR",')
    digest = Digest.model_validate_json(text)
    assert json.loads(text)["period"] == digest.period == "2026-Q3"
    # deterministic: a second run writes the same bytes
    before = {p: p.read_bytes() for p in on_disk}
    await write_outputs(out, store, regions=list(Region), k_meeting=2, k_csp=3, catalogue=CATALOGUE)
    assert {p: p.read_bytes() for p in on_disk} == before
    assert not list(out.rglob(".*.tmp"))

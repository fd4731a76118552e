"""The CSP summary as a DOCX working paper: opens with python-docx, holds the tables."""

from __future__ import annotations

import io
import random
import re
import zipfile
from typing import TYPE_CHECKING

import docx
import pytest

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.render import render_summary_docx
from dief.render._docx import SUPPRESSED, _dimension_value, prose
from dief.secretariat import build_summary
from dief.vocab import REGION_NAMES, Dimension
from tests.unit.reporting_support import History

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from dief.wire import CspSummary

CATALOGUE = load_catalogue()
MONTHS = ("2024-10", "2025-01", "2025-04", "2025-07", "2025-10", "2026-01", "2026-04", "2026-07")


@pytest.fixture
async def summary(tmp_path: Path) -> AsyncIterator[CspSummary]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as store:
        rng = random.Random(3)
        for region in ("AFR", "APG", "EEG", "WEOG"):
            await store.apply_batch(region, History(region, rng, MONTHS, nodes=6).batch(160))
        yield await build_summary(
            store, "CSP12", k=4, catalogue=CATALOGUE, regions=["AFR", "APG", "EEG", "WEOG"]
        )


def _tables(document: docx.document.Document) -> list[list[list[str]]]:
    return [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]


@pytest.mark.slow
def test_docx_is_a_working_paper_with_every_table(summary: CspSummary) -> None:  # noqa: C901, PLR0912  one document read through, table by table
    assert summary.methodology.suppressed > 0
    data = render_summary_docx(summary)
    assert data == render_summary_docx(summary), "deterministic bytes"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        assert sum(n.startswith("word/media/") for n in archive.namelist()) == 2  # two charts
    document = docx.Document(io.BytesIO(data))
    assert document.core_properties.title == "DIEF summary CSP12"
    paragraphs = [p.text for p in document.paragraphs]
    styles = [(p.style.name if p.style is not None else "", p.text) for p in document.paragraphs]
    headings = [text for style, text in styles if style.startswith("Heading")]
    title = next(text for style, text in styles if style == "Title")
    assert "CSP12 (2025-09 to 2026-08)" in title
    assert headings[0] == "Summary"
    assert headings[-1] == "Annex: Methodology"
    for paragraph in summary.narrative:
        assert paragraph in paragraphs
    for rule in summary.methodology.rules:
        assert prose(rule) in paragraphs

    tables = _tables(document)
    regions = tables[0]
    assert regions[0][:2] == ["Region", "Cases"]
    for row, (region, totals) in zip(regions[1:], summary.regions.items(), strict=False):
        assert row[0] == f"{REGION_NAMES[region]} ({region.value})"
        cases = totals.totals.cases
        assert row[1] == (SUPPRESSED if cases is None else str(cases))
    assert regions[-1][0] == "All regions"

    checklist = next(t for t in tables if t[0][:2] == ["Rank", "Indicator"])
    rows = {r[1]: r for r in checklist[1:]}
    assert set(rows) == {e.id for e in summary.checklist}
    for entry in summary.checklist:
        if entry.suppressed:
            assert rows[entry.id][3] == SUPPRESSED
            assert not re.search(r"\d", rows[entry.id][0] + rows[entry.id][4])
        else:
            assert rows[entry.id][3] == str(entry.count)

    by_dimension = [t for t in tables if t[0][:2] == ["Value", "Cases"]]
    titles: dict[str, str] = {}  # indicators by id: their questions are in the checklist
    assert len(by_dimension) == sum(bool(c) for c in summary.global_.dimensions.values())
    codes = list(summary.regions)
    assert by_dimension[0][0][5:] == codes
    seen = 0
    for dimension in Dimension:
        cells = summary.global_.dimensions[dimension]
        if not cells:
            continue
        grid = by_dimension[seen]
        seen += 1
        rows = {r[0]: r for r in grid[1:]}
        shown = {c.value: _dimension_value(dimension, c.value, titles) for c in cells}
        assert set(rows) == set(shown.values())
        for cell in cells:
            row = rows[shown[cell.value]]
            if cell.suppressed:
                assert row[1] == SUPPRESSED
                assert not re.search(r"\d", "".join(row[2:5]))
            else:
                assert row[1:3] == [str(cell.count), str(cell.contributors)]
            for code, text in zip(codes, row[5:], strict=True):
                regional = {c.value: c for c in summary.regions[code].dimensions[dimension]}.get(
                    cell.value
                )
                if regional is None:
                    assert text == "0"
                elif regional.suppressed:
                    assert text == SUPPRESSED
                else:
                    assert text == str(regional.count)

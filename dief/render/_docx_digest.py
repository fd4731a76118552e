"""A regional trend digest as a DOCX meeting paper (python-docx), for the regional meeting.

Numbered sections: totals, the dimensions, the risk-indicator checklist, the lessons, the
route tables other regions sent ("Cases elsewhere whose route passes through this
region", as given, when there are any), and the notes. A suppressed cell reads
"suppressed" with dashes beside it, never a number; a withheld route table shows no count.
The file is deterministic (fixed document properties and ZIP timestamps).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from dief.digests import WITHHELD_DIMENSION_TEXT, withheld_dimensions
from dief.periods import DEFAULT_CYCLE_START_MONTH, parse_period
from dief.render._docx import (
    _DASH,
    _ROMAN,
    SUPPRESSED,
    _checklist_rows,
    _dimension_value,
    _fixed_zip,
    _num,
    _pct,
    _table,
    _trend,
    annex_paragraph,
    long_date,
    paper_date,
    prose,
)
from dief.render._docx_layout import new_paper, value_text
from dief.render._routes import ROUTES_INTRO, ROUTES_TITLE, WITHHELD_TEXT, RouteView, route_views
from dief.secretariat import DIMENSION_LABELS
from dief.vocab import REGION_NAMES, Dimension

if TYPE_CHECKING:
    from collections.abc import Sequence

    from docx.document import Document as DocxDocument

    from dief.wire import Cell, Digest, Totals

__all__ = ["digest_symbol", "render_digest_docx"]


def _signed(value: int | None) -> str:
    if value is None:
        return _DASH
    return f"+{value}" if value > 0 else str(value)


def _totals_table(doc: DocxDocument, totals: Totals, *, previous: bool) -> None:
    header = ["Cases", "Distinct contributors (at least)", "Suppressed cells"]
    if totals.withheld or totals.cases is None:
        row = [SUPPRESSED, _DASH, str(totals.suppressed)]
    else:
        row = [str(totals.cases), _num(totals.contributors), str(totals.suppressed)]
    if previous:
        header += ["Previous period", "Trend"]
        row += [_num(totals.previous), _trend(totals.trend)]
    _table(doc, header, [row])


def _cell_row(cell: Cell, shown: str) -> list[str]:
    if cell.suppressed:
        return [shown, SUPPRESSED, _DASH, _DASH, _DASH, _DASH, _DASH]
    return [
        shown,
        _num(cell.count),
        _num(cell.contributors),
        _pct(cell.share),
        _num(cell.previous),
        _signed(cell.change),
        _trend(cell.trend),
    ]


def _dimensions(doc: DocxDocument, digest: Digest) -> None:
    header = ["Value", "Cases", "Contributors", "Share", "Previous", "Change", "Trend"]
    titles = {e.id: e.title or e.question for e in digest.checklist}
    withheld = withheld_dimensions(digest)
    for dimension in Dimension:
        cells = digest.dimensions.get(dimension, [])
        doc.add_heading(DIMENSION_LABELS[dimension].capitalize(), 2)
        if dimension in withheld:
            doc.add_paragraph(WITHHELD_DIMENSION_TEXT.format(k=digest.k))
            continue
        if not cells:
            doc.add_paragraph("No data.")
            continue
        _table(
            doc,
            header,
            [_cell_row(c, _dimension_value(dimension, c.value, titles)) for c in cells],
        )


def _lessons(doc: DocxDocument, digest: Digest) -> None:
    if digest.notes.lessons_omitted:
        doc.add_paragraph("Lessons are not included: rendered without the region's key.")
        return
    if not digest.lessons:
        doc.add_paragraph("No shareable lesson is included in this digest.")
        return
    for lesson in digest.lessons:
        tlp = "TLP:" + lesson.tlp.value.upper().replace("_", "+")
        stage = lesson.stage.value.replace("_", " ") if lesson.stage is not None else "other"
        doc.add_paragraph(f"{lesson.text} ({stage}; {tlp})", style="List Bullet")


def _route_table(doc: DocxDocument, view: RouteView) -> None:
    doc.add_heading(view.title, 2)
    if view.withheld:
        doc.add_paragraph(WITHHELD_TEXT)
        return
    _totals_table(doc, view.totals, previous=False)
    for dimension, cells in view.dimensions:
        doc.add_heading(DIMENSION_LABELS[dimension].capitalize(), 3)
        _table(
            doc,
            ["Value", "Cases", "Contributors"],
            [
                [_dimension_value(dimension, c.value, {}), SUPPRESSED, _DASH]
                if c.suppressed
                else [
                    _dimension_value(dimension, c.value, {}),
                    _num(c.count),
                    _num(c.contributors),
                ]
                for c in cells
            ],
        )
    for text in view.notes:
        doc.add_paragraph(text, style="List Bullet")


def _notes(doc: DocxDocument, digest: Digest) -> None:
    for text in digest.notes.text:
        doc.add_paragraph(prose(text), style="List Bullet")
    if digest.notes.dead_letters:
        _table(
            doc,
            ["Dead-letter reason", "Records"],
            [
                [value_text(reason), str(n)]
                for reason, n in sorted(digest.notes.dead_letters.items())
            ],
        )


def digest_symbol(digest: Digest, start_month: int = DEFAULT_CYCLE_START_MONTH) -> str:
    """The meeting paper's symbol: ``ATT/CSP12/DIEF/AFR/MP`` for a cycle digest,
    ``ATT/CSP12/DIEF/AFR/2026-Q1/MP`` for a shorter period (docs/documents.md)."""
    last = parse_period(digest.period, start_month=start_month).last
    cycle = str(last.cycle(start_month))
    within = "" if digest.period == cycle else f"/{digest.period}"
    return f"ATT/{cycle}/DIEF/{digest.region.value}{within}/MP"


def _new_document(digest: Digest, start_month: int) -> DocxDocument:
    """An empty A4 paper with its symbol and date (the first day after the period) in the
    header, page numbers, and fixed properties (the same digest gives the same bytes)."""
    last = parse_period(digest.period, start_month=start_month).last
    stamp = paper_date(str(last))
    return new_paper(
        symbol=digest_symbol(digest, start_month),
        dated=long_date(stamp),
        title=f"DIEF trend digest {digest.region.value} {digest.period}",
        subject="Regional DIEF meeting: non-attributed diversion cases",
        stamp=stamp,
    )


def _symbol_block(doc: DocxDocument, digest: Digest, start_month: int) -> None:
    """The first page's symbol, date and language, top right (later pages: the header)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH  # noqa: PLC0415  python-docx loaded on use (only DOCX papers need it)

    last = parse_period(digest.period, start_month=start_month).last
    marker = doc.add_paragraph(
        f"{digest_symbol(digest, start_month)}\n{long_date(paper_date(str(last)))}\n"
        "Original: English"
    )
    marker.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def render_digest_docx(digest: Digest, *, start_month: int = DEFAULT_CYCLE_START_MONTH) -> bytes:
    """A regional trend digest as a DOCX meeting paper (deterministic bytes)."""
    doc = _new_document(digest, start_month)
    region = digest.region
    _symbol_block(doc, digest, start_month)
    doc.add_heading(
        f"DIEF trend digest: {REGION_NAMES[region]} ({region.value}), {digest.period}", 0
    )
    sub = doc.add_paragraph(
        f"For the regional DIEF meeting only. Cells with fewer than {digest.k} distinct "
        f"contributors are suppressed, shown as {SUPPRESSED} in the tables ({_DASH}: does "
        "not apply). Contributors are never listed."
    )
    sub.runs[0].italic = True
    annex_paragraph(doc, f"{digest.period}.csv")
    numbers = iter(_ROMAN)
    doc.add_heading(f"{next(numbers)}. Totals", 1)
    _totals_table(doc, digest.totals, previous=True)
    doc.add_heading(f"{next(numbers)}. Dimensions", 1)
    _dimensions(doc, digest)
    doc.add_heading(f"{next(numbers)}. Risk-indicator checklist", 1)
    if digest.checklist:
        header = ["Rank", "Indicator", "Question", "Cases", "Prevalence", "Trend"]
        _table(doc, header, _checklist_rows(digest.checklist))
    else:
        doc.add_paragraph("No risk indicator was cited.")
    doc.add_heading(f"{next(numbers)}. Lessons", 1)
    _lessons(doc, digest)
    views: Sequence[RouteView] = route_views(digest)
    if views:
        doc.add_heading(f"{next(numbers)}. {ROUTES_TITLE}", 1)
        doc.add_paragraph(ROUTES_INTRO)
        for view in views:
            _route_table(doc, view)
    doc.add_heading(f"{next(numbers)}. Notes", 1)
    _notes(doc, digest)
    raw = io.BytesIO()
    doc.save(raw)
    return _fixed_zip(raw.getvalue())

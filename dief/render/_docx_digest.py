"""A regional trend digest as a DOCX meeting paper (python-docx), for the regional meeting.

Numbered sections: totals, the dimensions, the risk-indicator checklist, the lessons, the
route tables other regions sent ("Cases elsewhere whose route passes through this
region", as given, when there are any), and the notes. A suppressed cell reads
"suppressed" with dashes beside it, never a number; a withheld route table shows no count.
The file is deterministic (fixed document properties and ZIP timestamps).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dief.periods import DEFAULT_CYCLE_START_MONTH, parse_period
from dief.render._docx import (
    _DASH,
    _ROMAN,
    _TABLE_STYLE,
    SUPPRESSED,
    _checklist_rows,
    _fixed_zip,
    _num,
    _pct,
    _table,
    _trend,
)
from dief.render._routes import ROUTES_INTRO, ROUTES_TITLE, WITHHELD_TEXT, RouteView, route_views
from dief.secretariat import DIMENSION_LABELS
from dief.vocab import REGION_NAMES, Dimension
from dief.wire import Cell, Digest, Totals

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

__all__ = ["render_digest_docx"]


def _signed(value: int | None) -> str:
    if value is None:
        return _DASH
    return f"+{value}" if value > 0 else str(value)


def _totals_table(doc: DocxDocument, totals: Totals, *, previous: bool) -> None:
    header = ["cases", "distinct contributors (at least)", "suppressed cells"]
    if totals.withheld or totals.cases is None:
        row = [SUPPRESSED, _DASH, str(totals.suppressed)]
    else:
        row = [str(totals.cases), _num(totals.contributors), str(totals.suppressed)]
    if previous:
        header += ["previous period", "trend"]
        row += [_num(totals.previous), _trend(totals.trend)]
    _table(doc, header, [row])


def _cell_row(cell: Cell) -> list[str]:
    if cell.suppressed:
        return [cell.value, SUPPRESSED, _DASH, _DASH, _DASH, _DASH, _DASH]
    return [
        cell.value,
        _num(cell.count),
        _num(cell.contributors),
        _pct(cell.share),
        _num(cell.previous),
        _signed(cell.change),
        _trend(cell.trend),
    ]


def _dimensions(doc: DocxDocument, digest: Digest) -> None:
    header = ["value", "cases", "contributors", "share", "previous", "change", "trend"]
    for dimension in Dimension:
        cells = digest.dimensions.get(dimension, [])
        doc.add_heading(f"{DIMENSION_LABELS[dimension].capitalize()} ({dimension.value})", 2)
        if not cells:
            doc.add_paragraph("No data.")
            continue
        _table(doc, header, [_cell_row(c) for c in cells])


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
        doc.add_heading(f"{DIMENSION_LABELS[dimension].capitalize()} ({dimension.value})", 3)
        _table(
            doc,
            ["value", "cases", "contributors"],
            [
                [c.value, SUPPRESSED, _DASH]
                if c.suppressed
                else [c.value, _num(c.count), _num(c.contributors)]
                for c in cells
            ],
        )
    for text in view.notes:
        doc.add_paragraph(text, style="List Bullet")


def _notes(doc: DocxDocument, digest: Digest) -> None:
    for text in digest.notes.text:
        doc.add_paragraph(text, style="List Bullet")
    if digest.notes.dead_letters:
        _table(
            doc,
            ["dead-letter reason", "records"],
            [[reason, str(n)] for reason, n in sorted(digest.notes.dead_letters.items())],
        )


def _new_document(digest: Digest, start_month: int) -> DocxDocument:
    """An empty document with fixed properties, dated the first of the period's last
    month (the same digest gives the same bytes)."""
    from docx import Document
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.left_margin = section.right_margin = Cm(2.2)
    doc.styles[_TABLE_STYLE].font.size = Pt(9)
    last = parse_period(digest.period, start_month=start_month).last
    props = doc.core_properties
    props.title = f"DIEF trend digest {digest.region.value} {digest.period}"
    props.subject = "Regional DIEF meeting: non-attributed diversion cases"
    props.author = props.last_modified_by = "DIEF Exchange"
    props.created = props.modified = datetime(last.year, last.month, 1, tzinfo=UTC)
    props.revision = 1
    props.comments = ""
    return doc


def render_digest_docx(digest: Digest, *, start_month: int = DEFAULT_CYCLE_START_MONTH) -> bytes:
    """A regional trend digest as a DOCX meeting paper (deterministic bytes)."""
    doc = _new_document(digest, start_month)
    region = digest.region
    doc.add_heading(
        f"DIEF trend digest: {REGION_NAMES[region]} ({region.value}), {digest.period}", 0
    )
    sub = doc.add_paragraph(
        f"For the regional DIEF meeting only. Cells with fewer than {digest.k} distinct "
        "contributors are shown as suppressed. Contributors are never listed."
    )
    sub.runs[0].italic = True
    numbers = iter(_ROMAN)
    doc.add_heading(f"{next(numbers)}. Totals", 1)
    _totals_table(doc, digest.totals, previous=True)
    doc.add_heading(f"{next(numbers)}. Dimensions", 1)
    _dimensions(doc, digest)
    doc.add_heading(f"{next(numbers)}. Risk-indicator checklist", 1)
    if digest.checklist:
        header = ["rank", "id", "question", "cases", "prevalence", "trend"]
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

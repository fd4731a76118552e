"""The CSP summary as a DOCX working paper (python-docx), with two charts (matplotlib).

Layout of a CSP working paper: the Treaty and meeting on top, a title, a "Summary" of the
narrative, numbered sections of tables (regions, patterns, checklist, the global table by
dimension, the regional tables) and a methodology annex. A suppressed cell reads
"suppressed" with dashes beside it, never a number. The file is deterministic: fixed
document properties and fixed ZIP timestamps, so the same summary gives the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dief.periods import Month
from dief.render._docx_layout import add_link, grid_table, new_paper, value_text
from dief.secretariat import DIMENSION_LABELS, label, percent
from dief.vocab import REGION_NAMES, Dimension
from dief.wire import ChecklistEntry, CspSummary, RegionTable, Totals, Trend

if TYPE_CHECKING:
    from collections.abc import Sequence

    from docx.document import Document as DocxDocument

__all__ = ["annex_paragraph", "paper_date", "prose", "render_summary_docx", "summary_symbol"]

_DASH = "\u2013"
#: A suppressed cell in a table (GSS table symbols: "[c]" confidential), with a legend.
SUPPRESSED = "[c]"
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")


def _num(value: int | None) -> str:
    return _DASH if value is None else str(value)


def _pct(value: float | None) -> str:
    return _DASH if value is None else percent(value)


def _trend(value: Trend | None) -> str:
    return value.value.capitalize() if value is not None else _DASH


def _table(doc: DocxDocument, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table with a column grid from its content and its header repeated on each page."""
    grid_table(doc, header, rows)


def _dimension_value(dimension: Dimension, value: str, titles: dict[str, str]) -> str:
    """A cell's value as a reader reads it: a risk indicator by its title and id, any
    other value by its vocabulary label."""
    if dimension is Dimension.RISK_INDICATOR:
        title = titles.get(value)
        return f"{title} ({value})" if title else value
    return value_text(value)


_CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
_DIMENSIONS = {d.value: d for d in Dimension}


def prose(text: str) -> str:
    """*text* with every dimension or vocabulary code in it (``transfer_stage``,
    ``small_arms``) replaced by its words; other names (document fields) stay."""

    def words(match: re.Match[str]) -> str:
        code = match.group(0)
        if code in _DIMENSIONS:
            return DIMENSION_LABELS[_DIMENSIONS[code]]
        text = label(code)
        return code if text == code.replace("_", " ") else text

    return _CODE.sub(words, text)


def annex_paragraph(doc: DocxDocument, name: str) -> None:
    """The sentence naming the paper's data annex, linked to the file beside it."""
    para = doc.add_paragraph("Data annex: every cell of this paper, with its code, is in ")
    add_link(para, name, name)
    para.add_run(
        " beside this file (UTF-8, one row per cell; a suppressed cell has its row, "
        "without figures)."
    )


def summary_symbol(summary: CspSummary) -> str:
    """The working paper's symbol: ``ATT/CSP12/DIEF/WP.<issue>`` (docs/documents.md)."""
    return f"ATT/{summary.cycle}/DIEF/WP.{summary.issue}"


def paper_date(last_month: str, issued_at: str | None = None) -> datetime:
    """The date a paper carries: the day it was signed (*issued_at*), else the first day
    after its period (*last_month*, ``YYYY-MM``), the earliest it can be issued."""
    if issued_at:
        day = datetime.fromisoformat(issued_at)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    after = Month.parse(last_month).next()
    return datetime(after.year, after.month, 1, tzinfo=UTC)


def long_date(day: datetime) -> str:
    """``5 December 2026``."""
    return f"{day.day} {day:%B %Y}"


def _region_count(table: RegionTable, dimension: Dimension, value: str) -> str:
    for cell in table.dimensions.get(dimension, []):
        if cell.value == value:
            return SUPPRESSED if cell.suppressed else _num(cell.count)
    return "0"  # not a cell: no case (zero cells are never listed, and known to be zero)


def _totals_row(name: str, totals: Totals) -> list[str]:
    if totals.withheld or totals.cases is None:
        return [name, SUPPRESSED, _DASH, str(totals.suppressed), _DASH]
    return [
        name,
        str(totals.cases),
        _num(totals.contributors),
        str(totals.suppressed),
        _trend(totals.trend),
    ]


def _dimension_tables(doc: DocxDocument, summary: CspSummary, level: int) -> None:
    """One table per dimension: every value, all regions together, then each region."""
    regions = list(summary.regions.items())
    header = ["Value", "Cases", "Contributors", "Share", "Trend"] + [r.value for r, _ in regions]
    # indicators by their id alone: ten columns leave the value column narrow, and
    # section III gives each indicator's question beside its id
    titles: dict[str, str] = {}
    for dimension in Dimension:
        cells = summary.global_.dimensions.get(dimension, [])
        doc.add_heading(DIMENSION_LABELS[dimension].capitalize(), level)
        if cells and dimension is Dimension.RISK_INDICATOR:
            doc.add_paragraph("Each indicator's question is in section III, beside its id.")
        if not cells:
            doc.add_paragraph("No data.")
            continue
        rows: list[list[str]] = []
        for cell in cells:
            shown = _dimension_value(dimension, cell.value, titles)
            if cell.suppressed:
                head = [shown, SUPPRESSED, _DASH, _DASH, _DASH]
            else:
                head = [
                    shown,
                    _num(cell.count),
                    _num(cell.contributors),
                    _pct(cell.share),
                    _trend(cell.trend),
                ]
            rows.append(head + [_region_count(t, dimension, cell.value) for _, t in regions])
        _table(doc, header, rows)


def _checklist_rows(entries: Sequence[ChecklistEntry]) -> list[list[str]]:
    rows: list[list[str]] = []
    for rank, entry in enumerate(entries, start=1):
        if entry.suppressed or entry.count is None:
            rows.append([_DASH, entry.id, entry.question, SUPPRESSED, _DASH, _DASH])
        else:
            rows.append(
                [
                    str(rank),
                    entry.id,
                    entry.question,
                    str(entry.count),
                    _pct(entry.prevalence),
                    _trend(entry.trend),
                ]
            )
    return rows


def _charts(summary: CspSummary) -> list[tuple[str, bytes]]:
    """(caption, PNG) of the regions' cases and the most prevalent indicators."""
    from matplotlib.figure import Figure  # noqa: PLC0415  matplotlib takes a while to import: loaded on use

    out: list[tuple[str, bytes]] = []
    regions = [(r.value, t.totals.cases) for r, t in summary.regions.items()]
    shown = [(name, n) for name, n in regions if n is not None]
    if shown:
        fig = Figure(figsize=(6.4, 2.4), dpi=150)
        ax = fig.add_subplot()
        names = [name for name, _ in reversed(shown)]
        ax.barh(names, [n for _, n in reversed(shown)], color="#0072B2")
        for y, (_, n) in enumerate(reversed(shown)):
            ax.text(n, y, f" {n}", va="center", fontsize=8)
        ax.set_xlabel("cases")
        ax.spines[["top", "right"]].set_visible(False)
        hidden = [name for name, n in regions if n is None]
        if hidden:
            ax.set_title("Withheld: " + ", ".join(hidden), fontsize=8, loc="left")
        fig.tight_layout()
        out.append((f"Cases by region, {summary.cycle}", _png(fig)))
    entries = [e for e in summary.checklist if not e.suppressed and e.prevalence is not None][:10]
    if entries:
        fig = Figure(figsize=(6.4, 3.0), dpi=150)
        ax = fig.add_subplot()
        ax.barh(
            [e.id for e in reversed(entries)],
            [(e.prevalence or 0.0) * 100 for e in reversed(entries)],
            color=[
                "#b4441a" if e.trend in {Trend.RISING, Trend.NEW} else "#0072B2"
                for e in reversed(entries)
            ],
        )
        ax.set_xlabel("share of cases citing the indicator (%)")
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        out.append(
            (f"Most prevalent risk indicators, {summary.cycle} (rising or new in red)", _png(fig))
        )
    return out


def _png(fig: object) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})  # type: ignore[attr-defined]
    return buffer.getvalue()


def _front(doc: DocxDocument, summary: CspSummary) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH  # noqa: PLC0415  python-docx loaded on use (only DOCX papers need it)

    dated = long_date(paper_date(summary.to, summary.issued_at))
    marker = doc.add_paragraph(
        f"{summary_symbol(summary)}\n{dated}\nOriginal: English"
        + ("" if summary.signature else "\nDraft: not signed yet")
    )
    marker.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for line in (
        "Arms Trade Treaty",
        f"Conference of States Parties, {summary.cycle} cycle",
        "Diversion Information Exchange Forum (DIEF)",
    ):
        para = doc.add_paragraph(line)
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_heading(
        f"Diversion cases shared through the DIEF, {summary.cycle} "
        f"({summary.from_} to {summary.to})",
        0,
    )
    sub = doc.add_paragraph(
        "Working paper: a non-attributed summary prepared from the DIEF case exchange. "
        "No State is named as the source of any case, and no cell with fewer than "
        f"{summary.k} distinct contributors is published. In the tables, {SUPPRESSED} marks "
        f"a suppressed cell and {_DASH} a value that does not apply."
    )
    sub.runs[0].italic = True
    annex_paragraph(doc, f"{summary.cycle}.csv")


def _annex(doc: DocxDocument, summary: CspSummary) -> None:
    method = summary.methodology
    doc.add_page_break()  # type: ignore[no-untyped-call]
    doc.add_heading("Annex: Methodology", 1)
    doc.add_paragraph(
        f"k = {method.k}: {method.suppressed} cells are suppressed ({method.primary} "
        f"primary, {method.secondary} secondary). TLP:RED cases are excluded."
    )
    for rule in method.rules:
        doc.add_paragraph(prose(rule), style="List Number")
    if method.trend_test is not None:
        test = method.trend_test
        doc.add_paragraph(
            f"Trend test: {test.name}; statistic {test.statistic}; |z| >= {test.z} "
            f"(two-sided, alpha = {test.alpha}); stable below {test.min_count} cases."
        )
    doc.add_paragraph(
        "Signature: "
        + (
            "the JSON summary carries the Secretariat's signature."
            if summary.signature
            else "not signed yet."
        )
    )


def _new_document(summary: CspSummary) -> DocxDocument:
    """An empty A4 paper with its symbol and date in the header, page numbers in the
    footer and fixed document properties (dated as the paper: the same summary gives the
    same bytes)."""
    stamp = paper_date(summary.to, summary.issued_at)
    return new_paper(
        symbol=summary_symbol(summary),
        dated=long_date(stamp),
        title=f"DIEF summary {summary.cycle}",
        subject="Non-attributed diversion cases shared through the DIEF",
        stamp=stamp,
    )


def _pictures(doc: DocxDocument, charts: Sequence[tuple[str, bytes]]) -> None:
    """Each (caption, PNG) chart, 15 cm wide, with its caption below."""
    from docx.shared import Cm  # noqa: PLC0415  python-docx loaded on use (only DOCX papers need it)

    for caption, png in charts:
        doc.add_picture(io.BytesIO(png), width=Cm(15))
        doc.add_paragraph(caption, style="Caption")


def _regions_section(
    doc: DocxDocument, summary: CspSummary, number: str, charts: Sequence[tuple[str, bytes]]
) -> None:
    """Section *number*: each region's totals, then all regions', then *charts*."""
    doc.add_heading(f"{number}. Cases by region", 1)
    _table(
        doc,
        ["Region", "Cases", "Contributors (at least)", "Suppressed cells", "Trend"],
        [
            _totals_row(f"{REGION_NAMES[r]} ({r.value})", t.totals)
            for r, t in summary.regions.items()
        ]
        + [_totals_row("All regions", summary.global_.totals)],
    )
    _pictures(doc, charts)


def _patterns_section(doc: DocxDocument, summary: CspSummary, number: str) -> None:
    """Section *number*: the values rising in two or more regions."""
    doc.add_heading(f"{number}. Patterns across regions", 1)
    if summary.patterns:
        _table(
            doc,
            ["Dimension", "Value", "Rising in", "Compared with"],
            [
                [
                    DIMENSION_LABELS[p.dimension].capitalize(),
                    value_text(p.value),
                    ", ".join(r.value for r in p.regions),
                    p.previous_cycle or _DASH,
                ]
                for p in summary.patterns
            ],
        )
    else:
        doc.add_paragraph("No value is rising in two or more regions.")


def _checklist_section(
    doc: DocxDocument, summary: CspSummary, number: str, charts: Sequence[tuple[str, bytes]]
) -> None:
    """Section *number*: the global risk-indicator checklist, then *charts*."""
    doc.add_heading(f"{number}. Global risk-indicator checklist", 1)
    if summary.checklist:
        _table(
            doc,
            ["Rank", "Indicator", "Question", "Cases", "Prevalence", "Trend"],
            _checklist_rows(summary.checklist),
        )
    else:
        doc.add_paragraph("No risk indicator was cited.")
    _pictures(doc, charts)


def _dimensions_section(doc: DocxDocument, summary: CspSummary, number: str) -> None:
    """Section *number*: one table per dimension, all regions together and each region."""
    doc.add_heading(f"{number}. Cases by dimension, all regions and each region", 1)
    doc.add_paragraph(
        "Cases, distinct contributors (at least), share of all cases and trend against the "
        "previous cycle for all regions together, then the cases of each region "
        "(AFR, APG, EEG, GRULAC, WEOG as in section I). "
        f"{SUPPRESSED} marks a suppressed (protected) cell; 0 means no case."
    )
    _dimension_tables(doc, summary, 2)


def render_summary_docx(summary: CspSummary) -> bytes:
    """The CSP summary as a DOCX working paper (deterministic bytes)."""
    doc = _new_document(summary)
    _front(doc, summary)
    doc.add_heading("Summary", 1)
    for paragraph in summary.narrative:
        doc.add_paragraph(paragraph)
    charts = _charts(summary)
    sections = iter(_ROMAN)
    _regions_section(doc, summary, next(sections), charts[:1])
    _patterns_section(doc, summary, next(sections))
    _checklist_section(doc, summary, next(sections), charts[1:])
    _dimensions_section(doc, summary, next(sections))
    _annex(doc, summary)

    raw = io.BytesIO()
    doc.save(raw)
    return _fixed_zip(raw.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same archive with fixed timestamps (python-docx stamps the current time)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()

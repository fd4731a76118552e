"""The region's meeting pack: a digest as a DOCX meeting paper in English, French or Spanish
(headings, labels and vocabulary from the portal's catalogues), and as PDF where LibreOffice
is installed (``soffice --headless --convert-to pdf``).

The pack covers the digest "since the last meeting": a half-cycle (``CSP12-H1``, the first
six months of the cycle; ``CSP12-H2`` the last six), since the DIEF meets about twice a year
(intersessional meetings early in the year, the CSP in August). :func:`pack_period` takes
the current half, or the most recent half with cases; a store without halves falls back on
the latest cycle to date. The paper names its period in words in its language ("since the
last meeting: September 2025 - February 2026", :func:`pack_period_words`).
"""

from __future__ import annotations

import asyncio
import io
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from dief.exceptions import DiefError
from dief.labels import period_span, value_label
from dief.periods import CspCycle, HalfCycle, parse_period
from dief.portal._i18n import N_, translator
from dief.vocab import TransferStage

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from docx.document import Document as DocxDocument

    from dief.wire import Cell, Digest

__all__ = [
    "DIMENSION_LABELS",
    "PACK_LANGUAGES",
    "TREND_LABELS",
    "PdfUnavailableError",
    "pack_period",
    "pack_period_words",
    "pdf_available",
    "render_meeting_pack",
    "to_pdf",
]

PACK_LANGUAGES = ("en", "fr", "es")

TREND_LABELS = {
    "new": N_("new"),
    "rising": N_("rising"),
    "falling": N_("falling"),
    "stable": N_("stable"),
}
DIMENSION_LABELS = {
    "kind": N_("Kind of report"),
    "confidence": N_("Confidence"),
    "item_category": N_("Item categories"),
    "item_subcategory": N_("Item subcategories"),
    "transfer_stage": N_("Transfer stages"),
    "transfer_type": N_("Transfer types"),
    "method": N_("Methods"),
    "transport_mode": N_("Transport modes"),
    "maritime": N_("Maritime features"),
    "end_user_type": N_("Actual end users"),
    "actor_role": N_("Actors involved"),
    "unregistered_actor": N_("Actors not registered for their role"),
    "risk_indicator": N_("Risk indicators"),
    "detection_source": N_("Detection sources"),
    "verification": N_("Verifications"),
    "verification_outcome": N_("Verification outcomes"),
    "reassessment": N_("Reassessments"),
    "action_taken": N_("Actions taken"),
}
_SOFFICE_SECONDS = 120


class PdfUnavailableError(DiefError):
    """The meeting pack cannot be made a PDF here: LibreOffice is not installed, or failed."""

    code = "pdf_unavailable"


def pack_period(periods: Iterable[str], *, start_month: int) -> str | None:
    """The period the pack covers, "since the last meeting": the latest half-cycle among
    *periods* (the periods with cases: the current half, or the most recent one with cases),
    else the latest CSP cycle (cycle to date), else the latest period of any kind; None when
    there is none."""
    parsed = []
    for text in periods:
        try:
            parsed.append((text, parse_period(text, start_month=start_month)))
        except ValueError:
            continue
    halves = [((p.number, p.half), t) for t, p in parsed if isinstance(p, HalfCycle)]
    if halves:
        return max(halves)[1]
    cycles = [(p.number, t) for t, p in parsed if isinstance(p, CspCycle)]
    if cycles:
        return max(cycles)[1]
    return max((t for t, _ in parsed), default=None)


def pack_period_words(period: str, language: str, *, start_month: int) -> str:
    """*period* in words in *language*: for a half-cycle "Since the last meeting: September
    2025 - February 2026" (with an en dash), for another period "Period: ..." ."""
    _ = translator(language).gettext
    span = period_span(period, language, start_month=start_month)
    if isinstance(parse_period(period, start_month=start_month), HalfCycle):
        return _("Since the last meeting: %(span)s") % {"span": span}
    return _("Period: %(span)s") % {"span": span}


def _dim(key: object) -> str:
    return str(getattr(key, "value", key))


def _count(cell: Cell, _: Callable[[str], str]) -> str:
    return _("suppressed") if cell.suppressed or cell.count is None else str(cell.count)


def _table(doc: DocxDocument, header: list[str], rows: list[list[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text


def _headline(doc: DocxDocument, digest: Digest, _: Callable[[str], str]) -> None:
    t = digest.totals
    withheld = _("withheld")
    rows = [
        [_("Cases"), str(t.cases) if t.cases is not None else withheld],
        [_("Contributing States"), str(t.contributors) if t.contributors is not None else withheld],
        [_("Previous period"), str(t.previous) if t.previous is not None else "—"],
        [_("Suppressed cells"), str(digest.notes.suppressed_cells)],
    ]
    _table(doc, [_("Headline numbers"), ""], rows)


def _changed(doc: DocxDocument, digest: Digest, _: Callable[[str], str]) -> None:
    moving = sorted(
        (
            (dim, cell)
            for dim, cells in digest.dimensions.items()
            for cell in cells
            if cell.trend is not None and cell.trend.value in {"new", "rising", "falling"}
        ),
        key=lambda pair: -abs(pair[1].change or 0),
    )[:12]
    if not moving:
        doc.add_paragraph(_("No significant change from the previous period."))
        return
    for dim, cell in moving:
        label = _(DIMENSION_LABELS.get(_dim(dim), _dim(dim)))
        trend = _(TREND_LABELS.get(cell.trend.value, cell.trend.value)) if cell.trend else ""
        change = f" ({cell.change:+d})" if cell.change is not None else ""
        doc.add_paragraph(
            f"{label}: {_(value_label(cell.value))} — {trend}{change}", style="List Bullet"
        )


def _dimensions(doc: DocxDocument, digest: Digest, _: Callable[[str], str]) -> None:
    header = [_("Value"), _("Cases"), _("Previous"), _("Trend")]
    for dim, cells in digest.dimensions.items():
        if not cells:
            continue
        doc.add_heading(_(DIMENSION_LABELS.get(_dim(dim), _dim(dim))), 2)
        rows = [
            [
                _(value_label(c.value)),
                _count(c, _),
                str(c.previous) if c.previous is not None else "—",
                _(TREND_LABELS.get(c.trend.value, c.trend.value)) if c.trend else "",
            ]
            for c in cells
        ]
        _table(doc, header, rows)


def _checklist(doc: DocxDocument, digest: Digest, _: Callable[[str], str]) -> None:
    if not digest.checklist:
        doc.add_paragraph(_("No indicator was cited in this period."))
        return
    header = ["#", _("Indicator"), _("Question"), _("Cases"), _("Trend")]
    rows = []
    for rank, e in enumerate(digest.checklist, 1):
        count = _("suppressed") if e.suppressed or e.count is None else str(e.count)
        if e.prevalence is not None and not e.suppressed:
            count += f" ({round(e.prevalence * 100)}%)"
        trend = _(TREND_LABELS.get(e.trend.value, e.trend.value)) if e.trend else ""
        rows.append([str(rank), e.id, e.question, count, trend])
    _table(doc, header, rows)


def _lessons(doc: DocxDocument, digest: Digest, _: Callable[[str], str]) -> None:
    if digest.notes.lessons_omitted:
        doc.add_paragraph(
            _(
                "Lessons are opened only where the region's key is: this portal was started without it."  # noqa: E501 - one gettext literal
            )
        )
    if not digest.lessons:
        doc.add_paragraph(_("No lesson shared for this period."))
        return
    for stage in [*(s.value for s in TransferStage), None]:
        found = [le for le in digest.lessons if (le.stage.value if le.stage else None) == stage]
        if not found:
            continue
        doc.add_heading(_(value_label(stage)) if stage else _("Stage not shown"), 2)
        for le in found:
            doc.add_paragraph(f"{le.text} ({le.tlp.value})", style="List Bullet")


def _suppression(doc: DocxDocument, digest: Digest, _: Callable[[str], str]) -> None:
    text = _(
        "Every State is both a contributor and a reader, so a number is published only when at least %(k)s States contributed to it. Other numbers are hidden as well, so that the hidden ones cannot be worked out from totals."  # noqa: E501 - one gettext literal
    )
    doc.add_paragraph(text % {"k": digest.k})
    notes = digest.notes
    doc.add_paragraph(
        f"{_('Hidden for too few contributors:')} {notes.primary_suppressed}", style="List Bullet"
    )
    doc.add_paragraph(
        f"{_('Hidden to protect another number:')} {notes.secondary_suppressed}",
        style="List Bullet",
    )


def render_meeting_pack(digest: Digest, language: str, *, start_month: int) -> bytes:
    """*digest* as a DOCX meeting paper in *language* (``en``, ``fr`` or ``es``)."""
    import docx  # noqa: PLC0415  python-docx (lxml) loaded on the first meeting pack, not by the portal

    if language not in PACK_LANGUAGES:
        raise ValueError(f"no meeting pack in {language!r}")
    _ = translator(language).gettext
    doc = docx.Document()
    doc.core_properties.title = f"DIEF {digest.region.value} {digest.period}"
    doc.core_properties.language = language
    region = _(value_label(digest.region.value))
    doc.add_heading(f"{_('Meeting pack')} — {region}, {digest.period}", 0)
    doc.add_paragraph(pack_period_words(digest.period, language, start_month=start_month))
    intro = doc.add_paragraph(
        _("For the regional DIEF meeting only. Contributors are never listed.")
    )
    intro.runs[0].italic = True
    sections: list[tuple[str, Callable[[DocxDocument, Digest, Callable[[str], str]], None]]] = [
        (_("Headline numbers"), _headline),
        (_("What changed"), _changed),
        (_("By dimension"), _dimensions),
        (_("Risk-indicator checklist"), _checklist),
        (_("Lessons by stage"), _lessons),
        (_("Why some numbers are hidden"), _suppression),
    ]
    for number, (title, write) in enumerate(sections, 1):
        doc.add_heading(f"{number}. {title}", 1)
        write(doc, digest, _)
    raw = io.BytesIO()
    doc.save(raw)
    return raw.getvalue()


def pdf_available() -> bool:
    return shutil.which("soffice") is not None


async def to_pdf(docx_bytes: bytes) -> bytes:
    """The DOCX converted by LibreOffice (``soffice --headless --convert-to pdf``).

    :raises PdfUnavailableError: LibreOffice is not installed, failed or took too long.
    """
    soffice = shutil.which("soffice")
    if soffice is None:
        raise PdfUnavailableError("LibreOffice (soffice) is not installed")
    with tempfile.TemporaryDirectory(prefix="dief-pack-") as folder:
        work = Path(folder)
        (work / "pack.docx").write_bytes(docx_bytes)
        proc = await asyncio.create_subprocess_exec(
            soffice, f"-env:UserInstallation=file://{work / 'profile'}", "--headless",
            "--convert-to", "pdf", "--outdir", str(work), str(work / "pack.docx"),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            await asyncio.wait_for(proc.wait(), _SOFFICE_SECONDS)
        except TimeoutError as exc:
            proc.kill()
            await proc.wait()
            raise PdfUnavailableError("LibreOffice took too long to convert the pack") from exc
        pdf = work / "pack.pdf"
        if proc.returncode != 0 or not pdf.is_file():
            raise PdfUnavailableError("LibreOffice could not convert the pack")
        return pdf.read_bytes()

"""Page setup shared by the DOCX papers: A4, margins, no hyphenation, a header with the
document symbol and date, page numbers, and tables with a real column grid.

Column widths come from the content (:func:`column_widths`): no column is narrower than
its longest word (so no word is broken), number columns get what their figures need and
the label columns share the rest of the text width. Every table has a fixed layout, a
``w:tblGrid`` whose ``w:gridCol`` widths sum to the text width, and its header row repeated
on every page (``w:tblHeader``). Values are shown by their vocabulary label
(:func:`value_text`, from the one label source, :mod:`dief.labels`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dief.labels import value_label

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from docx.document import Document as DocxDocument
    from docx.oxml.table import CT_Tc
    from docx.oxml.xmlchemy import BaseOxmlElement
    from docx.table import Table
    from docx.text.paragraph import Paragraph

__all__ = [
    "A4_HEIGHT",
    "A4_WIDTH",
    "FONT",
    "MARGIN",
    "TABLE_STYLE",
    "TEXT_WIDTH",
    "add_link",
    "column_widths",
    "grid_table",
    "new_paper",
    "text_width",
    "value_text",
]

#: A4 in twips (1/20 pt): 210 x 297 mm.
A4_WIDTH, A4_HEIGHT = 11906, 16838
#: Left and right margins (2.5 cm) and top and bottom (2 cm), in twips.
MARGIN, MARGIN_TOP = 1418, 1134
#: What a table may span.
TEXT_WIDTH = A4_WIDTH - 2 * MARGIN
TABLE_STYLE = "Table Grid"
#: A cell's left and right margin (``w:tblCellMar``), and its padding in the widths.
_CELL_MARGIN = 72
_PAD = 2 * _CELL_MARGIN + 40
#: Texts longer than this (twips) wrap: a column is never planned wider for them.
_LONG_TEXT = 6000
_NUMBER = re.compile(r"^[\s\d.,%+\u2013-]*$")
_FONT_PT = 9
#: The papers' one font.
FONT = "Arial"


def value_text(value: str) -> str:
    """A vocabulary code as its label (``small_arms`` → "Small arms")."""
    return value_label(value)


def _numeric(texts: Sequence[str]) -> bool:
    """Whether a column's body holds figures only (or the suppressed mark)."""
    return all(_NUMBER.match(t) or t == "[c]" for t in texts)


def _words(text: str) -> list[str]:
    return text.split() or [""]


#: Arial Bold advance widths (1/1000 em) of the characters that differ from the default
#: (lower case 556, upper case 722); Word has Arial and LibreOffice its metric twin.
_ARIAL_BOLD = {
    **dict.fromkeys("ijl", 278),
    **dict.fromkeys("ft", 333),
    "r": 389,
    **dict.fromkeys("bdghnopqu", 611),
    "m": 889,
    "w": 778,
    **dict.fromkeys("IJ", 278),
    **dict.fromkeys("EFLPTZ", 611),
    **dict.fromkeys("GOQ", 778),
    "M": 833,
    "W": 944,
    " ": 278,
    **dict.fromkeys(".,:;", 278),
    **dict.fromkeys("()[]-/", 333),
    "%": 889,
    "\u2013": 556,
}


def text_width(text: str) -> int:
    """*text*'s width in twips in the 9 pt bold table font (Arial Bold), with 5 % to
    spare."""
    em = sum(_ARIAL_BOLD.get(c, 722 if c.isupper() else 556) for c in text)
    return em * _FONT_PT * 20 * 105 // 100_000


def column_widths(
    header: Sequence[str], rows: Sequence[Sequence[str]], total: int = TEXT_WIDTH
) -> list[int]:
    """Widths in twips summing to *total*: each column at least its longest word (no word
    is broken), then each grows towards its longest text (in proportion to what it lacks
    when not all fit); what is left goes to the label column, or the one of longest texts.

    When even the longest words do not fit, every column gets its share of *total* by its
    longest word (the table still spans the text width)."""
    columns = list(zip(header, *rows, strict=True)) if rows else [(h,) for h in header]
    least = [max(text_width(w) for t in column for w in _words(t)) + _PAD for column in columns]
    wants = [
        max(least[i], min(max(text_width(t) for t in column), _LONG_TEXT) + _PAD)
        for i, column in enumerate(columns)
    ]
    if sum(least) >= total:
        return _scaled(least, total)
    widths = list(least)
    spare = total - sum(widths)
    gaps = [want - have for want, have in zip(wants, widths, strict=True)]
    need = sum(gaps)
    for i, gap in enumerate(gaps):
        widths[i] += gap if need <= spare else spare * gap // need
    spare = total - sum(widths)
    # the rest to the label column (the first), or to the column of the longest texts
    # (a checklist's questions) when that is longer
    texts = [i for i, column in enumerate(columns) if not _numeric(column[1:])]
    longest = max(texts or [0], key=lambda i: (wants[i], -i))
    wide = longest if wants[longest] > max(2 * wants[0], _LONG_TEXT // 2) else 0
    widths[wide] += spare
    return widths


def _scaled(least: Sequence[int], total: int) -> list[int]:
    widths = [w * total // sum(least) for w in least]
    widths[0] += total - sum(widths)
    return widths


def _element(tag: str, **attrs: str) -> BaseOxmlElement:
    from docx.oxml import OxmlElement  # noqa: PLC0415  python-docx loaded on use (only DOCX papers need it)
    from docx.oxml.ns import qn  # noqa: PLC0415  python-docx loaded on use (only DOCX papers need it)

    element: BaseOxmlElement = OxmlElement(tag)
    for name, value in attrs.items():
        element.set(qn(f"w:{name}"), value)
    return element


def grid_table(
    doc: DocxDocument,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    widths: Sequence[int] | None = None,
) -> Table:
    """A table of *header* and *rows* spanning the text width with a fixed column grid,
    its header row bold and repeated on every page, number columns right-aligned, rows
    not split across pages; then an empty paragraph."""
    from docx.enum.table import WD_TABLE_ALIGNMENT  # noqa: PLC0415  python-docx loaded on use (only DOCX papers need it)
    from docx.oxml.ns import qn  # noqa: PLC0415  python-docx loaded on use (only DOCX papers need it)
    from docx.shared import Twips  # noqa: PLC0415  python-docx loaded on use (only DOCX papers need it)

    sizes = list(widths) if widths is not None else column_widths(header, rows)
    table: Table = doc.add_table(rows=1 + len(rows), cols=len(header))  # all rows at once
    table.style = doc.styles[TABLE_STYLE]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False  # w:tblLayout fixed
    tbl = table._tbl  # noqa: SLF001  python-docx has no public handle on the table's XML (w:tblGrid)
    for col, width in zip(tbl.tblGrid.gridCol_lst, sizes, strict=True):
        col.w = Twips(width)
    tbl_pr = tbl.tblPr
    tbl_w = tbl_pr.find(qn("w:tblW"))  # the template's: after tblStyle, in schema order
    assert tbl_w is not None  # noqa: S101  narrows the type: python-docx's template has it
    tbl_w.set(qn("w:w"), str(sum(sizes)))
    tbl_w.set(qn("w:type"), "dxa")
    margins = _element("w:tblCellMar")
    for side in ("left", "right"):
        margins.append(_element(f"w:{side}", w=str(_CELL_MARGIN), type="dxa"))
    look = tbl_pr.find(qn("w:tblLook"))
    if look is not None:
        look.addprevious(margins)  # schema order: ... tblLayout, tblCellMar, tblLook
    else:
        tbl_pr.append(margins)
    numeric = [bool(rows) and _numeric([r[i] for r in rows]) for i in range(len(sizes))]
    for index, (tr, texts) in enumerate(zip(tbl.tr_lst, [header, *rows], strict=True)):
        tr_pr = tr.get_or_add_trPr()
        tr_pr.append(_element("w:cantSplit"))
        if index == 0:
            tr_pr.append(_element("w:tblHeader"))
        for i, (tc, text) in enumerate(zip(tr.tc_lst, texts, strict=True)):
            tc.width = Twips(sizes[i])
            _cell_text(tc, text, bold=index == 0, right=numeric[i] and index > 0)
    doc.add_paragraph()
    return table


def _cell_text(tc: CT_Tc, text: str, *, bold: bool, right: bool) -> None:
    """Write *text* into the cell's one paragraph (fast: straight into the XML)."""
    p = tc.p_lst[0]
    if right:
        p.get_or_add_pPr().append(_element("w:jc", val="right"))
    run = p.add_r()
    if bold:
        run.get_or_add_rPr().append(_element("w:b"))
    run.text = text


def new_paper(
    *, symbol: str, dated: str, title: str, subject: str, stamp: datetime
) -> DocxDocument:
    """An empty A4 document: margins, no hyphenation, 9 pt tables, the header
    (*symbol* left, *dated* right) and footer (page *n* of *m*), and fixed core properties
    (*title*, *subject*, author "ATT Secretariat", language English, dated *stamp*)."""
    from docx import Document  # noqa: PLC0415  python-docx loaded on use (only DOCX papers need it)
    from docx.shared import Pt, Twips  # noqa: PLC0415  python-docx loaded on use (only DOCX papers need it)

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Twips(A4_WIDTH), Twips(A4_HEIGHT)
    section.left_margin = section.right_margin = Twips(MARGIN)
    section.top_margin = section.bottom_margin = Twips(MARGIN_TOP)
    doc.styles[TABLE_STYLE].font.size = Pt(_FONT_PT)
    _arial(doc)
    _no_hyphenation(doc)
    _header_footer(doc, symbol, dated)
    props = doc.core_properties
    props.title = title
    props.subject = subject
    props.author = props.last_modified_by = "ATT Secretariat"
    props.language = "en-GB"
    props.created = props.modified = stamp
    props.revision = 1
    props.comments = ""
    return doc


def _arial(doc: DocxDocument) -> None:
    """Every style in Arial (the theme's fonts would differ between Word and LibreOffice,
    and the column widths are measured in Arial)."""
    from docx.oxml.ns import qn  # noqa: PLC0415  python-docx loaded on use (only DOCX papers need it)

    for fonts in doc.styles.element.iter(qn("w:rFonts")):
        for name in list(fonts.attrib):
            if name.endswith("Theme"):
                del fonts.attrib[name]
        for name in ("ascii", "hAnsi", "cs", "eastAsia"):
            fonts.set(qn(f"w:{name}"), FONT)


def _no_hyphenation(doc: DocxDocument) -> None:
    """``w:autoHyphenation`` off in the settings and ``w:suppressAutoHyphens`` on every
    paragraph by default (docDefaults), English as the proofing language."""
    from docx.oxml.ns import qn  # noqa: PLC0415  python-docx loaded on use (only DOCX papers need it)

    settings = doc.settings.element
    for old in settings.findall(qn("w:autoHyphenation")):
        settings.remove(old)
    tab_stop = settings.find(qn("w:defaultTabStop"))
    off = _element("w:autoHyphenation", val="0")
    if tab_stop is not None:
        tab_stop.addnext(off)  # schema order: defaultTabStop, autoHyphenation
    else:
        settings.insert(0, off)
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    assert defaults is not None  # noqa: S101  narrows the type: python-docx's template has them
    ppr_default = defaults.find(qn("w:pPrDefault"))
    if ppr_default is None:
        ppr_default = _element("w:pPrDefault")
        defaults.append(ppr_default)
    ppr = ppr_default.find(qn("w:pPr"))
    if ppr is None:
        ppr = _element("w:pPr")
        ppr_default.append(ppr)
    ppr.insert(0, _element("w:suppressAutoHyphens"))
    lang = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}")
    if lang is not None:
        lang.set(qn("w:val"), "en-GB")


def add_link(paragraph: Paragraph, text: str, target: str) -> None:
    """Append *text* to *paragraph* as a hyperlink to *target* (a path relative to the
    paper, such as its data annex ``CSP12.csv``), blue and underlined."""
    from docx.opc.constants import RELATIONSHIP_TYPE  # noqa: PLC0415  python-docx loaded on use (only DOCX papers need it)
    from docx.oxml.ns import qn  # noqa: PLC0415  python-docx loaded on use (only DOCX papers need it)

    rel = paragraph.part.relate_to(target, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = _element("w:hyperlink")
    link.set(qn("r:id"), rel)
    run = _element("w:r")
    props = _element("w:rPr")
    props.append(_element("w:color", val="0563C1"))
    props.append(_element("w:u", val="single"))
    run.append(props)
    shown = _element("w:t")
    shown.text = text
    run.append(shown)
    link.append(run)
    paragraph._p.append(link)  # noqa: SLF001  python-docx has no public API for hyperlinks: the paragraph's XML


def _field(paragraph: object, instruction: str, shown: str) -> None:
    """A complex field (``PAGE``, ``NUMPAGES``) showing *shown* until updated."""
    p = paragraph._p  # type: ignore[attr-defined]  # noqa: SLF001  python-docx has no public API for fields: the paragraph XML
    for part in (
        _element("w:fldChar", fldCharType="begin"),
        _instr(instruction),
        _element("w:fldChar", fldCharType="separate"),
    ):
        p.add_r().append(part)
    p.add_r().text = shown
    p.add_r().append(_element("w:fldChar", fldCharType="end"))


def _instr(instruction: str) -> BaseOxmlElement:
    element = _element("w:instrText")
    element.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    element.text = f" {instruction} "
    return element


def _header_footer(doc: DocxDocument, symbol: str, dated: str) -> None:
    """Header: the symbol, a right tab, the date. Footer: "Page n of m", centred."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT  # noqa: PLC0415  python-docx loaded on use (only DOCX papers need it)
    from docx.shared import Twips  # noqa: PLC0415  python-docx loaded on use (only DOCX papers need it)

    section = doc.sections[0]
    section.different_first_page_header_footer = True  # page 1 carries the symbol block
    head = section.header.paragraphs[0]
    tabs = head.paragraph_format.tab_stops
    for inherited in (4680, 9360):  # the Header style's centre and right tabs (Letter)
        tabs.add_tab_stop(Twips(inherited), WD_TAB_ALIGNMENT.CLEAR)
    tabs.add_tab_stop(Twips(TEXT_WIDTH), WD_TAB_ALIGNMENT.RIGHT)
    head.add_run(symbol).bold = True
    head.add_run("\t" + dated)
    for footer in (section.footer, section.first_page_footer):
        foot = footer.paragraphs[0]
        foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
        foot.add_run("Page ")
        _field(foot, "PAGE", "1")
        foot.add_run(" of ")
        _field(foot, "NUMPAGES", "1")

"""The papers a Secretariat files: DOCX working paper and meeting paper checked in their XML
(A4, column grid, repeated header rows, no hyphenation, labels not codes, page numbers,
symbol and date), the CSV data annex, the output folder's index.html, and the progress of
writing the outputs. One test, marked slow, converts the summary to PDF with LibreOffice."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING

import docx
import pytest
from lxml import etree

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.labels import vocabularies
from dief.render import (
    ANNEX_COLUMNS,
    OutputIndex,
    render_digest_docx,
    render_index,
    render_summary_docx,
    write_outputs,
)
from dief.render._docx_layout import A4_HEIGHT, A4_WIDTH, TEXT_WIDTH, column_widths, text_width
from dief.vocab import Dimension
from dief.wire import CspSummary, Digest
from tests.unit.reporting_support import History

if TYPE_CHECKING:
    from pathlib import Path

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
NS = {"w": W[1:-1]}
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REGIONS = ("AFR", "APG", "EEG", "WEOG")
MONTHS = ("2024-10", "2025-01", "2025-04", "2025-07", "2025-10", "2026-01", "2026-04", "2026-07")
#: Pages the CSP12 paper of this data may take (measured: 6 with LibreOffice 7.4).
PAGE_CEILING = 8


@dataclass(frozen=True)
class Folder:
    index: OutputIndex
    progress: list[tuple[int, int]]

    @property
    def summary(self) -> CspSummary:
        path = self.index.out_dir / "summary" / "CSP12.json"
        return CspSummary.model_validate_json(path.read_text(encoding="utf-8"))

    def digest(self, region: str, period: str) -> Digest:
        path = self.index.out_dir / "digests" / region / f"{period}.json"
        return Digest.model_validate_json(path.read_text(encoding="utf-8"))


async def _write(out: Path, progress: list[tuple[int, int]]) -> OutputIndex:
    async with CaseStore(sqlite_url(out.parent / "cases.db")) as store:
        rng = random.Random(3)
        for region in REGIONS:
            await store.apply_batch(region, History(region, rng, MONTHS, nodes=6).batch(160))
        return await write_outputs(
            out,
            store,
            regions=list(REGIONS),
            k_csp=4,
            catalogue=load_catalogue(),
            digest_docx=True,
            progress=lambda done, total: progress.append((done, total)),
        )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Folder:
    out = tmp_path_factory.mktemp("papers") / "out"
    progress: list[tuple[int, int]] = []
    index = asyncio.run(_write(out, progress))
    return Folder(index, progress)


def _part(data: bytes, name: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return etree.fromstring(archive.read(name))


def _parts(data: bytes, prefix: str) -> list[etree._Element]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if n.startswith(prefix) and n.endswith(".xml")]
        return [etree.fromstring(archive.read(n)) for n in names]


def _papers(folder: Folder) -> dict[str, bytes]:
    return {
        "summary": (folder.index.out_dir / "summary" / "CSP12.docx").read_bytes(),
        "digest": (folder.index.out_dir / "digests" / "AFR" / "CSP12.docx").read_bytes(),
    }


# -- the layout, in the XML ------------------------------------------------------------------


@pytest.mark.parametrize("paper", ["summary", "digest"])
def test_paper_is_a4_with_no_hyphenation(folder: Folder, paper: str) -> None:
    data = _papers(folder)[paper]
    body = _part(data, "word/document.xml")
    size = body.find(".//w:sectPr/w:pgSz", NS)
    assert size is not None
    assert (int(size.get(f"{W}w")), int(size.get(f"{W}h"))) == (A4_WIDTH, A4_HEIGHT)
    margins = body.find(".//w:sectPr/w:pgMar", NS)
    assert margins is not None
    left, right = int(margins.get(f"{W}left")), int(margins.get(f"{W}right"))
    assert A4_WIDTH - left - right == TEXT_WIDTH
    settings = _part(data, "word/settings.xml")
    hyphenation = settings.find("w:autoHyphenation", NS)
    assert hyphenation is not None
    assert hyphenation.get(f"{W}val") == "0"
    styles = _part(data, "word/styles.xml")
    assert styles.find("w:docDefaults/w:pPrDefault/w:pPr/w:suppressAutoHyphens", NS) is not None


@pytest.mark.parametrize("paper", ["summary", "digest"])
def test_every_table_has_a_fixed_grid_of_unequal_widths_and_repeats_its_header(
    folder: Folder, paper: str
) -> None:
    body = _part(_papers(folder)[paper], "word/document.xml")
    tables = body.findall(".//w:tbl", NS)
    assert len(tables) > 5
    for table in tables:
        layout = table.find("w:tblPr/w:tblLayout", NS)
        assert layout is not None
        assert layout.get(f"{W}type") == "fixed"
        widths = [int(c.get(f"{W}w")) for c in table.findall("w:tblGrid/w:gridCol", NS)]
        assert sum(widths) == TEXT_WIDTH
        if len(widths) > 2:
            assert len(set(widths)) > 1, "all columns the same width"
        rows = table.findall("w:tr", NS)
        assert rows[0].find("w:trPr/w:tblHeader", NS) is not None
        assert all(r.find("w:trPr/w:tblHeader", NS) is None for r in rows[1:])
        for row in rows:
            cells = row.findall("w:tc", NS)
            assert [int(c.find("w:tcPr/w:tcW", NS).get(f"{W}w")) for c in cells] == widths


@pytest.mark.parametrize("paper", ["summary", "digest"])
def test_no_word_is_wider_than_its_column(folder: Folder, paper: str) -> None:
    document = docx.Document(io.BytesIO(_papers(folder)[paper]))
    for table in document.tables:
        widths = [c.w.twips for c in table._tbl.tblGrid.gridCol_lst]  # type: ignore[union-attr]  # every grid column of the papers has a width (None would fail here)
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=True):
                for word in cell.text.split():
                    assert text_width(word) < width, (word, width)


def test_the_checklist_question_column_is_the_widest() -> None:
    header = ["Rank", "Indicator", "Question", "Cases", "Prevalence", "Trend"]
    rows = [["1", "DOC-01", "Does the end-user certificate lack a standard element?", "40",
             "24%", "Rising"]] * 3  # fmt: skip
    widths = column_widths(header, rows)
    assert sum(widths) == TEXT_WIDTH
    assert max(widths) == widths[2]
    assert widths[2] > TEXT_WIDTH // 3
    assert all(w >= text_width(h) for w, h in zip(widths, header, strict=True))


def test_a_label_column_takes_what_the_figures_leave() -> None:
    header = ["Value", "Cases", "Contributors", "Share", "Trend", "AFR", "APG"]
    rows = [["Small arms", "12", "4", "20%", "Stable", "[c]", "7"]]
    widths = column_widths(header, rows)
    assert sum(widths) == TEXT_WIDTH
    assert widths[0] == max(widths)
    assert widths[1] < widths[2]  # "Cases" narrower than "Contributors"


def _texts(data: bytes) -> str:
    parts = _parts(data, "word/")
    return " ".join(t.text or "" for part in parts for t in part.iter(f"{W}t"))


@pytest.mark.parametrize("paper", ["summary", "digest"])
def test_values_are_shown_by_their_labels_never_their_codes(folder: Folder, paper: str) -> None:
    data = _papers(folder)[paper]
    text = _texts(data)
    document = docx.Document(io.BytesIO(data))
    cells = {c.text for t in document.tables for row in t.rows for c in row.cells}
    published = folder.summary.global_.dimensions[Dimension.ITEM_CATEGORY]
    assert any(c.value == "small_arms" for c in published)
    assert "Small arms" in cells
    codes = {d.value for d in Dimension} | {
        v.value for vocabulary in vocabularies() for v in vocabulary if "_" in v.value
    }
    found = set(re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", text))
    assert not found & codes
    assert "Stable" in cells or "Rising" in cells


def test_summary_header_footer_and_properties(folder: Folder) -> None:
    data = _papers(folder)["summary"]
    summary = folder.summary
    headers = " ".join("".join(h.itertext()) for h in _parts(data, "word/header"))
    assert f"ATT/CSP12/DIEF/WP.{summary.issue}" in headers
    assert "1 September 2026" in headers  # unsigned: the first day after the cycle
    footers = _parts(data, "word/footer")
    instructions = {i.text.strip() for f in footers for i in f.iter(f"{W}instrText")}
    assert {"PAGE", "NUMPAGES"} <= instructions
    body = _part(data, "word/document.xml")
    kinds = {r.get(f"{W}type") for r in body.iter(f"{W}footerReference")}
    assert {"default", "first"} <= kinds, "page numbers on every page, the first too"
    props = docx.Document(io.BytesIO(data)).core_properties
    assert props.author == "ATT Secretariat"
    assert props.language == "en-GB"
    assert props.title == "DIEF summary CSP12"
    paragraphs = [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]
    assert paragraphs[0].startswith(f"ATT/CSP12/DIEF/WP.{summary.issue}\n1 September 2026")
    assert any("CSP12.csv" in p for p in paragraphs), "the data annex is named"
    rels = _part(data, "word/_rels/document.xml.rels")
    links = {
        r.get("Id"): r.get("Target")
        for r in rels
        if r.get("Type", "").endswith("/hyperlink") and r.get("TargetMode") == "External"
    }
    used = {h.get(f"{{{NS_R}}}id") for h in body.iter(f"{W}hyperlink")}
    assert {links[i] for i in used} == {"CSP12.csv"}, "linked to the annex beside it"


def test_a_signed_summary_carries_its_signing_date(folder: Folder) -> None:
    summary = folder.summary.model_copy(update={"issue": 3, "issued_at": "2026-10-02T09:30:00Z"})
    data = render_summary_docx(summary)
    headers = " ".join("".join(h.itertext()) for h in _parts(data, "word/header"))
    assert "ATT/CSP12/DIEF/WP.3" in headers
    assert "2 October 2026" in headers


def test_digest_symbol_names_region_and_period(folder: Folder) -> None:
    cycle = render_digest_docx(folder.digest("AFR", "CSP12"))
    quarter = render_digest_docx(folder.digest("AFR", "2026-Q1"))
    assert "ATT/CSP12/DIEF/AFR/MP" in " ".join(
        "".join(h.itertext()) for h in _parts(cycle, "word/header")
    )
    assert "ATT/CSP12/DIEF/AFR/2026-Q1/MP" in " ".join(
        "".join(h.itertext()) for h in _parts(quarter, "word/header")
    )
    first = docx.Document(io.BytesIO(quarter)).paragraphs[0].text
    assert first == "ATT/CSP12/DIEF/AFR/2026-Q1/MP\n1 April 2026\nOriginal: English"


def test_suppressed_cells_show_the_mark_never_a_number(folder: Folder) -> None:
    document = docx.Document(io.BytesIO(_papers(folder)["summary"]))
    rows = [
        [c.text for c in row.cells]
        for t in document.tables
        if t.rows[0].cells[0].text == "Value"
        for row in t.rows[1:]
    ]
    hidden = [r for r in rows if r[1] == "[c]"]
    assert hidden, "the data has suppressed cells"
    assert all(not re.search(r"\d", "".join(r[2:5])) for r in hidden)


# -- the CSV annex ---------------------------------------------------------------------------


def _annex(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM for Excel"
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    assert tuple(reader.fieldnames or ()) == ANNEX_COLUMNS
    return list(reader)


def test_summary_annex_has_a_row_per_cell_and_no_hidden_count(folder: Folder) -> None:
    summary = folder.summary
    rows = _annex(folder.index.out_dir / "summary" / "CSP12.csv")
    tables = {"ALL": summary.global_} | {r.value: t for r, t in summary.regions.items()}
    expected = sum(1 + sum(len(cs) for cs in t.dimensions.values()) for t in tables.values())
    assert len(rows) == expected
    by_key = {(r["region"], r["dimension"], r["value"]): r for r in rows}
    for region, table in tables.items():
        for dimension, cells in table.dimensions.items():
            for cell in cells:
                row = by_key[region, dimension.value, cell.value]
                if cell.suppressed:
                    assert row["status"] == "hidden"
                    assert row["count"] == row["contributors"] == row["share"] == ""
                else:
                    assert row["status"] == "published"
                    assert row["count"] == str(cell.count)
    assert by_key["ALL", "item_category", "small_arms"]["value_label"] == "Small arms"
    assert {r["status"] for r in rows} == {"published", "hidden"}


def test_every_digest_has_its_annex(folder: Folder) -> None:
    for output in folder.index.digests:
        assert output.csv_path is not None
        assert output.csv_path.is_file()
    rows = _annex(folder.index.out_dir / "digests" / "AFR" / "CSP12.csv")
    digest = folder.digest("AFR", "CSP12")
    assert rows[0]["dimension"] == "total"
    assert len(rows) == 1 + sum(len(cs) for cs in digest.dimensions.values())
    assert all(r["count"] == "" for r in rows if r["status"] == "hidden")


# -- index.html ------------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        self.hrefs += [v for k, v in attrs if tag == "a" and k == "href" and v]


def test_index_links_every_document_in_every_format(folder: Folder) -> None:
    page = render_index(
        folder.index, explanation="3 cases became 4 records.", run_files=["run.json"]
    )
    links = _Links()
    links.feed(page)
    assert links.scripts == 0
    files = {h for h in links.hrefs if not h.startswith("#")}
    assert set(map(str, (p.relative_to(folder.index.out_dir) for p in folder.index.paths))) <= (
        files
    )
    assert "run.json" in files
    for href in files - {"run.json"}:
        assert (folder.index.out_dir / href).is_file(), href
    assert "3 cases became 4 records." in page
    for name in ("HTML", "DOCX", "JSON", "CSV", "Markdown"):
        assert f">{name}</a>" in page
    assert 'id="digests-AFR"' in page


# -- progress --------------------------------------------------------------------------------


def test_writing_outputs_reports_progress_per_document(folder: Folder) -> None:
    total = len(folder.index.outputs)
    assert folder.progress[0] == (0, total)
    assert folder.progress[1:] == [(n, total) for n in range(1, total + 1)]


# -- LibreOffice -----------------------------------------------------------------------------


def _pdf_pages(pdf: bytes) -> tuple[int, set[tuple[float, float]]]:
    """The number of page objects and every MediaBox size (points) in the PDF."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    return pages, {(float(w), float(h)) for w, h in boxes}


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_prints_the_summary_on_a4_within_the_page_ceiling(
    folder: Folder, tmp_path: Path
) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: ./scripts/install installs it")
    source = tmp_path / "CSP12.docx"
    source.write_bytes(_papers(folder)["summary"])
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pages, sizes = _pdf_pages((tmp_path / "CSP12.pdf").read_bytes())
    assert 1 < pages <= PAGE_CEILING
    assert sizes
    for width, height in sizes:
        assert abs(width - 595.3) < 1, "A4"
        assert abs(height - 841.9) < 1, "A4"

"""The route tables a digest carries, in every rendering: "Cases elsewhere whose route passes
through this region", per sending region, as given; a suppressed cell reads "suppressed" and
shows no number, a withheld table shows no count at all (DESIGN §5 related_regions)."""

from __future__ import annotations

import io
import random
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import TYPE_CHECKING

import docx

from dief.aggregator import TOTAL
from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.disclosure import Tally
from dief.labels import value_label
from dief.render import (
    render_digest_docx,
    render_digest_html,
    render_digest_markdown,
    write_outputs,
)
from dief.routes import RouteProtection, build_route_table
from dief.vocab import Region
from dief.wire import Digest, RouteTable, Totals
from tests.unit.reporting_support import History

if TYPE_CHECKING:
    from pathlib import Path

AFR, EEG, WEOG = Region.AFR, Region.EEG, Region.WEOG
ISSUED = datetime(2026, 9, 10, 12, tzinfo=UTC)
TITLE = "Cases elsewhere whose route passes through this region"
WITHHELD = "Withheld by the sending region (no count could be published safely)."
STAGE, KIND = "transfer_stage", "kind"
# the counts behind the suppressed cells: chosen so that none of them appears elsewhere in
# the table (a number on the page that equals one of them would be a leak, or a coincidence)
CELLS = {
    TOTAL: Tally(23, 9, ("CSP12",)),
    (KIND, "case"): Tally(23, 9, ("CSP12",)),
    (STAGE, "in_transit"): Tally(15, 6, ("CSP12",)),
    (STAGE, "stockpile"): Tally(3, 1, ("CSP12",)),
    (STAGE, "at_import"): Tally(5, 3, ("CSP12",)),
    ("method", "shell_company"): Tally(11, 4, ("CSP12",)),
}
HIDDEN = frozenset({(STAGE, "stockpile"), (STAGE, "at_import")})
SECRET = {"3", "5"}


def _tables() -> tuple[RouteTable, RouteTable]:
    protection = RouteProtection(HIDDEN, frozenset({(STAGE, "stockpile")}), frozenset())
    shown = build_route_table(AFR, EEG, "CSP12", CELLS, protection, k=2, issued_at=ISSUED)
    withheld = build_route_table(
        WEOG,
        EEG,
        "CSP12",
        CELLS,
        RouteProtection(frozenset(CELLS), frozenset(), frozenset(), withheld=True),
        k=2,
        issued_at=ISSUED,
    )
    return shown, withheld


def _digest(*tables: RouteTable) -> Digest:
    return Digest.model_validate(
        {
            "region": "EEG",
            "period": "CSP12",
            "k": 2,
            "totals": Totals(cases=3, contributors=2).model_dump(mode="json"),
            "dimensions": {},
            "routes": [t.model_dump(mode="json") for t in tables],
        }
    )


class _Rows(HTMLParser):
    """Rows of the route section: (data-* attributes, cell texts), and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[tuple[dict[str, str], list[str]]] = []
        self.routes: list[str] = []
        self.section = ""
        self._row: tuple[dict[str, str], list[str]] | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "section" and a.get("id") == "routes":
            self._depth = 1
        elif tag == "section" and self._depth:
            self._depth += 1
        if "data-route" in a:
            self.routes.append(a["data-route"])
        if tag == "tr" and a.get("data-table", "").startswith("route-"):
            self._row = (a, [])
        elif tag == "td" and self._row is not None:
            self._row[1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self._depth:
            self._depth -= 1
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.section += data + " "
        if self._row is not None and self._row[1]:
            self._row[1][-1] += data


def test_html_shows_each_route_table_as_given_and_no_suppressed_value() -> None:
    shown, withheld = _tables()
    html = render_digest_html(_digest(shown, withheld))
    page = _Rows()
    page.feed(html)
    assert TITLE in page.section
    assert "From African Group (AFR), CSP12" in page.section
    assert page.routes == ["route-AFR", "route-WEOG"]
    rows = {(a["data-dimension"], a["data-value"]): (a, t) for a, t in page.rows}
    assert {a["data-table"] for a, _ in page.rows} == {"route-AFR"}, "withheld: no cell"
    listed = {(d.value, c.value): c for d, cs in shown.dimensions.items() for c in cs}
    assert rows.keys() == listed.keys()
    for key, cell in listed.items():
        attrs, texts = rows[key]
        if cell.suppressed:
            assert key in HIDDEN
            assert attrs["data-suppressed"] == "true"
            assert "data-count" not in attrs
            assert texts[1] == "suppressed"
            assert not any(re.search(r"\d", t) for t in texts), texts
        else:
            assert attrs["data-count"] == texts[1] == str(CELLS[key].count)
            assert texts[2] == str(CELLS[key].contributors)
    assert WITHHELD in page.section
    numbers = set(re.findall(r"\d+", page.section.replace("CSP12", "")))
    assert "23" in numbers
    assert not numbers & SECRET, "a suppressed count appears in the section"
    assert "://" not in html


def test_html_without_route_tables_has_no_section() -> None:
    assert TITLE not in render_digest_html(_digest())
    assert 'id="routes"' not in render_digest_html(_digest())


def _docx_text(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    document = docx.Document(io.BytesIO(data))
    paragraphs = [p.text for p in document.paragraphs]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    return paragraphs, tables


def test_docx_shows_each_route_table_as_given_and_no_suppressed_value() -> None:
    shown, withheld = _tables()
    data = render_digest_docx(_digest(shown, withheld))
    assert data == render_digest_docx(_digest(shown, withheld)), "deterministic"
    paragraphs, tables = _docx_text(data)
    heading = next(i for i, p in enumerate(paragraphs) if p.endswith(TITLE))
    assert paragraphs[heading] == f"V. {TITLE}"
    after = paragraphs[heading:]
    assert "From African Group (AFR), CSP12" in after
    assert "From Western European and Others Group (WEOG), CSP12" in after
    assert WITHHELD in after
    # route tables: value, cases, contributors (the digest's own have seven columns)
    route_rows = [row for t in tables if t[0] == ["Value", "Cases", "Contributors"] for row in t]
    cells = {row[0]: row[1:] for row in route_rows if row[0] != "Value"}
    listed = {value_label(c.value): c for cs in shown.dimensions.values() for c in cs}
    assert cells.keys() == listed.keys()
    for value, cell in listed.items():
        if cell.suppressed:
            assert cells[value] == ["[c]", "\u2013"]
        else:
            assert cells[value] == [str(cell.count), str(cell.contributors)]
    totals = [t for t in tables if t[0][0] == "Cases" and len(t[0]) == 3]
    assert totals == [[["Cases", "Distinct contributors (at least)", "Suppressed cells"],
                       ["23", "9", "2"]]]  # fmt: skip
    text = "\n".join(after) + "".join(c for row in route_rows for c in row)
    assert not set(re.findall(r"\b\d+\b", text.replace("CSP12", ""))) & SECRET


def test_docx_without_route_tables_has_no_section() -> None:
    paragraphs, _ = _docx_text(render_digest_docx(_digest()))
    assert not any(p.endswith(TITLE) for p in paragraphs)
    assert "V. Notes" in paragraphs


def test_markdown_shows_the_same_cells() -> None:
    shown, withheld = _tables()
    text = render_digest_markdown(_digest(shown, withheld))
    section = text[text.index(f"## {TITLE}") :]
    assert "| `stockpile` | suppressed | \u2013 | \u2013 | \u2013 |" in section
    assert "| `in_transit` | 15 | 6 | \u2013 | \u2013 |" in section
    assert WITHHELD in section


async def test_write_outputs_writes_cycle_digests_as_docx_on_request(tmp_path: Path) -> None:
    months = ("2025-10", "2026-01", "2026-04")
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as store:
        await store.apply_batch("AFR", History("AFR", random.Random(5), months, nodes=4).batch(40))
        index = await write_outputs(
            tmp_path / "out", store, regions=["AFR"], catalogue=load_catalogue(),
            html=False, docx=False, digest_docx=True,
        )  # fmt: skip
    written = {o.period: o.docx_path for o in index.digests}
    assert written["CSP12"] == tmp_path / "out" / "digests" / "AFR" / "CSP12.docx"
    assert all(path is None for period, path in written.items() if period != "CSP12")
    paragraphs, _ = _docx_text(written["CSP12"].read_bytes())
    assert paragraphs[0] == "ATT/CSP12/DIEF/AFR/MP\n1 September 2026\nOriginal: English"
    assert paragraphs[1] == "DIEF trend digest: African Group (AFR), CSP12"

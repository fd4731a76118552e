"""Renderings of digests and summaries: Markdown, HTML with inline SVG charts, DOCX, and the
output directory of a run (DESIGN §9 ⚑).

- :func:`render_digest_markdown`, :func:`render_summary_markdown`;
- :func:`render_digest_html`, :func:`render_summary_html` (self-contained; nothing fetched);
- :func:`render_summary_docx` — the CSP summary as an ATT working paper (A4, column grid,
  repeated headers, symbol and date, page numbers: docs/documents.md);
  :func:`render_digest_docx` — a digest as a meeting paper;
- every digest rendering shows the route tables other regions sent ("Cases elsewhere whose
  route passes through this region", :mod:`dief.routes`), as given;
- :func:`render_summary_annex`, :func:`render_digest_annex` — the CSV data annex (one row
  per cell, hidden cells without figures; :data:`ANNEX_COLUMNS`);
- :func:`write_outputs` — every digest and summary with data, written atomically;
  :func:`write_index` — ``index.html`` linking them all with their formats.
"""

from __future__ import annotations

from dief.render._annex import ANNEX_COLUMNS, render_digest_annex, render_summary_annex
from dief.render._docx import (
    render_summary_docx,
)
from dief.render._docx_digest import render_digest_docx
from dief.render._html import render_digest_html
from dief.render._html_summary import render_summary_html
from dief.render._index import INDEX_FILE, IndexLink, render_index, write_index
from dief.render._markdown import (
    render_digest_markdown,
    render_summary_markdown,
)
from dief.render._output import write_outputs
from dief.render._svg import (
    PALETTE,
    Bar,
    bar_list,
    column_chart,
    line_chart,
    nice_ticks,
)
from dief.render._written import OutputIndex, WrittenOutput, dump_json

__all__ = [
    "ANNEX_COLUMNS",
    "INDEX_FILE",
    "PALETTE",
    "Bar",
    "IndexLink",
    "OutputIndex",
    "WrittenOutput",
    "bar_list",
    "column_chart",
    "dump_json",
    "line_chart",
    "nice_ticks",
    "render_digest_annex",
    "render_digest_docx",
    "render_digest_html",
    "render_digest_markdown",
    "render_index",
    "render_summary_annex",
    "render_summary_docx",
    "render_summary_html",
    "render_summary_markdown",
    "write_index",
    "write_outputs",
]

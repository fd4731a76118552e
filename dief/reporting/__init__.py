"""Regional trend digests, CSP summaries, disclosure control and their renderings (DESIGN §7).

- :func:`build_digest` — a region's trend digest for a month, quarter or cycle (meeting use;
  TLP:RED counts; cells below ``k_meeting`` distinct contributors suppressed, then
  secondary suppression over all the region's digests together: :func:`digest_pattern`);
  :class:`RegionDigests` reads and protects a region once for many digests.
- :func:`build_summary` — the public CSP summary of a cycle (no TLP:RED; primary suppression
  below ``k_csp``, then secondary suppression across totals and regions).
- :func:`render_digest_markdown`, :func:`render_summary_markdown` — Markdown tables.
- :func:`render_digest_html`, :func:`render_summary_html` — self-contained HTML pages with
  inline SVG charts (counts over time from :func:`load_series`); nothing is fetched.
- :func:`render_summary_docx` — the CSP summary as a DOCX working paper.
- :func:`load_lessons` — a region's shareable lessons, opened with its private key.
- :func:`write_outputs` — every digest and summary with data: JSON, Markdown, HTML, DOCX.

Every builder reads only stored cell counts (a digest: every period of its region, for the
joint suppression pattern): O(cells), never O(cases).
"""

from dief.reporting._cells import CellSource, Tally, merge_rows
from dief.reporting._digest import checklist_window, previous_period
from dief.reporting._docx import render_summary_docx
from dief.reporting._html import render_digest_html, render_summary_html
from dief.reporting._lessons import (
    CaseLesson,
    LessonOpener,
    LessonSet,
    lesson_of,
    lessons_for,
    load_lessons,
    open_lessons,
)
from dief.reporting._markdown import render_digest_markdown, render_summary_markdown
from dief.reporting._output import OutputIndex, WrittenOutput, dump_json, write_outputs
from dief.reporting._pattern import DigestPattern, digest_pattern
from dief.reporting._region import RegionDigests, build_digest
from dief.reporting._series import DigestSeries, Series, digest_series, load_series
from dief.reporting._summary import (
    GLOBAL,
    SINGLE_VALUED,
    SummaryTables,
    build_summary,
    summary_tables,
)
from dief.reporting._suppression import Earlier, Group, Protection, determined_cells, protect
from dief.reporting._trend import MIN_COUNT, TREND_TEST, Z_CRITICAL, trend_flag, z_score

__all__ = [
    "GLOBAL",
    "MIN_COUNT",
    "SINGLE_VALUED",
    "TREND_TEST",
    "Z_CRITICAL",
    "CaseLesson",
    "CellSource",
    "DigestPattern",
    "DigestSeries",
    "Earlier",
    "Group",
    "LessonOpener",
    "LessonSet",
    "OutputIndex",
    "Protection",
    "RegionDigests",
    "Series",
    "SummaryTables",
    "Tally",
    "WrittenOutput",
    "build_digest",
    "build_summary",
    "checklist_window",
    "determined_cells",
    "digest_pattern",
    "digest_series",
    "dump_json",
    "lesson_of",
    "lessons_for",
    "load_lessons",
    "load_series",
    "merge_rows",
    "open_lessons",
    "previous_period",
    "protect",
    "render_digest_html",
    "render_digest_markdown",
    "render_summary_docx",
    "render_summary_html",
    "render_summary_markdown",
    "summary_tables",
    "trend_flag",
    "write_outputs",
    "z_score",
]

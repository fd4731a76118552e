"""Regional trend digests, CSP summaries, disclosure control and their renderings (DESIGN §7).

- :func:`build_digest` — a region's trend digest for a month, quarter or cycle (meeting use;
  TLP:RED counts; cells below ``k_meeting`` distinct contributors suppressed).
- :func:`build_summary` — the public CSP summary of a cycle (no TLP:RED; primary suppression
  below ``k_csp``, then secondary suppression across totals and regions).
- :func:`render_digest_markdown`, :func:`render_summary_markdown` — Markdown tables.
- :func:`write_outputs` — every digest and summary with data, as JSON and Markdown.

Every builder reads only the stored cell counts of a few periods: O(cells), never O(cases).
"""

from dief.reporting._cells import CellSource, Tally, merge_rows
from dief.reporting._digest import build_digest, checklist_window, previous_period
from dief.reporting._markdown import render_digest_markdown, render_summary_markdown
from dief.reporting._output import OutputIndex, WrittenOutput, dump_json, write_outputs
from dief.reporting._summary import (
    GLOBAL,
    SINGLE_VALUED,
    SummaryTables,
    build_summary,
    summary_tables,
)
from dief.reporting._suppression import Group, Protection, determined_cells, protect
from dief.reporting._trend import MIN_COUNT, TREND_TEST, Z_CRITICAL, trend_flag, z_score

__all__ = [
    "GLOBAL",
    "MIN_COUNT",
    "SINGLE_VALUED",
    "TREND_TEST",
    "Z_CRITICAL",
    "CellSource",
    "Group",
    "OutputIndex",
    "Protection",
    "SummaryTables",
    "Tally",
    "WrittenOutput",
    "build_digest",
    "build_summary",
    "checklist_window",
    "determined_cells",
    "dump_json",
    "merge_rows",
    "previous_period",
    "protect",
    "render_digest_markdown",
    "render_summary_markdown",
    "summary_tables",
    "trend_flag",
    "write_outputs",
    "z_score",
]

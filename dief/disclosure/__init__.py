"""Disclosure control (DESIGN §7 ⚑): cells protected by distinct contributors, primary and
secondary suppression, the joint pattern of a region's digests, and the additive layout of
CSP summaries.

- :func:`protect` with :class:`Group` and :class:`Earlier` — secondary suppression over
  additive groups, stable across issues; :func:`determined_cells` checks what a reader can
  recover (:mod:`dief.disclosure._elimination`).
- :func:`digest_pattern` / :class:`DigestPattern` — one pattern for every digest of a region.
- :func:`merge_rows`, :class:`Tally`, :class:`CellSource` — stored cell rows to a period's
  counts (contributors within one pseudonym domain).
- :func:`collector_paused` — Python's cycle collector off while a pattern or a summary is
  computed (:mod:`dief._gc_pause`).
"""

from __future__ import annotations

from dief._gc_pause import collector_paused
from dief.disclosure._cells import (
    CellId,
    CellSource,
    PeriodCells,
    Tally,
    combine,
    merge_rows,
)
from dief.disclosure._design import months_by_total
from dief.disclosure._digest_groups import (
    digest_groups,
    last_quarter,
    visible_tables,
    window_key,
    window_quarters,
    with_earlier_cells,
)
from dief.disclosure._elimination import (
    Elimination,
    Row,
    rref,
)
from dief.disclosure._grouped import OTHER, grouped_members, is_grouped
from dief.disclosure._joint import (
    JointParts,
    RowRequirement,
    is_red_table,
    is_row_table,
    joint_parts,
    red_table,
    row_requirements,
    row_table,
)
from dief.disclosure._pattern import (
    MONTH_CELLS,
    MONTH_DIMENSIONS,
    SILENT_CELL,
    TOTAL_WEIGHT,
    DigestPattern,
    coarse_months,
    digest_pattern,
    month_shows,
    silent_tables,
    without_silent,
)
from dief.disclosure._pieces import pieces_enabled, whole_system
from dief.disclosure._published import (
    GLOBAL,
    EarlierIssue,
    PublishedCells,
    additive_groups,
    cell_order,
    earlier_issue,
    published_cells,
)
from dief.disclosure._readers import reader_pick
from dief.disclosure._suppression import (
    SINGLE_VALUED,
    Earlier,
    Group,
    Key,
    Protection,
    SortKey,
    determined_cells,
    protect,
)

__all__ = [
    "GLOBAL",
    "MONTH_CELLS",
    "MONTH_DIMENSIONS",
    "OTHER",
    "SILENT_CELL",
    "SINGLE_VALUED",
    "TOTAL_WEIGHT",
    "CellId",
    "CellSource",
    "DigestPattern",
    "Earlier",
    "EarlierIssue",
    "Elimination",
    "Group",
    "JointParts",
    "Key",
    "PeriodCells",
    "Protection",
    "PublishedCells",
    "Row",
    "RowRequirement",
    "SortKey",
    "Tally",
    "additive_groups",
    "cell_order",
    "coarse_months",
    "collector_paused",
    "combine",
    "determined_cells",
    "digest_groups",
    "digest_pattern",
    "earlier_issue",
    "grouped_members",
    "is_grouped",
    "is_red_table",
    "is_row_table",
    "joint_parts",
    "last_quarter",
    "merge_rows",
    "month_shows",
    "months_by_total",
    "pieces_enabled",
    "protect",
    "published_cells",
    "reader_pick",
    "red_table",
    "row_requirements",
    "row_table",
    "rref",
    "silent_tables",
    "visible_tables",
    "whole_system",
    "window_key",
    "window_quarters",
    "with_earlier_cells",
    "without_silent",
]

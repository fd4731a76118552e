"""Dimensions withheld from a table (issue #15, docs/digests.md "Tables designed for the
data"): where every value a period's table would list for a dimension has fewer than k
distinct contributors, its digest lists no value of that dimension and says the dimension
is withheld ("each value was reported by fewer than k States").

Listed, those values were hidden (primary), and a reader still knew each counts at least
one case: with the total published, three listed hidden values of a month of three cases
were each pinned to 1, so only hiding the total protected them. Withheld, they are cells no
document lists (least value 0) that still take part in every sum (a month's values sum to
its total, the months to the quarter, …), as the months-by-total design takes a month's
cells (:mod:`dief.disclosure._design`).

A dimension an earlier issue listed a cell of in that table is never withheld (the pattern
stays stable across issues: a value listed before and missing now would be a zero). A
period of fewer than k contributors (its digest lists no dimension at all) keeps its cells
in the pattern as before, listed and suppressed: withheld too, a re-issue's piece missed a
half-cycle's sum over two such months (docs/digests.md). A checklist window, a summary row
and a red part are no digest table and are left alone. Opt-in (:data:`WITHHOLD_BY_DEFAULT`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.disclosure._design import WINDOW
from dief.disclosure._grouped import is_grouped
from dief.disclosure._joint import is_red_table, is_row_table

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from dief.disclosure._cells import CellId, PeriodCells
    from dief.disclosure._suppression import Key

__all__ = ["WITHHOLD_BY_DEFAULT", "withheld_cells", "withheld_dimensions"]

#: whether :func:`~dief.disclosure.digest_pattern` withholds dimensions when not told
#: (``withhold=None``). Off until a re-issue of unchanged data keeps the pattern with it:
#: on, ``test_publish_closed_periods_first_all_then_only_changes``
#: (tests/unit/test_digest_payload.py) re-publishes 8 unchanged digests with more cells
#: hidden (the check on both issues, ``break_joint``, finds cells the first issue did
#: not; docs/digests.md "Tables designed for the data"). Every builder reads it at call
#: time, so a test or a measurement may set it.
WITHHOLD_BY_DEFAULT = False


def _digest_table(name: str) -> bool:
    return not (name.startswith(WINDOW) or is_row_table(name) or is_red_table(name))


def withheld_dimensions(
    tables: Mapping[str, PeriodCells], *, k: int, recorded: Collection[Key]
) -> dict[tuple[str, str], tuple[CellId, ...]]:
    """(table, dimension) → the cells of each dimension a digest table withholds: every
    value it has data for has fewer than *k* contributors, and no earlier issue
    (*recorded*, the keys its record lists) listed a cell of the table's dimension."""
    listed_before = {(key[0], key[1]) for key in recorded}
    out: dict[tuple[str, str], tuple[CellId, ...]] = {}
    for name, cells in tables.items():
        total = cells.get(TOTAL)
        if not _digest_table(name) or total is None or total.contributors < k:
            # a period of fewer than k contributors lists no dimension at all, and its
            # cells stay in the pattern as before (listed, suppressed: the safe side)
            continue
        by_dimension: dict[str, list[CellId]] = {}
        for cell in cells:
            if cell != TOTAL and not is_grouped(cell):
                by_dimension.setdefault(cell[0], []).append(cell)
        for dimension, members in by_dimension.items():
            if (name, dimension) in listed_before:
                continue
            if all(cells[c].contributors < k for c in members):
                out[name, dimension] = tuple(sorted(members))
    return out


def withheld_cells(withheld: Mapping[tuple[str, str], tuple[CellId, ...]]) -> set[Key]:
    """The keys of the cells of :func:`withheld_dimensions`."""
    return {(table, *cell) for (table, _), cells in withheld.items() for cell in cells}

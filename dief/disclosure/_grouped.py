"""Rare values grouped as ``(other)`` (issue #15, docs/digests.md "Tables designed for the
data").

In a digest dimension table, the values with fewer than ``k`` distinct contributors are not
listed one by one: they become ONE grouped cell, value :data:`OTHER`, whose count is the
cases (facts, for a multi-valued dimension) of that dimension in that table under values
not listed, and whose contributors are the distinct contributors of those values together
(read from the store's per-contributor counts, :meth:`CaseStore.grouped_rows`). A reader's
equation is ``(other) = Σ over the dimension's vocabulary values not listed``; the values
it groups stay unknowns of the protection, listed nowhere (least value 0, not 1), and each
still has fewer than ``k`` contributors, so no combination may determine it.

Why: a listed cell counts at least one case, so a table whose hidden values each count one
case, under a published total, pins every one of them, and the secondary step had to hide
the total. Grouped, those values are unlisted (at least 0), and the grouped cell hides them.

Stable across issues: a value an earlier issue listed (published or suppressed) stays
listed; a value below ``k`` that no issue listed is grouped. ``(other)`` is never a
vocabulary value (those are snake_case or indicator ids).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.vocab import Dimension

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping

    from dief.disclosure._cells import CellId, PeriodCells

__all__ = ["OTHER", "PAIRS", "grouped_members", "is_grouped"]

#: the value of a grouped cell
OTHER = "(other)"
#: dimensions of two values: a grouped cell would be the other value under another name,
#: so their values stay listed one by one
PAIRS: frozenset[str] = frozenset({Dimension.KIND.value, Dimension.CONFIDENCE.value})


def is_grouped(cell: CellId) -> bool:
    """Whether *cell* is a grouped ``(other)`` cell."""
    return cell[1] == OTHER


def grouped_members(
    tallies: Mapping[str, PeriodCells],
    *,
    k: int,
    listed_before: Collection[tuple[str, str, str]] = frozenset(),
    shown: Callable[[str, CellId], bool] = lambda _table, _cell: True,
) -> dict[tuple[str, str], tuple[CellId, ...]]:
    """(table, dimension) → the cells of that table's dimension grouped as ``(other)``:
    those with fewer than *k* contributors that no earlier issue listed
    (*listed_before*, keys ``(table, dimension, value)``), among the cells *shown* (a
    table only shows some dimensions: a month its total and ``kind``). Tables of
    *tallies* that are periods only (the caller passes them)."""
    out: dict[tuple[str, str], list[CellId]] = {}
    for table, cells in tallies.items():
        for cell, tally in cells.items():
            if cell == TOTAL or is_grouped(cell) or cell[0] in PAIRS or not shown(table, cell):
                continue
            if tally.contributors < k and (table, *cell) not in listed_before:
                out.setdefault((table, cell[0]), []).append(cell)
    return {key: tuple(sorted(cells)) for key, cells in sorted(out.items())}

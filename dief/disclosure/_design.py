"""Tables designed for the data (issue #15, docs/digests.md "Tables designed for the data"):
what a month's digest shows in the months-by-total design, the cells a secondary
suppression takes last (``protect(..., reserve=)``), the month cells a reader cannot take
as zeros, and the rare values grouped as ``(other)`` (opt-in).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.disclosure._cells import CellId, PeriodCells, Tally
from dief.disclosure._grouped import OTHER, grouped_members, is_grouped
from dief.disclosure._joint import is_row_table
from dief.vocab import Dimension

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    from dief.disclosure._suppression import Key

__all__ = [
    "CHECKLIST_TOP",
    "MONTHS_BY_TOTAL_BY_DEFAULT",
    "MONTH_CELLS",
    "MONTH_DIMENSIONS",
    "WINDOW",
    "blank_zeros",
    "coarse_months",
    "group_rare_values",
    "is_month",
    "listed_zeros",
    "month_shows",
    "month_zeros",
    "months_by_total",
    "reserved_cells",
]

#: the prefix of a checklist window's table name (``W<last quarter>``)
WINDOW = "W"

#: whether a region's month digests list their total and ``kind`` only, every other
#: dimension by quarter, half and cycle (with joint protection; docs/digests.md, "Tables
#: designed for the data"): the default since session 13, when the last leak it had (a
#: re-issue hiding again a cell of an unchanged table, docs/audit.md) was fixed
MONTHS_BY_TOTAL_BY_DEFAULT = True


def months_by_total(choice: bool | None) -> bool:  # noqa: FBT001  one optional flag, resolved
    """*choice*, or :data:`MONTHS_BY_TOTAL_BY_DEFAULT` where it is ``None``."""
    return MONTHS_BY_TOTAL_BY_DEFAULT if choice is None else choice


#: what a month's table holds in the joint design: its total and its ``kind`` cells (a
#: region's month holds a handful of cases; tabulated by every dimension, its rare values
#: were hidden and, through the sums into quarters and cycles, took the month's and the
#: quarter's totals with them)
MONTH_CELLS: frozenset[CellId] = frozenset({TOTAL})
#: the dimensions a month's table shows in the joint design, besides its total
MONTH_DIMENSIONS: frozenset[str] = frozenset({Dimension.KIND.value})


def month_shows(cell: CellId) -> bool:
    """Whether a month's digest shows *cell* in the joint design (months by total)."""
    return cell in MONTH_CELLS or cell[0] in MONTH_DIMENSIONS


#: the length of a month's period name (``YYYY-MM``)
_MONTH_NAME = len("YYYY-MM")


def is_month(name: str) -> bool:
    return len(name) == _MONTH_NAME and name[4] == "-" and name[5:].isdigit()


def coarse_months(tallies: Mapping[str, PeriodCells]) -> dict[str, PeriodCells]:
    """*tallies* with every month reduced to :data:`MONTH_CELLS`: what a month's digest
    shows in the joint design (its other cells stay in the pattern, unlisted)."""
    return {
        name: {c: t for c, t in cells.items() if month_shows(c)} if is_month(name) else cells
        for name, cells in tallies.items()
    }


#: how many entries of the top of each checklist window are reserved
CHECKLIST_TOP = 3


def reserved_cells(
    tables: Mapping[str, PeriodCells], *, k: int, k_summary: int | None
) -> frozenset[Key]:
    """The cells a secondary suppression takes only where nothing else can protect
    (``protect(..., reserve=)``): every table's total with at least k contributors (a
    summary row's with ``k_csp``; a window's is the checklist's case count), and the top
    :data:`CHECKLIST_TOP` entries of each checklist window with k contributors."""
    out: set[Key] = set()
    for name, cells in tables.items():
        need = k_summary if is_row_table(name) and k_summary is not None else k
        total = cells.get(TOTAL)
        if total is not None and total.contributors >= need:
            out.add((name, *TOTAL))
        if name.startswith(WINDOW):
            top = sorted(
                (c for c, t in cells.items() if c != TOTAL and t.contributors >= k),
                key=lambda c: (-cells[c].count, c),
            )[:CHECKLIST_TOP]
            out.update((name, *c) for c in top)
    return frozenset(out)


def month_zeros(tables: dict[str, PeriodCells], parts: Mapping[str, Sequence[str]]) -> set[Key]:
    """Months by total: a month's digest does not list its values, so a value of its
    quarter (half, cycle) may be in any of its months for all a reader knows. Each such
    month cell without data is put in *tables* at 0 (an unknown at least 0 of the sums,
    never sensitive) instead of being taken as a known zero. Returns their keys."""
    zeros: set[Key] = set()
    for name, inner in parts.items():
        if name.startswith(WINDOW):
            continue
        for cell in tables[name]:
            if cell == TOTAL or is_grouped(cell) or month_shows(cell):
                continue
            for month in inner:
                if is_month(month) and cell not in tables[month]:
                    tables[month][cell] = Tally(0, 0, ())
                    zeros.add((month, *cell))
    return zeros


def blank_zeros(
    tables: dict[str, PeriodCells],
    parts: Mapping[str, Sequence[str]],
    *,
    k: int,
    withheld: Collection[tuple[str, str]],
) -> set[Key]:
    """A table that lists no value of a dimension — none at all for a period of fewer than
    k contributors (its digest lists no dimension), none of a *withheld* one — does not
    say which values it has no case of either: a value its quarter (half, cycle) lists may
    be in it for all a reader knows. Each such cell without data is put in *tables* at 0
    (an unknown at least 0 of the sums, never sensitive) instead of being taken as a known
    zero, as :func:`month_zeros` does for the dimensions a month never lists (issue #15:
    AFR's 2025-01, of fewer than k contributors, made 2025-Q1's ``kind/case`` follow from
    its months for the search, not for a reader, so 2025-02's total stayed hidden).
    Returns their keys."""

    def lists_none(name: str, dimension: str) -> bool:
        total = tables[name].get(TOTAL)
        few = total is not None and total.contributors < k
        return few or (name, dimension) in withheld

    zeros: set[Key] = set()
    for name, inner in parts.items():
        if name.startswith(WINDOW):
            continue
        for cell in tables[name]:
            if cell == TOTAL or is_grouped(cell):
                continue
            for sub in inner:
                if cell not in tables[sub] and lists_none(sub, cell[0]):
                    tables[sub][cell] = Tally(0, 0, ())
                    zeros.add((sub, *cell))
    return zeros


def listed_zeros(
    tables: Mapping[str, PeriodCells], parts: Mapping[str, Sequence[str]]
) -> dict[Key, tuple[Key, ...]]:
    """Months by total: a quarter, half or cycle lists every dimension, so a value it does
    not list is 0 there, and its months' cells of that value (some with data elsewhere, or
    month zeros from :func:`month_zeros`) sum to 0. Returns each such zero cell of an
    aggregate table (known to every reader, listed nowhere) with the month cells it sums."""
    out: dict[Key, tuple[Key, ...]] = {}
    for name, inner in parts.items():
        if name.startswith(WINDOW):
            continue
        months = [m for m in inner if is_month(m)]
        seen = {
            cell
            for m in months
            for cell in tables[m]
            if cell != TOTAL and not is_grouped(cell) and not month_shows(cell)
        }
        for cell in sorted(seen - tables[name].keys()):
            out[name, *cell] = tuple((m, *cell) for m in months if cell in tables[m])
    return out


def group_rare_values(
    tables: dict[str, PeriodCells], *, k: int, recorded: Collection[Key], coarse: bool
) -> dict[tuple[str, str], tuple[CellId, ...]]:
    """Group the rare values of every period table as ``(other)``
    (:mod:`dief.disclosure._grouped`): returns (table, dimension) → the cells grouped,
    and puts the grouped cell in *tables* where the caller did not (its contributors then
    the largest of its values', a lower bound: the safe side); a grouped cell of a
    dimension with nothing to group is dropped, unless an earlier issue listed it."""
    periods = {n: c for n, c in tables.items() if not n.startswith(WINDOW)}

    def shown(table: str, cell: CellId) -> bool:
        return not (coarse and is_month(table)) or month_shows(cell)

    grouped = grouped_members(periods, k=k, listed_before=recorded, shown=shown)
    for (table, dimension), rare in grouped.items():
        other = (dimension, OTHER)
        if other not in tables[table]:
            tallies = [tables[table][c] for c in rare]
            tables[table][other] = Tally(
                sum(t.count for t in tallies),
                max(t.contributors for t in tallies),
                tuple(sorted({y for t in tallies for y in t.cycles})),
                exact=False,
            )
    for table, present in periods.items():
        for cell in [c for c in present if is_grouped(c)]:
            if (table, cell[0]) not in grouped and (table, *cell) not in recorded:
                del present[cell]
    return grouped

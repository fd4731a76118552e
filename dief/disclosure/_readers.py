"""The CSP summary checked against each region's meeting (DESIGN §7, "one system").

A member of region X's meeting holds the summary and X's documents. X's aggregator said,
with its digests, what that adds (:class:`~dief.disclosure.RowRequirement`): the row cells
it needs suppressed, those of them its meeting can compute anyway, and the linear relations
between the others that its documents give. Every other cell of X's row its pattern
treated as published, so the check here takes them as known to X's meeting, whatever the
summary does with them.

:func:`reader_pick` finds the next cell the summary must suppress for some region's meeting,
or ``None`` when the summary is safe for every one of them:

1. no suppressed cell of a region's row follows exactly from the summary together with X's
   relations, X's known cells aside. A global cell is the sum of the regions' cells: what
   it adds for X's meeting is the other regions' part, whose cells are checked here (X's
   meeting may know a sum of other regions' suppressed cells, as any reader of a global
   cell next to its published regional cells does);
2. the summary adds no relation between X's required row cells that X's documents did not
   give already: otherwise a cell of X's digests that X's pattern protected with those row
   cells as unknowns could follow from the summary's sums across regions (the projection of
   the summary's equations onto those cells must lie in the span of X's relations).

Both are exact (integer elimination); each fix hides one more published cell near the leak,
and the caller protects again (hiding more never determines more).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.disclosure._choice import widen
from dief.disclosure._elimination import rref
from dief.disclosure._joint import RowRequirement, reach
from dief.disclosure._published import GLOBAL
from dief.disclosure._search import _index
from dief.disclosure._suppression import Group, Key, SortKey, determined_cells
from dief.exceptions import DiefError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

__all__ = ["reader_pick"]


def _equation(group: Group, index: Mapping[Key, int]) -> dict[int, int]:
    row: dict[int, int] = {}
    for member in group.members:
        if member in index:
            row[index[member]] = row.get(index[member], 0) + 1
    if group.marginal in index:
        row[index[group.marginal]] = row.get(index[group.marginal], 0) - 1
    return {c: v for c, v in row.items() if v}


def _rank_onto(
    targets: Sequence[Key],
    unknown: frozenset[Key],
    groups: Sequence[Group],
    groups_of: Mapping[Key, Sequence[int]],
    relations: Iterable[Mapping[Key, int]],
) -> int:
    """The rank of the projection of the equations (*groups* over *unknown* cells, plus
    *relations*) onto *targets* (the other unknowns eliminated)."""
    seen_cells, seen_groups = reach(targets, unknown, groups, groups_of)
    others = sorted(seen_cells - set(targets))
    order = [*others, *targets]
    index = {key: i for i, key in enumerate(order)}
    rows = [_equation(groups[i], index) for i in sorted(seen_groups)]
    rows.extend({index[k]: v for k, v in rel.items() if k in index and v} for rel in relations)
    pivots = rref(r for r in rows if r)
    return sum(1 for lead in pivots if lead >= len(others))


def _first(picks: Iterable[Key | None]) -> Key | None:
    """The first of *picks* that is not ``None`` (made lazily, in order: the rest are not)."""
    return next((pick for pick in picks if pick is not None), None)


def reader_pick(
    suppressed: frozenset[Key],
    counts: Mapping[Key, int],
    groups: Sequence[Group],
    rows: Mapping[str, RowRequirement],
    *,
    by_size: Callable[[Key], tuple[int, bool, SortKey]],
) -> Key | None:
    """The next cell to suppress for some region's meeting (module docstring), or ``None``.

    *rows* maps a region (a summary table name) to what its aggregator required.
    """
    groups_of = _index(groups)
    regions = {key[0] for key in counts if key[0] != GLOBAL}
    for region in sorted(rows):
        need = rows[region]
        required = {(region, *cell) for cell in need.hidden} & counts.keys()
        row_cells = {key for key in counts if key[0] == region}
        knows = (row_cells - required) | {(region, *cell) for cell in need.known}
        unknown = frozenset(suppressed - knows)
        relations = [{(region, *cell): value for cell, value in rel} for rel in need.relations]

        def candidate(cell: Key, knows: set[Key] = knows) -> bool:
            return cell in counts and cell not in suppressed and cell not in knows

        # a global cell is a sum over regions: what it holds beyond this region's row is
        # the other regions' cells, each protected here; their sum alone may be known
        leaks = {
            cell
            for cell in determined_cells(unknown, groups, relations=relations)
            if cell[0] in rows or cell[0] in regions
        }
        pick = _first(
            widen(leak, groups, groups_of, by_size, candidate, unknown.__contains__)
            for leak in sorted(leaks, key=by_size)
        )
        if pick is not None:
            return pick
        if leaks:
            raise DiefError(
                "a summary cell follows from a region's documents and no cell can protect it"
            )
        targets = sorted(required & unknown)
        if not targets:
            continue
        given = _rank_onto(targets, frozenset(targets), [], {}, relations)
        found = _rank_onto(targets, unknown, groups, groups_of, relations)
        if found > given:
            near = sorted(
                {c for t in targets for i in groups_of.get(t, ()) for c in groups[i].cells}
                - set(targets)
            )
            options = [c for c in near if candidate(c)]
            if options:
                return min(options, key=by_size)
            pick = _first(
                widen(cell, groups, groups_of, by_size, candidate, unknown.__contains__)
                for cell in sorted((c for c in near if c in unknown), key=by_size)
            )
            if pick is not None:
                return pick
    return None

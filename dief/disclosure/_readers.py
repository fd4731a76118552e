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

3. (session 19) no suppressed cell of a region's row is pinned by the summary's sums
   together with the least values every reader reads off the summary's reasons and the
   bounds X's documents give X's meeting of its hidden row cells
   (``RowRequirement.bounds``, where sent; a required row cell without one is taken as
   known exactly, the most the meeting can know: docs/digests.md): one check-4 programme
   per meeting (:func:`~dief.disclosure._bounds.pinned_cells`), a bound ``x <= most``
   written as ``x + s = most`` with a slack ``s`` at least 0, a relation's constant as a
   known cell of a table of its own. A row cell X's documents pin alone is X's meeting's
   to know, not a leak of the summary. Checks 1 and 2 run for every meeting first.
   (The bench's 600 cases over two years: AFR's meeting read its ``civilian_market`` cell
   of CSP13 at least 2 off its digest, and with the global 7 and the other regions' cells
   at their least values computed all four; ``tests/unit/test_summary_meeting_bounds.py``.)

Checks 1 and 2 are exact (integer elimination); each fix hides one more published cell near
the leak (check 3: one for each leak no other pick is next to, a cell its region's meeting
computes, ``reserve``, only where no other is left), and the caller protects again (hiding
more never determines more).

A route table another region Y sent X (``RowRequirement.routed`` of Y's requirement names
the row cells its published route cells to X bound) tells X's meeting that Y's cell is at
least the route cell. X's meeting is then checked twice: as above, and with each such cell
of Y's row taken as **known** exactly (with the cells of other rows that follow from what
it knows alone). Exact knowledge is more than a lower bound, so where no other cell
follows exactly in the second check, none follows for the reader holding the lower
bounds (for these exact-elimination checks; the audit's linear programme, with the
bounds, is the independent check); the routed cells themselves, and what follows from
them, are protected by the first. A region with a row that sent no requirement is
checked as knowing its whole row. (#15: without the second check, the Secretariat hid a
sender's row to protect another region's cell while the sender's route table gave the
receiving meeting that row cell; ``tests/unit/test_route_summary_attack.py``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.disclosure._bounds import pinned_cells
from dief.disclosure._choice import widen
from dief.disclosure._elimination import rref
from dief.disclosure._joint import RowRequirement, reach
from dief.disclosure._pieces import bound_links
from dief.disclosure._published import GLOBAL
from dief.disclosure._search import _index
from dief.disclosure._suppression import Group, Key, SortKey, determined_cells
from dief.exceptions import DisclosureError

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

__all__ = ["reader_pick"]

#: the table of a relation's constant in check 3 (:func:`_bound_pick`); no summary table
_RELATION = "~relation"


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


def _routed(rows: Mapping[str, RowRequirement]) -> dict[str, set[Key]]:
    """Receiving region → the other regions' row cells their route tables to it publish
    (``RowRequirement.routed``): known to that region's meeting."""
    out: dict[str, set[Key]] = {}
    for sender, need in rows.items():
        for receiver, cell in need.routed:
            if receiver != sender:
                out.setdefault(receiver, set()).add((sender, *cell))
    return out


def _meeting(
    region: str, need: RowRequirement | None, counts: Mapping[Key, int]
) -> tuple[set[Key], set[Key], list[dict[Key, int]]]:
    """What *region*'s meeting brings to the summary from its own documents (*need*: its
    aggregator's requirement, if any): the row cells it requires suppressed, the summary
    cells it knows (the rest of its row, and the cells its requirement says it can
    compute) and the relations its documents give between its required cells."""
    row_cells = {key for key in counts if key[0] == region}
    if need is None:
        return set(), row_cells, []
    required = {(region, *cell) for cell in need.hidden} & counts.keys()
    knows = (row_cells - required) | {(region, *cell) for cell in need.known}
    relations = [{(region, *cell): value for cell, value in rel} for rel in need.relations]
    return required, knows, relations


def _follows(
    region: str, knows: set[Key], counts: Mapping[Key, int], groups: Sequence[Group]
) -> set[Key]:
    """The other regions' row cells that follow from *knows* alone (a routed row cell taken
    as exact pins the other cell of a two-cell sum): no suppression in the summary hides
    them, so the check that takes the routed cells as exact takes these as known too (the
    check without them protects them)."""
    others = {key for key in counts if key[0] not in {region, GLOBAL}} - knows
    return determined_cells(frozenset(counts.keys() - knows), groups) & others


def _views(
    region: str,
    rows: Mapping[str, RowRequirement],
    routed: Mapping[str, set[Key]],
    counts: Mapping[Key, int],
    groups: Sequence[Group],
) -> tuple[set[Key], list[set[Key]], list[dict[Key, int]]]:
    """*region*'s required cells, what its meeting knows (one set per check: its own
    documents; then, where other regions route to it, those documents with the routed
    cells taken as exact) and its relations."""
    required, knows, relations = _meeting(region, rows.get(region), counts)
    views = [knows]
    if region in routed:
        told = knows | routed[region]
        views.append(told | _follows(region, told, counts, groups))
    return required, views, relations


def reader_pick(  # noqa: PLR0913  the summary's state, its floors by keyword
    suppressed: frozenset[Key],
    counts: Mapping[Key, int],
    groups: Sequence[Group],
    rows: Mapping[str, RowRequirement],
    *,
    by_size: Callable[[Key], tuple[int, bool, SortKey]],
    floors: Mapping[Key, int] | None = None,
    reserve: Collection[Key] = frozenset(),
) -> list[Key]:
    """The next cells to suppress for some region's meeting (module docstring), none where
    the summary is safe for every one: one cell from checks 1 and 2, from check 3 one for
    each leak no other pick is next to.

    *rows* maps a region (a summary table name) to what its aggregator required; a
    region routed to (``RowRequirement.routed``) is checked even without one of its own.
    *floors*: the least counts every reader reads off the summary's reasons (k_csp for a
    cell hidden to protect another); *reserve*: cells check 3 takes only where no other
    is left (a row cell its own region's meeting computes: hidden, it protects nothing
    from that meeting, which the audit reports).
    """
    groups_of = _index(groups)
    regions = {key[0] for key in counts if key[0] != GLOBAL}
    routed = _routed(rows)
    summary = _Meeting(
        suppressed,
        counts,
        groups,
        groups_of,
        regions | rows.keys(),
        dict(floors or {}),
        frozenset(reserve),
    )
    # every region with a row: one that sent no requirement is checked as knowing its row
    meetings = [
        (region, *_views(region, rows, routed, counts, groups))
        for region in sorted(rows.keys() | regions)
    ]
    # the equations first, for every meeting (checks 1 and 2); then the bounds (check 3)
    for _, required, views, relations in meetings:
        for knows in views:
            pick = _pick(summary, required, knows, relations, by_size=by_size)
            if pick is not None:
                return [pick]
    for region, required, views, relations in meetings:
        bounds = _meeting_bounds(region, rows.get(region), counts)
        # a required row cell its region sent no bounds of is taken as known exactly (the
        # most its meeting can know of it: the Secretariat protects as if it knew more)
        exact = required - bounds.keys()
        for knows in views:
            picks = _bound_pick(summary, knows | exact, relations, bounds, by_size=by_size)
            if picks:
                return picks
    return []


def _meeting_bounds(
    region: str, need: RowRequirement | None, counts: Mapping[Key, int]
) -> dict[Key, tuple[int, int | None]]:
    """The bounds *region*'s aggregator says its documents give its meeting of its hidden
    row cells (``RowRequirement.bounds``), by summary cell."""
    if need is None:
        return {}
    return {
        (region, *cell): (low, high) for cell, low, high in need.bounds if (region, *cell) in counts
    }


def _bound_pick(
    summary: _Meeting,
    knows: set[Key],
    relations: Sequence[Mapping[Key, int]],
    bounds: Mapping[Key, tuple[int, int | None]],
    *,
    by_size: Callable[[Key], tuple[int, bool, SortKey]],
) -> list[Key]:
    """Check 3 of the module docstring for one meeting (what it knows: *knows* exactly,
    *relations*, the summary's floors and its own *bounds* of its hidden row cells): the
    cells to suppress near the region row cells those pin (one a leak, no two next to each
    other), else none."""
    # a row cell its own documents pin is the meeting's to know, not the summary's to hide
    known = knows | {cell for cell, (low, high) in bounds.items() if low == high}
    unknown = frozenset(summary.suppressed - known)
    if not unknown:
        return []
    # a relation is between hidden cells, the published ones it also held taken as given:
    # its constant, the sum at the counts, joins it as a known cell of a table of its own
    counts = dict(summary.counts)
    held: list[Mapping[Key, int]] = []
    for i, relation in enumerate(relations):
        constant = (_RELATION, "", str(i))
        counts[constant] = sum(value * counts.get(cell, 0) for cell, value in relation.items())
        held.append({**relation, constant: -1})
    # a cell at most *high*: cell + slack = high, the slack an unknown at least 0
    least = dict(summary.floors)
    slacks: set[Key] = set()
    for cell, (low, high) in bounds.items():
        if cell not in unknown:
            continue
        least[cell] = max(least.get(cell, 1), low)
        if high is not None:
            name = "/".join(cell)
            slack, most = (_RELATION, "slack", name), (_RELATION, "most", name)
            counts[slack], counts[most] = high - counts[cell], high
            slacks.add(slack)
            held.append({cell: 1, slack: 1, most: -1})
    pinned = pinned_cells(
        counts, unknown | slacks, summary.groups, relations=held, floors=least, unlisted=slacks
    )
    leaks = sorted((cell for cell in pinned if cell[0] in summary.protected), key=by_size)

    return _leak_picks(summary, leaks, unknown, known, by_size=by_size)


def _leak_picks(
    summary: _Meeting,
    leaks: Sequence[Key],
    unknown: frozenset[Key],
    known: Collection[Key],
    *,
    by_size: Callable[[Key], tuple[int, bool, SortKey]],
) -> list[Key]:
    """Check 3's cells to suppress for *leaks* (:func:`_bound_pick`)."""

    def candidate(cell: Key) -> bool:
        return cell in summary.counts and cell not in summary.suppressed and cell not in known

    def plain(cell: Key) -> bool:
        return candidate(cell) and cell not in summary.reserve

    # a plain cell for every leak no pick of this round is next to (each such pick re-runs
    # the summary's whole protection and every meeting's checks: about 25 a cycle)
    picks: list[Key] = []
    touched: set[int] = set()
    for leak in leaks:
        around = set(summary.groups_of.get(leak, ()))
        if around & touched:
            continue
        pick = widen(leak, summary.groups, summary.groups_of, by_size, plain, unknown.__contains__)
        if pick is not None and pick not in picks:
            picks.append(pick)
            touched |= around | set(summary.groups_of.get(pick, ()))
    if picks:
        return picks
    pick = _first(
        widen(leak, summary.groups, summary.groups_of, by_size, candidate, unknown.__contains__)
        for leak in leaks
    )
    if pick is None and leaks:
        pick = _beyond_sums(summary, leaks, unknown, plain, candidate, by_size=by_size)
    return [] if pick is None else [pick]


def _beyond_sums(  # noqa: PLR0913  the check's state, passed by _bound_pick alone
    summary: _Meeting,
    leaks: Sequence[Key],
    unknown: frozenset[Key],
    plain: Callable[[Key], bool],
    candidate: Callable[[Key], bool],
    *,
    by_size: Callable[[Key], tuple[int, bool, SortKey]],
) -> Key:
    """A cell to suppress for *leaks* no published cell shares a sum with: what pins them
    runs through the inequalities too (a cell at most its table's total, a table's item
    categories together at least it: a tiny forum, 150 cases, had every cell of CSP13
    hidden but an item category, whose global cell bounded the region totals from above).
    The nearest candidate through the sums and those links, plain first; else the smallest
    left anywhere (hiding more never determines more: the caller checks again)."""
    links = [*summary.groups, *bound_links(summary.counts)]
    index = _index(links)
    pick = _first(
        widen(leak, links, index, by_size, take, unknown.__contains__)
        for take in (plain, candidate)
        for leak in leaks
    )
    if pick is None:
        pick = min((c for c in summary.counts if plain(c)), key=by_size, default=None)
    if pick is None:
        pick = min((c for c in summary.counts if candidate(c)), key=by_size, default=None)
    if pick is None:
        cells = ", ".join("/".join(cell) for cell in leaks[:3])
        raise DisclosureError(
            f"summary cells ({cells}) are pinned by a region's documents with every other "
            "cell of the summary hidden or known to that region's meeting"
        )
    return pick


@dataclass(frozen=True, slots=True)
class _Meeting:
    """The summary as one check sees it: its suppressed cells, counts and sums (with their
    index), the regions whose cells it protects, the least values every reader reads off
    its reasons, and the cells check 3 takes last (:func:`reader_pick`)."""

    suppressed: frozenset[Key]
    counts: Mapping[Key, int]
    groups: Sequence[Group]
    groups_of: Mapping[Key, Sequence[int]]
    protected: Collection[str]
    floors: Mapping[Key, int]
    reserve: frozenset[Key]


def _pick(
    summary: _Meeting,
    required: set[Key],
    knows: set[Key],
    relations: Sequence[Mapping[Key, int]],
    *,
    by_size: Callable[[Key], tuple[int, bool, SortKey]],
) -> Key | None:
    """The next cell to suppress for one meeting that knows *knows* (checks 1 and 2 of the
    module docstring), or ``None``."""
    suppressed, counts, groups, groups_of = (
        summary.suppressed,
        summary.counts,
        summary.groups,
        summary.groups_of,
    )
    unknown = frozenset(suppressed - knows)

    def candidate(cell: Key) -> bool:
        return cell in counts and cell not in suppressed and cell not in knows

    # a global cell is a sum over regions: what it holds beyond this region's row is
    # the other regions' cells, each protected here; their sum alone may be known
    leaks = {
        cell
        for cell in determined_cells(unknown, groups, relations=relations)
        if cell[0] in summary.protected
    }
    pick = _first(
        widen(leak, groups, groups_of, by_size, candidate, unknown.__contains__)
        for leak in sorted(leaks, key=by_size)
    )
    if pick is not None:
        return pick
    if leaks:
        raise DisclosureError(
            "a summary cell follows from a region's documents and no cell can protect it"
        )
    targets = sorted(required & unknown)
    if not targets:
        return None
    given = _rank_onto(targets, frozenset(targets), [], {}, relations)
    found = _rank_onto(targets, unknown, groups, groups_of, relations)
    if found <= given:
        return None
    near = sorted(
        {c for t in targets for i in groups_of.get(t, ()) for c in groups[i].cells} - set(targets)
    )
    options = [c for c in near if candidate(c)]
    if options:
        return min(options, key=by_size)
    return _first(
        widen(cell, groups, groups_of, by_size, candidate, unknown.__contains__)
        for cell in sorted((c for c in near if c in unknown), key=by_size)
    )

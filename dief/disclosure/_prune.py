"""Publishing again the reserved cells a :func:`~dief.disclosure.protect` run hid but does
not need (issue #15: a total with k contributors is hidden only where publishing it is
provably unsafe; docs/audit.md, "Which totals stay hidden").

The search hides cells greedily: a reserved cell (a region-period's total with k
contributors, the top of a checklist) is taken only where no other candidate stops a leak,
but a cascade through the quarter, half and cycle sums, or the fallback to the nearest
reserved cell, hides totals that the cells hidden later protect without them. Once the
search has reached its fixed point, :func:`prune` tries each hidden reserved cell that is a
secondary suppression of this run, most worth keeping first (the run's *standing*, then the
largest count, then the run's fixed order): published again, with NOTHING else changed, it
must leave every check of the fixed point holding —

1. and 2. every group through it (the only groups whose state changes): no group with
   exactly one unknown (but a free one), no published marginal over hidden members forced
   to one;
3. no unknown newly determined by this issue's equations (:meth:`Elimination.determined_without`:
   the reduced equations with the cell a constant, read off the rows that name it);
   in a re-issue, none determined by both issues together (``break_joint``'s check, over
   the piece);
4. with ``bounds``, no unknown pinned by the equations and the least values, over the part
   of the system the cell reaches through unknown cells, groups and the bounds' links
   (elsewhere nothing a reader knows changes).

A candidate is tried with its *twins* (:func:`_classes`: the cells a group of one member
makes equal to it, such as a total and the one value its period lists of a dimension):
published alone, either would give the other away, so they are published together or not
at all, and checked together.

A cell that passes is published (and a constant in the reduced equations from then on);
one that fails stays hidden. So a reserved cell left hidden is one whose publication,
given everything else the issue publishes, would itself break a check: the "provably
unsafe" its digest states. Cells that are not candidates keep their status: primary,
free, unlisted and known cells, cells kept from an earlier issue and cells an earlier
issue published (a re-issue's reopened ones).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from dief.disclosure._choice import forced, least_value

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

    from dief.disclosure._search import _Search
    from dief.disclosure._suppression import Earlier, Group, Key, SortKey

__all__ = ["PRUNE_BY_DEFAULT", "prune"]

#: whether :func:`~dief.disclosure.protect` prunes when not told (``prune=None``). Off,
#: for its cost (session 14: a first issue's CPU +30 % at 10 years of the realistic forum,
#: 3.3x on 600 cases); the re-issue leak that also kept it off (a re-issue hid again cells
#: the reader of both issues links to the earlier issue) is gone since the cells of
#: unchanged tables (the attack suites pass pruned). docs/audit.md, "Which totals stay
#: hidden"
PRUNE_BY_DEFAULT = False


def prune(
    search: _Search,
    *,
    fixed: Collection[Key],
    both: Earlier | None,
    bounds: bool,
    order: Callable[[Key], tuple[int, int, SortKey]],
) -> list[Key]:
    """Publish again every reserved cell *search* hid, but those of *fixed* (primary, free,
    unlisted, known: not this run's secondary suppressions), that passes the checks of the
    module docstring, in *order*, each with its twins (:func:`_classes`); returns those
    published (the search's state updated: not hidden, constants of its reduced
    equations).

    Checks 1-3 (and the check on both issues) run cell by cell. Check 4 first runs on the
    part of the system near the cell (:func:`_pinned_nearby`: a reader who knows less, so
    what it pins the whole reader pins too, and the cell is refused), then once over the
    whole system for every cell published so far (one linear programme where they all
    pass); where that pins a cell, the first cell of the order whose publication does
    (bisected) is refused, the ones after it are hidden again and tried anew."""
    candidates = sorted((c for c in search.hidden & search.reserve if c not in fixed), key=order)
    queue = _classes(search, candidates, fixed)
    published: list[Key] = []
    # check 4 near each cell: a filter only (the check over the whole system decides). A
    # pass is kept; a refusal holds only while the classes published before it stay
    # published, so a round that hides some of them again asks again (issue #15: EEG's
    # 2024-05 total was refused for a pin through 2024-Q1's total, hidden again after)
    nearby: dict[Key, bool] = {}
    while queue:
        pending = [
            twins
            for twins in queue
            if all(c in search.hidden for c in twins)
            and _safe_to_publish(search, twins, both=both, nearby=nearby if bounds else None)
        ]
        bad = _first_unsafe(search, pending) if bounds and pending else None
        if bad is None:
            published.extend(c for twins in pending for c in twins)
            break
        for twins in pending[bad:]:
            for cell in twins:
                search.hide(cell)
        published.extend(c for twins in pending[:bad] for c in twins)
        queue = queue[queue.index(pending[bad]) + 1 :]
        nearby = {cell: pinned for cell, pinned in nearby.items() if not pinned}
    return published


def _classes(
    search: _Search, ordered: Sequence[Key], fixed: Collection[Key]
) -> list[tuple[Key, ...]]:
    """*ordered* in classes of twins, in the order of each class's first cell: cells that
    a group of one member makes equal (a total and the sole value of a dimension: the
    reader knows one from the other), hidden both, are published together or not at all
    (one alone would give the other away, so each alone always fails check 1). A twin
    joins the class if it is a hidden secondary suppression of this run (not in *fixed*:
    primary, free, unlisted, known, kept); one in *fixed* keeps the class hidden (check 1
    fails)."""
    done: set[Key] = set()
    out: list[tuple[Key, ...]] = []
    for cell in ordered:
        if cell in done:
            continue
        twins = [cell]
        done.add(cell)
        todo = [cell]
        while todo:
            for i in search.groups_of.get(todo.pop(), ()):
                group = search.live[i]
                if len(group.members) != 1:
                    continue
                for other in group.cells:
                    if other not in done and other in search.hidden and other not in fixed:
                        done.add(other)
                        twins.append(other)
                        todo.append(other)
        out.append(tuple(twins))
    return out


def _safe_to_publish(
    search: _Search,
    twins: Sequence[Key],
    *,
    both: Earlier | None,
    nearby: dict[Key, bool] | None,
) -> bool:
    """Publish *twins* (a class of :func:`_classes`) if, with everything else as it is,
    checks 1-3 (and the check on both issues) hold and, with *nearby* (check 4's results
    near each cell, as first found), check 4 near each; else leave the search's state as
    it was. Returns whether they were published."""
    accepted = search.given | search.free
    done: list[Key] = []
    try:
        for cell in twins:
            # check 3: what the cell, a constant, determines (its twins are published too)
            if search.elimination.determined_without(cell) - accepted - set(twins):
                return False
            search.hidden.discard(cell)
            search.hidden_totals.discard(cell)
            search.elimination.forget(cell)
            done.append(cell)
        groups = {i for cell in twins for i in search.groups_of.get(cell, ())}
        if any(_leaks(search, search.live[i]) for i in sorted(groups)):
            return False
        if both is not None and _joint_leaks(search, both):
            return False
        if nearby is not None:
            for cell in twins:
                if cell not in nearby:
                    nearby[cell] = _pinned_nearby(search, cell)
                if nearby[cell]:
                    return False
        done.clear()
        return True
    finally:
        for cell in done:
            search.hide(cell)


def _first_unsafe(search: _Search, pending: Sequence[tuple[Key, ...]]) -> int | None:
    """Check 4 over the whole system with every class of *pending* published (the
    search's state): ``None`` if nothing is pinned, else the position in *pending* of a
    class whose publication, after the ones before it, pins a cell (bisected: with the
    classes before it published nothing is, with it too something is)."""

    def pins(count: int) -> bool:
        later = {c for twins in pending[count:] for c in twins}
        unknown = {c for c in search.hidden if c not in search.known} | later
        return bool(_pinned(search, unknown, search.live, search.counts))

    if not pins(len(pending)):
        return None
    # nothing pinned with low published, something with high; the first cells are the
    # largest (a half's, a window's total), where such a pin was found most: doubling first
    low, high = 0, 1
    while high < len(pending) and not pins(high):
        low, high = high, min(2 * high, len(pending))
    while high - low > 1:
        middle = (low + high) // 2
        if pins(middle):
            high = middle
        else:
            low = middle
    return low


def _pinned(
    search: _Search,
    unknown: Collection[Key],
    groups: Sequence[Group],
    counts: Mapping[Key, int],
    relations: Sequence[Mapping[Key, int]] | None = None,
) -> set[Key]:
    """The cells of *unknown* a reader of *groups*, *relations* (default: the search's),
    the bounds and every other cell of *counts* pins, ``given`` and ``free`` aside."""
    from dief.disclosure._bounds import pinned_cells  # noqa: PLC0415  it imports _suppression, which imports _search

    ignore = search.given | search.free
    if groups is search.live and relations is None and counts is search.counts:
        # the run's own system: its parts no publication changed are not solved again
        found = search.check4.pinned(unknown, unlisted=search.unlisted, ignore=ignore)
        return found - ignore
    found = pinned_cells(
        counts,
        unknown,
        groups,
        relations=search.relations if relations is None else relations,
        unlisted=search.unlisted,
        ignore=ignore,
        floors=search.floors,
    )
    return found - ignore


def _leaks(search: _Search, group: Group) -> bool:
    """Checks 1 and 2 of one group (:func:`~dief.disclosure._choice.fix_group`'s tests,
    without a choice): one unknown cell (but a free one), or a published marginal over
    hidden members forced to their least values (:func:`~dief.disclosure._choice.forced`)."""
    hidden_cells = [c for c in group.cells if search.unknown(c)]
    if not hidden_cells:
        return False
    if len(set(hidden_cells)) == 1:
        return hidden_cells[0] not in search.free
    if search.unknown(group.marginal):
        return False
    members = [c for c in group.members if search.unknown(c)]
    return forced(
        members,
        search.counts,
        search.free,
        lambda c: least_value(c, search.unlisted, search.floors),
    )


def _joint_leaks(search: _Search, both: Earlier) -> bool:
    """``break_joint``'s check (check 3 on both issues together) with the current state."""
    from dief.disclosure._suppression import determined_cells  # noqa: PLC0415  it imports _search, which imports this module

    both = dataclasses.replace(both, unchanged=both.unchanged & frozenset(search.known))
    found = determined_cells(search.hidden, search.live, earlier=both, relations=search.relations)
    return bool(found - search.left - search.free)


#: how many steps through unknown cells the part of the system near a cell reaches, where
#: check 4 runs on each cell the pruning tries (:func:`_pinned_nearby`)
NEAR = 3


def _pinned_nearby(search: _Search, cell: Key) -> bool:
    """Check 4 for a reader who knows only the part of the system near *cell* (the unknown
    cells :data:`NEAR` steps away through groups, relations and the bounds' links, closed
    under a table's item categories): every equation and bound naming an unknown cell
    further out is dropped. That reader knows less than the whole one, so a cell it pins
    the whole reader pins too (the cell is refused at once); one it does not pin still
    waits for the check over the whole system (:func:`_first_unsafe`)."""
    linked, linked_of = search.bound_links()
    near = _near(cell, search.unknown, [(search.live, search.groups_of), (linked, linked_of)])
    for group in linked:
        # a table's item categories together: a bound over part of them is no bound
        if len(group.members) > 1 and any(c in near for c in group.cells):
            near.update(c for c in group.cells if search.unknown(c))
    unknown = near - {cell}
    if not unknown:
        return False

    def inside(cells: Iterable[Key]) -> bool:
        return all(c in near or not search.unknown(c) for c in cells)

    counts = {k: v for k, v in search.counts.items() if k in near or not search.unknown(k)}
    seen = {i for c in near for i in search.groups_of.get(c, ())}
    groups = [search.live[i] for i in sorted(seen) if inside(search.live[i].cells)]
    relations = [r for r in search.relations if any(c in near for c in r) and inside(r)]
    return bool(_pinned(search, unknown, groups, counts, relations))


def _near(
    start: Key,
    unknown: Callable[[Key], bool],
    indexed: Sequence[tuple[Sequence[Group], Mapping[Key, Sequence[int]]]],
) -> set[Key]:
    """The unknown cells at most :data:`NEAR` steps from *start* (itself included) through
    the groups of every indexed group list, a group's unknown cells taken together."""
    seen = {start}
    frontier = [start]
    for _ in range(NEAR):
        reached: list[Key] = []
        around = (g[i].cells for key in frontier for g, of in indexed for i in of.get(key, ()))
        for cells in around:
            for other in cells:
                if other not in seen and unknown(other):
                    seen.add(other)
                    reached.append(other)
        frontier = reached
    return seen

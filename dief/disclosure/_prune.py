"""Publishing again the reserved cells a :func:`~dief.disclosure.protect` run hid but does
not need (issue #15: a total with k contributors is hidden only where publishing it is
provably unsafe; docs/audit.md, "Which totals stay hidden").

The search hides cells greedily: a reserved cell (a region-period's total with k
contributors, the top of a checklist) is taken only where no other candidate stops a leak,
but a cascade through the quarter, half and cycle sums, or the fallback to the nearest
reserved cell, hides totals that the cells hidden later protect without them. Once the
search has reached its fixed point, :func:`prune` tries each hidden reserved *total* that
is a secondary suppression of this run (the issue's promise is about totals; a checklist's
top entries are not tried), most worth keeping first (the run's *standing*, then the
largest count, then the run's fixed order): published again, with everything published
before it and NOTHING else changed, it must leave every check of the fixed point holding —

1. and 2. every group through it (the only groups whose state changes): no group with
   exactly one unknown (but a free one), no published marginal over hidden members forced
   to one;
3. no unknown newly determined by this issue's equations (:meth:`Elimination.determined_without`:
   the reduced equations with the cell a constant, read off the rows that name it);
   in a re-issue, none determined by both issues together (``break_joint``'s check, over
   the piece);
4. with ``bounds``, no unknown pinned by the equations and the least values, over the
   whole system: its linear programme and the reduced equations with its implicit
   equalities are kept from one candidate to the next
   (:class:`~dief.disclosure._kept.KeptCheck4`; session 16, instead of a filter on the
   part near the cell and a bisected check over the whole system).

A candidate is tried with its *twins* (:func:`_classes`: the cells a group of one member
makes equal to it, such as a total and the one value its period lists of a dimension):
published alone, either would give the other away, so they are published together or not
at all, and checked together.

A cell that passes is published (and a constant in the reduced equations from then on);
one that fails stays hidden, with the cells its publication would expose. A later
publication only adds to what a reader knows, but it takes its cells out of what must be
protected: a class refused for exposing cells that are all published since is tried
again, in passes until none is (while one of them is hidden, it would fail again: what the
checks expose stays exposed as more is published). So a total left hidden is one whose
publication, given everything else the issue publishes, would itself break a check: the
"provably unsafe" its digest states (and the independent audit agrees at realistic volume:
``tests/integration/test_utility.py``).
Cells that are not candidates keep their status: primary, free, unlisted and known cells,
cells kept from an earlier issue and cells an earlier issue published (a re-issue's
reopened ones).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.disclosure._choice import forced, least_value
from dief.disclosure._kept import KeptCheck4

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence

    from dief.disclosure._search import _Search
    from dief.disclosure._suppression import Earlier, Group, Key, SortKey

__all__ = ["PRUNE_BY_DEFAULT", "prune"]

#: whether :func:`~dief.disclosure.protect` prunes when not told (``prune=None``). On since
#: session 16 (check 4 kept across the candidates): without it, hidden totals the audit
#: shows safe to publish say "provably unsafe". Its cost at 10 years (the 2x bound missed)
#: is in docs/audit.md, "Which totals stay hidden"
PRUNE_BY_DEFAULT = True


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

    Each class is checked against everything published before it. A publication only
    adds to what a reader knows, but it also takes a cell out of what must be protected:
    a class refused for exposing cells that are all published later is tried again
    (passes until none is). While one of them stays hidden the refusal stands, since a
    cell the checks expose stays exposed as more is published (what a reader knows only
    grows, and each check's cells exempt, given and free, are fixed): trying it again
    could only fail.

    Checks 1-3 (and the check on both issues) run first; with *bounds*, check 4 over the
    whole system, kept in HiGHS across the candidates
    (:class:`~dief.disclosure._kept.KeptCheck4`), or asked of the search's
    :class:`~dief.disclosure._bounds.BoundSystem` where that cannot be kept."""
    candidates = sorted(
        (c for c in search.hidden & search.reserve if c[1:] == TOTAL and c not in fixed), key=order
    )
    queue = _classes(search, candidates, fixed)
    kept = KeptCheck4.start(search) if bounds and queue else None
    published: list[Key] = []
    # refused classes, each with the cells its publication exposed: a refusal stands while
    # one of them stays hidden
    refused: list[tuple[tuple[Key, ...], frozenset[Key]]] = []
    while queue:
        for twins in queue:
            if not all(c in search.hidden for c in twins):
                continue
            exposed = _attempt(search, twins, both=both, bounds=bounds, kept=kept)
            if exposed is None:
                published.extend(twins)
            else:
                refused.append((twins, exposed))
        # every cell a refusal exposed published since: try that class again
        again = [bool(cells) and cells.isdisjoint(search.hidden) for _, cells in refused]
        queue = [twins for (twins, _), retry in zip(refused, again, strict=True) if retry]
        refused = [r for r, retry in zip(refused, again, strict=True) if not retry]
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


def _attempt(
    search: _Search,
    twins: Sequence[Key],
    *,
    both: Earlier | None,
    bounds: bool,
    kept: KeptCheck4 | None,
) -> frozenset[Key] | None:
    """Publish *twins* (a class of :func:`_classes`) if, with everything else as it is,
    checks 1-3 (and the check on both issues) hold and, with *bounds*, check 4 (*kept*,
    else the search's own); else leave the search's state (and *kept*'s) as it was.
    Returns ``None`` where they were published, else the cells their publication exposes
    (determined, pinned, or alone in a group; none named for the check on both issues)."""
    accepted = search.given | search.free
    done: list[Key] = []
    try:
        for n, cell in enumerate(twins, start=1):
            # check 3: what the cell, a constant, determines (its twins are published too)
            exposed = search.elimination.determined_without(cell) - accepted - set(twins)
            if exposed:
                return frozenset(exposed)
            search.hidden.discard(cell)
            search.hidden_totals.discard(cell)
            done.append(cell)
            if n < len(twins):
                # the next twin's check 3 reads this one published; the last one is made a
                # constant once the class is accepted (the other checks do not read these
                # equations, and a refusal then has nothing to undo in them)
                search.elimination.forget(cell)
        groups = {i for cell in twins for i in search.groups_of.get(cell, ())}
        for i in sorted(groups):
            if _leaks(search, search.live[i]):
                return frozenset(c for c in search.live[i].cells if search.unknown(c))
        if both is not None and _joint_leaks(search, both):
            return frozenset()
        pinned = _pinned(search, twins, kept) if bounds else set()
        if pinned:
            return frozenset(pinned)
        search.elimination.forget(twins[-1])
        done.clear()
        return None
    finally:
        for cell in done:
            search.hide(cell)  # an unknown of the reduced equations again (a no-op if one)


def _pinned(search: _Search, twins: Sequence[Key], kept: KeptCheck4 | None) -> set[Key]:
    """Check 4 with *twins* published (the search's state): the unknowns (but given and
    free cells) pinned. *kept* takes them as known where none is."""
    if kept is None:
        unknown = {c for c in search.hidden if c not in search.known}
        ignore = search.given | search.free
        return search.check4.pinned(unknown, unlisted=search.unlisted, ignore=ignore) - ignore
    return kept.publish(twins)


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

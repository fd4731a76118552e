"""Which cell a secondary suppression takes (:func:`dief.disclosure.protect`).

- :func:`fix_group` — checks 1 and 2 of one group: the cell that stops it leaking;
- :func:`source_pick` — check 3 with ``exact_widen``: one of the cells a determined cell
  is computed from;
- :func:`widen` — check 3 otherwise: a cell of the groups around a determined cell.

Each takes the smallest candidate by the run's ``by_size`` order (size, preference, a fixed
tie-break), so the choice is deterministic. Where every candidate of a group is reserved
(:func:`first_choice`), a first issue takes the one of least :func:`spend_key` instead:
the least worth keeping (a half's or cycle's total stands above a month's or quarter's),
then the hide that closes the most sums and opens the fewest — by size alone a month's
total went first, and the sums over quarters, halves and the cycle cascaded.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # dief.disclosure._search (of _suppression) imports the choices from here
    from dief.disclosure._suppression import Group, Key, SortKey

__all__ = [
    "BySize",
    "Spend",
    "Walk",
    "WalkMemo",
    "first_choice",
    "fix_group",
    "forced",
    "least_value",
    "source_pick",
    "spend_key",
    "walk",
    "widen",
]

#: the order secondary suppressions are chosen in: (size, not preferred, tie-break)
BySize = Callable[["Key"], "tuple[int, bool, SortKey]"]
#: the order a choice among reserved candidates only is made in: (standing — how much the
#: cell is worth keeping —, minus the groups its hide closes, the groups it opens, then
#: :data:`BySize`)
Spend = Callable[["Key"], "tuple[int, int, int, tuple[int, bool, SortKey]]"]


def first_choice(
    members: Sequence[Key],
    marginal: Key | None,
    order: BySize,
    reserved: Collection[Key],
    spend: Spend | None = None,
) -> Key | None:
    """The cell to take among a group's candidate *members* (sorted by *order*) and its
    *marginal* (``None``: not a candidate): the smallest member, else the marginal, each
    not *reserved*; only when every candidate is reserved, the first of them (member or
    marginal) by *spend* (default: *order*) — the least worth keeping, then the one whose
    hide closes the most other sums and opens the fewest, then the smallest: a choice by
    size alone takes a month's total before the cycle's, and every sum a hide opens asks
    for another."""
    plain = [m for m in members if m not in reserved]
    if plain:
        return plain[0]
    if marginal is not None and marginal not in reserved:
        return marginal
    rest = [*members, *([marginal] if marginal is not None else [])]
    if not rest:
        return None
    return min(rest, key=spend) if spend is not None else min(rest, key=order)


def spend_key(  # noqa: PLR0913, PLR0917  the search's state, passed by _Search.spend alone
    cell: Key,
    groups: Sequence[Group],
    groups_of: Mapping[Key, Sequence[int]],
    unknown: Callable[[Key], bool],
    order: BySize,
    standing: Callable[[Key], int] | None = None,
) -> tuple[int, int, int, tuple[int, bool, SortKey]]:
    """The :data:`Spend` of hiding *cell*: its *standing* (default 0), minus how many of
    its *groups* (indexed by *groups_of*) with one *unknown* cell its hide closes, how many
    without an unknown it opens (each asks for another hide), then *order*."""
    opened = closed = 0
    for i in groups_of.get(cell, ()):
        unknowns = sum(1 for c in groups[i].cells if unknown(c))
        if unknowns == 0:
            opened += 1
        elif unknowns == 1:
            closed += 1
    return (standing(cell) if standing is not None else 0, -closed, opened, order(cell))


def least_value(
    cell: Key, unlisted: Collection[Key], floors: Mapping[Key, int] | None = None
) -> int:
    """The least count a reader knows a hidden *cell* has: its *floor* (read off its stated
    reason, k for a cell hidden for protection), else 1 for a listed cell and 0 for one no
    document lists."""
    if floors and cell in floors:
        return floors[cell]
    return 0 if cell in unlisted else 1


def forced(
    members: Sequence[Key],
    counts: Mapping[Key, int],
    free: Collection[Key],
    least: Callable[[Key], int],
) -> bool:
    """Check 2 of a group with a published marginal: its hidden *members*' least values add
    up to what the marginal leaves them (their counts' sum), so each is pinned at its least
    (unless every one of them is *free*)."""
    lowest = sum(least(c) for c in members)
    guarded = any(c not in free for c in members)
    return guarded and lowest > 0 and sum(counts[c] for c in members) <= lowest


def fix_group(  # noqa: PLR0913, PLR0917  the search's state, passed by _Search.settle alone
    group: Group,
    hidden: set[Key],
    known: Collection[Key],
    counts: Mapping[Key, int],
    order: BySize,
    free: Collection[Key] = frozenset(),
    unlisted: Collection[Key] = frozenset(),
    reserved: Collection[Key] = frozenset(),
    spend: Spend | None = None,
    floors: Mapping[Key, int] | None = None,
) -> Key | None:
    """The cell to suppress next so that *group* leaks nothing, or ``None`` if it is safe
    (or nothing in it can help). A *known* cell counts as published and is never taken.

    A *free* cell is an unknown the reader may compute (it needs no protection of its own):
    a group whose only unknown is free leaks nothing.
    *unlisted* cells are unknowns whose least value is 0, not 1 (a cell no document lists,
    such as the TLP:RED part of a cell): they do not count towards members forced to one.
    *reserved* cells (totals with k contributors) are taken only when nothing else in the
    group can stop the leak, and then first by *spend* (:func:`first_choice`).
    *floors*: the least count a reader reads off a hidden cell's stated reason (k of its
    table for a cell of at least k contributors, hidden for protection); 1 for any other
    listed cell."""
    least = functools.partial(least_value, unlisted=unlisted, floors=floors)

    def unseen(cell: Key) -> bool:
        return cell in hidden and cell not in known

    def candidate(cell: Key) -> bool:
        return cell not in hidden and cell not in known

    hidden_cells = [c for c in group.cells if unseen(c)]
    if not hidden_cells:
        return None
    open_members = sorted((c for c in group.members if candidate(c)), key=order)
    if len(hidden_cells) == 1:
        if hidden_cells[0] in free:
            return None
        return first_choice(
            open_members,
            group.marginal if candidate(group.marginal) else None,
            order,
            reserved,
            spend,
        )
    if not unseen(group.marginal):
        hidden_members = [c for c in group.members if unseen(c)]
        if forced(hidden_members, counts, free, least):
            # a member hidden too frees them only if it may count more than its least
            bigger = [c for c in open_members if counts[c] > max(least(c), 1)]
            pick = first_choice(
                bigger,
                group.marginal if candidate(group.marginal) else None,
                order,
                reserved,
                spend,
            )
            if pick is not None:
                return pick
            if group.marginal not in hidden:
                # known (an earlier issue published it with the count it has now): a
                # reader who knows what changed pins the members whatever is done, one
                # who does not is protected by hiding it
                return group.marginal
    return None


def source_pick(
    sources: Sequence[tuple[Key, bool]],
    by_size: BySize,
    candidate: Callable[[Key], bool],
    reserved: Collection[Key] = frozenset(),
) -> Key | None:
    """The cell to suppress for a determined cell computed from *sources*: the smallest
    that undetermines it alone, else the smallest of them (another follows next round);
    *reserved* cells only when no other source is a candidate."""
    if reserved:
        pick = source_pick(sources, by_size, lambda c: candidate(c) and c not in reserved)
        if pick is not None:
            return pick
    breakers = [c for c, alone in sources if alone and candidate(c)]
    if breakers:
        return min(breakers, key=by_size)
    others = [c for c, _ in sources if candidate(c)]
    return min(others, key=by_size) if others else None


def widen(  # noqa: PLR0913, PLR0917  the search's state, passed by _Search alone
    leak: Key,
    groups: Sequence[Group],
    groups_of: Mapping[Key, Sequence[int]],
    by_size: BySize,
    candidate: Callable[[Key], bool],
    unknown: Callable[[Key], bool],
    dead: set[Key] | None = None,
) -> Key | None:
    """A published cell to suppress so that *leak* may stop being determined (every
    *candidate* is a cell not *unknown*).

    The smallest candidate member of a group holding *leak*, else such a marginal; when
    no cell of those groups is a candidate, the same one step further out, through the
    suppressed cells (the leak is then determined by a chain of groups). *groups_of* is
    the index of *groups* by cell.

    *dead* (kept by a caller across calls while candidates only shrink and every cell
    hidden meanwhile was a candidate) collects the cells from which no candidate can be
    reached: a walk that found none visited the whole linked set of unknown cells, and any
    of them would walk the same set. Without it, a region where nearly every cell is hidden
    walks its whole history once per leak.
    """
    if dead is not None and leak in dead:
        return None
    found = walk(leak, groups, groups_of, candidate, unknown)
    if isinstance(found, Walk):
        return found.pick(by_size)
    if dead is not None:
        dead.update(found)
    return None


@dataclass(frozen=True, slots=True)
class Walk:
    """What :func:`walk` found: the candidate members and marginals of the groups of the
    step that had some, and the step at which each cell was judged before (so a caller
    can tell whether a later state would walk the same way up to that step)."""

    members: frozenset[Key]
    marginals: frozenset[Key]
    step: int
    judged: Mapping[Key, int]

    def pick(self, by_size: BySize, gone: Callable[[Key], bool] | None = None) -> Key | None:
        """:func:`widen`'s choice: the smallest member, else the smallest marginal (*gone*:
        cells no longer candidates, left out; ``None`` when none is left)."""
        for pool in (self.members, self.marginals):
            left = [c for c in pool if gone is None or not gone(c)]
            if left:
                return min(left, key=by_size)
        return None

    def holds_after(self, changed: Iterable[Key]) -> bool:
        """Whether a walk from the same cell would reach this step the same way after
        *changed* cells became unknown (nothing else changed but candidates lost): none of
        them was judged before this step (one judged at it is walked on from only at the
        next), so the earlier steps find nothing and this step's groups are the same."""
        return all(self.judged.get(cell, self.step) >= self.step for cell in changed)


class WalkMemo:
    """:func:`widen` for one search's walks over the same groups with the same candidates,
    each walk from a leak resumed where the last one from it stopped while that holds
    (:meth:`Walk.holds_after`). Check 3 walks from a leak none of whose sources is plain
    again and again while the cells it finds are hidden one by one (up to 416 times for one
    leak of a region at 10 years), and the cells hidden meanwhile are seldom judged before
    the step that found them. The same choice as a fresh walk: the earlier steps still find
    nothing, that step's groups are the same and its candidates are the ones left. The
    search reports every cell it hides (:meth:`hidden`)."""

    __slots__ = ("_log", "_walks")

    def __init__(self) -> None:
        self._log: list[Key] = []
        self._walks: dict[Key, tuple[Walk, int]] = {}

    def hidden(self, cell: Key) -> None:
        """*cell* is hidden now (an unknown, or a candidate no more)."""
        self._log.append(cell)

    def widen(  # noqa: PLR0913, PLR0917  widen's arguments
        self,
        leak: Key,
        groups: Sequence[Group],
        groups_of: Mapping[Key, Sequence[int]],
        by_size: BySize,
        candidate: Callable[[Key], bool],
        unknown: Callable[[Key], bool],
    ) -> Key | None:
        """:func:`widen` from *leak* (always over the same *groups* and *candidate*)."""
        kept = self._walks.get(leak)
        if kept is not None:
            found, seen = kept
            if found.holds_after(self._log[seen:]):
                pick = found.pick(by_size, lambda c: not candidate(c))
                if pick is not None:
                    self._walks[leak] = (found, len(self._log))
                    return pick
        result = walk(leak, groups, groups_of, candidate, unknown)
        if not isinstance(result, Walk):
            self._walks.pop(leak, None)
            return None
        self._walks[leak] = (result, len(self._log))
        return result.pick(by_size)


def walk(
    leak: Key,
    groups: Sequence[Group],
    groups_of: Mapping[Key, Sequence[int]],
    candidate: Callable[[Key], bool],
    unknown: Callable[[Key], bool],
) -> Walk | list[Key]:
    """:func:`widen`'s walk: the first step whose groups hold a candidate (a
    :class:`Walk`), else every unknown cell visited (no candidate is reachable)."""
    # every cell is judged once: a candidate ends the walk at its step; any other is
    # *passed* (with its step), and walked on from if unknown (the leak is judged like any
    # other cell)
    passed: dict[Key, int] = {}
    visited = [leak]
    frontier = [leak]
    # a group walked through at an earlier step had no candidate (the walk would have
    # stopped there) and its unknown cells are reached: passing it again changes nothing
    walked: set[int] = set()
    step = 0
    while frontier:
        step += 1
        near = {i for cell in frontier for i in groups_of.get(cell, ())} - walked
        walked |= near
        members, marginals, reached = _step(
            [groups[i] for i in near], passed, step, candidate, unknown
        )
        if members or marginals:
            return Walk(frozenset(members), frozenset(marginals), step, passed)
        visited.extend(reached)
        frontier = reached
    return visited


def _step(
    near: Iterable[Group],
    passed: dict[Key, int],
    step: int,
    candidate: Callable[[Key], bool],
    unknown: Callable[[Key], bool],
) -> tuple[set[Key], set[Key], list[Key]]:
    """One step (*step*) of :func:`walk` through the groups *near* it: their candidate
    members and marginals, and the unknown cells reached (each cell not *passed* yet
    judged once, and passed, with the step, unless a candidate)."""
    members: set[Key] = set()
    marginals: set[Key] = set()
    reached: list[Key] = []
    for group in near:
        # its members first, then its marginal: the order the walk judged them in; an
        # unknown cell is never a candidate (every caller's candidates are published)
        for cells, pool in ((group.members, members), ((group.marginal,), marginals)):
            for cell in cells:
                if cell in passed:
                    continue
                if unknown(cell):
                    passed[cell] = step
                    reached.append(cell)
                elif candidate(cell):
                    pool.add(cell)
                else:
                    passed[cell] = step
    return members, marginals, reached

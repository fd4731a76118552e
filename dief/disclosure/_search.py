"""The search of one :func:`~dief.disclosure.protect` run (DESIGN §7 disclosure control).

:class:`_Search` holds a run's state (the cells hidden so far, the reduced equations, the
groups still to check) and its steps: checks 1 and 2 to a fixed point
(:meth:`_Search.settle`), check 3 on this issue (:meth:`_Search.break_determined`) and on
both issues of a re-issue (:meth:`_Search.break_joint`), check 4
(:meth:`_Search.break_bounds`), and hiding again a cell taken as given
(:meth:`_Search.reopen`). What the checks are and why they suffice:
:mod:`dief.disclosure._suppression`.
"""

from __future__ import annotations

import dataclasses
import heapq
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.disclosure._choice import WalkMemo, fix_group, source_pick, spend_key, widen
from dief.disclosure._elimination import Elimination
from dief.exceptions import UnprotectedCellError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from dief.disclosure._choice import BySize
    from dief.disclosure._suppression import Earlier, Group, Key, SortKey, _Reissue

#: how many cells of the bounds around a pinned cell check 4 tries (one linear programme
#: each) before it takes the leak as one nothing but cells taken as given can stop
BOUND_TRIES = 4

#: after how many plain cells check 4's walk hid for one leak still pinned it first asks
#: whether plain cells can free it at all (:meth:`_Search._past_plain`); then again at
#: twice as many, four times, ... (a power of two: the question costs a linear programme
#: over the leak's whole part)
WIDEN_TRIES = 4


class _Search:
    """The state of one :func:`protect` run and its steps.

    ``hidden``: every suppressed cell so far (``hidden_totals``: those that are a
    table's total); ``elimination``: the equations over every listed cell, kept reduced
    while cells are hidden (check 3 costs one pivot step per new suppression; check 4's
    step 2 reads it too, :meth:`pinned`); ``dirty``: the positions of the groups to pass
    through :func:`fix_group` again; ``given``: determined cells that are public already
    (the earlier issue gave them away, or they follow from cells it published);
    ``left``: leaks of check 3 on both issues that no published cell can break.
    """

    __slots__ = (
        "by_size",
        "check4",
        "counts",
        "dirty",
        "elimination",
        "floors",
        "free",
        "given",
        "groups_of",
        "hidden",
        "hidden_totals",
        "known",
        "left",
        "links",
        "live",
        "public",
        "relations",
        "relisted",
        "reserve",
        "standing",
        "traced",
        "traced_of",
        "unlisted",
        "walks",
        "widened",
    )

    def __init__(  # noqa: PLR0913  the run's state, from protect's options
        self,
        counts: Mapping[Key, int],
        live: list[Group],
        hidden: frozenset[Key],
        reissue: _Reissue,
        *,
        by_size: BySize,
        rank: Callable[[Key], SortKey],
        free: frozenset[Key] = frozenset(),
        relations: Sequence[Mapping[Key, int]] = (),
        unlisted: frozenset[Key] = frozenset(),
        reserve: frozenset[Key] = frozenset(),
        standing: Callable[[Key], int] | None = None,
        relisted: frozenset[Key] | None = None,
        public: frozenset[Key] = frozenset(),
        floors: Mapping[Key, int] | None = None,
    ) -> None:
        self.counts = counts
        # a hidden cell's least count read off its stated reason (k: hidden for protection)
        self.floors: Mapping[Key, int] = floors or {}
        # None: a first issue; else the cells an earlier issue listed
        self.relisted = relisted
        self.public = public
        self.links: tuple[list[Group], dict[Key, list[int]]] | None = None
        from dief.disclosure._bounds import BoundSystem  # noqa: PLC0415  it imports _suppression, which imports this module

        # check 4 over this run's system, kept across rounds: a part no suppression
        # changed is not solved again
        self.check4 = BoundSystem(counts, live, relations=relations, floors=self.floors)
        self.standing = standing
        self.unlisted = unlisted
        self.reserve = reserve
        self.free = free
        self.relations = relations
        self.live = live
        self.hidden = set(hidden)
        # the hidden region-period totals (the totals plan asks every round)
        self.hidden_totals = {c for c in hidden if c[1:] == TOTAL}
        self.known = set(reissue.known)
        self.by_size = by_size
        self.given = set(reissue.given)
        self.left = set(reissue.given)
        self.elimination: Elimination[Key] = Elimination(
            [*(g.equation() for g in live), *relations]
        )
        for cell in sorted(self.hidden - self.known, key=rank):
            self.elimination.add(cell)
        self.groups_of = _index(live)
        self.traced = reissue.traced
        self.traced_of = self.groups_of if reissue.traced is live else _index(reissue.traced)
        self.dirty: set[int] = set(range(len(live)))
        # check 3's walks among the plain candidates, resumed while they hold
        self.walks = WalkMemo()
        # check 4: how many cells its walk hid for each leak (:meth:`break_bounds`)
        self.widened: dict[Key, int] = {}

    def candidate(self, cell: Key) -> bool:
        """A listed cell that may still be taken as a secondary suppression."""
        return cell in self.counts and cell not in self.hidden and cell not in self.known

    def plain(self, cell: Key) -> bool:
        """A candidate that is not reserved."""
        return (
            cell in self.counts
            and cell not in self.hidden
            and cell not in self.known
            and cell not in self.reserve
        )

    def widen(
        self,
        leak: Key,
        groups: Sequence[Group] | None = None,
        groups_of: Mapping[Key, Sequence[int]] | None = None,
        dead: tuple[set[Key], set[Key]] | None = None,
    ) -> Key | None:
        """:func:`widen` among the plain candidates first, then among every candidate
        (*dead*: the two walks' dead sets)."""
        groups = self.live if groups is None else groups
        groups_of = self.groups_of if groups_of is None else groups_of
        first, second = dead if dead is not None else (None, None)
        if self.reserve:
            pick = widen(leak, groups, groups_of, self.by_size, self.plain, self.unknown, first)
            if pick is not None:
                return pick
        return widen(leak, groups, groups_of, self.by_size, self.candidate, self.unknown, second)

    def spend(self, cell: Key) -> tuple[int, int, int, tuple[int, bool, SortKey]]:
        """The order a choice among reserved candidates only is made in
        (:func:`dief.disclosure._choice.spend_key`)."""
        return spend_key(cell, self.live, self.groups_of, self.unknown, self.by_size, self.standing)

    def unknown(self, cell: Key) -> bool:
        """A suppressed cell whose count the reader does not know."""
        return cell in self.hidden and cell not in self.known

    def hide(self, cell: Key) -> None:
        """Suppress *cell*; unless known, it becomes an unknown of the reduced equations."""
        self.hidden.add(cell)
        if cell[1:] == TOTAL:
            self.hidden_totals.add(cell)
        self.walks.hidden(cell)
        if cell not in self.known:
            self.elimination.add(cell)

    def must_reopen(self, group: Group) -> bool:
        """Whether :func:`fix_group`'s last resort for *group* — its marginal, a cell taken
        as given — must be hidden again: never a cell known from another document
        (``public``); a cell the earlier issue published with the count it has now only
        where the group still leaks for a reader of both issues, who takes the cells the
        earlier issue listed at least 0 (``relisted``)."""
        if group.marginal in self.public:
            return False
        floor0 = self.unlisted | (self.relisted or frozenset())
        again = fix_group(
            group,
            self.hidden,
            self.known,
            self.counts,
            self.by_size,
            self.free,
            floor0,
            self.reserve,
            floors=self.floors,
        )
        return again is not None

    def reopen(self, cell: Key) -> None:
        """Hide a cell taken as given (the earlier issue published it with the count it has
        now) again, as a full unknown of every check: the last resort where nothing else
        stops a real leak of a cell that changed or became primary
        (:mod:`dief.disclosure._suppression`, "Cells published earlier"). Never
        half-hidden: hidden in the document but counted as published by the checks, it
        would protect nothing and be given away itself."""
        self.known.discard(cell)
        self.hide_and_recheck(cell)

    def hide_and_recheck(self, cell: Key) -> None:
        """Suppress *cell* and queue every group through it for the next :meth:`settle`."""
        self.hide(cell)
        self.dirty.update(self.groups_of.get(cell, ()))

    def settle(self) -> None:
        """Checks 1 and 2: every group through :func:`fix_group` to a fixed point, pass
        after pass in their order (a group none of whose cells changed since it last passed
        is skipped: it would pass again)."""
        live, hidden, known, counts = self.live, self.hidden, self.known, self.counts
        by_size, groups_of, dirty, free = self.by_size, self.groups_of, self.dirty, self.free
        while dirty:
            current = sorted(dirty)
            queued = set(current)
            dirty.clear()
            while current:
                i = heapq.heappop(current)
                queued.discard(i)
                pick = fix_group(
                    live[i],
                    hidden,
                    known,
                    counts,
                    by_size,
                    free,
                    self.unlisted,
                    self.reserve,
                    self.spend if self.standing is not None else None,
                    floors=self.floors,
                )
                if pick is None:
                    continue
                if pick in known:
                    # fix_group's last resort, a cell taken as given
                    if not self.must_reopen(live[i]):
                        continue
                    self.reopen(pick)
                else:
                    self.hide(pick)
                for j in groups_of.get(pick, ()):
                    if j > i and j not in queued:
                        heapq.heappush(current, j)
                        queued.add(j)
                    elif j <= i:
                        dirty.add(j)

    def break_determined(self, *, exact_widen: bool) -> bool:
        """Check 3 on this issue: the smallest suppressed cell the reduced equations
        determine (``given`` aside) gets one more suppression — with *exact_widen* one of
        the cells it is computed from (:func:`source_pick`), else a cell of a group around it
        (:func:`widen`). A leak no candidate can break: in a re-issue, a cell the earlier
        issue published around it is hidden again (:meth:`reopen_around`), else it joins
        ``given``; in a first issue, :class:`~dief.exceptions.UnprotectedCellError`.
        Returns whether there was a leak."""
        leaks = sorted(self.elimination.determined() - self.given - self.free, key=self.by_size)
        if not leaks:
            return False
        pick = None
        if exact_widen:
            sources = self.elimination.sources(leaks[0])
            pick = source_pick(sources, self.by_size, self.plain)
            if pick is None and self.reserve:
                # no plain source: a plain cell further out before a reserved source
                pick = self.walks.widen(
                    leaks[0], self.live, self.groups_of, self.by_size, self.plain, self.unknown
                )
            if pick is None:
                pick = source_pick(sources, self.by_size, self.candidate)
        if pick is None:
            pick = self.widen(leaks[0])
        if pick is None:
            if leaks[0] in self.unlisted:
                # a cell no document lists that follows from known cells alone (the
                # TLP:RED part of a cell whose digest and summary cells are both
                # published): nothing to hide
                self.given.add(leaks[0])
                return True
            if self.relisted is None:
                raise UnprotectedCellError(leaks[0])
            # it follows from cells an earlier issue published with the counts they have
            # now: one of them is hidden again, as a full unknown; with none left (it
            # follows from cells known from elsewhere), it is public already
            if self.reopen_around(leaks[0]) is None:
                self.given.add(leaks[0])
            return True
        self.hide_and_recheck(pick)
        return True

    def pinned(self, floor0: frozenset[Key]) -> set[Key]:
        """The suppressed cells the equations and the least values pin (0 for *floor0*, else
        1), ``given`` and ``free`` aside (:meth:`BoundSystem.pinned`)."""
        unknown = frozenset(self.hidden - self.known)
        ignore = self.given | self.free
        pinned = self.check4.pinned(
            unknown, unlisted=floor0, ignore=ignore, reduced=self.elimination
        )
        return pinned - ignore

    def bound_widen(self, leak: Key) -> Key | None:
        """A candidate whose suppression frees *leak*, among the cells of the bounds that
        may pin it (:meth:`bound_candidates`), each tried with one linear programme; the
        first that frees it, else ``None`` (never a cell that would protect nothing)."""
        others = frozenset(self.hidden - self.known - {leak})
        for pick in self.bound_candidates(leak):
            pinned = self.check4.pinned(
                {*others, leak, pick}, unlisted=self.unlisted, ignore=others | {pick}
            )
            if leak not in pinned:
                return pick
        return None

    def bound_candidates(self, leak: Key) -> list[Key]:
        """The candidates in the bounds' links (a cell and its table's total, a table's item
        categories and its total: :func:`~dief.disclosure._pieces.bound_links`) of *leak*
        and of the hidden cells its groups link it to, nearest first (plain before
        reserved, then by size), at most :data:`BOUND_TRIES`."""
        linked, linked_of = self.bound_links()
        out: list[Key] = []
        visited = {leak}
        layer = [leak]
        while layer and len(out) < BOUND_TRIES:
            found = {
                c
                for cell in layer
                for i in linked_of.get(cell, ())
                for c in linked[i].cells
                if self.candidate(c) and c not in out
            }
            out.extend(sorted(found, key=lambda c: (c in self.reserve, self.by_size(c))))
            near = [
                c
                for cell in layer
                for i in self.groups_of.get(cell, ())
                for c in self.live[i].cells
            ]
            layer = [c for c in dict.fromkeys(near) if self.unknown(c) and c not in visited]
            visited.update(layer)
        return out[:BOUND_TRIES]

    def bound_links(self) -> tuple[list[Group], dict[Key, list[int]]]:
        """The bounds' links (:func:`~dief.disclosure._pieces.bound_links`) and their index
        by cell, built once."""
        if self.links is None:
            from dief.disclosure._pieces import bound_links  # noqa: PLC0415  it imports _suppression, which imports this module

            linked = bound_links(self.counts)
            self.links = (linked, _index(linked))
        return self.links

    def break_bounds(self) -> bool:
        """Check 4: every suppressed cell the equations and the least values pin (one
        linear programme and one elimination, :func:`pinned_cells`) gets a suppression
        in a group around it, in this same round. Only in a round where no leak has one
        (the next round checks everything again) does a leak get one through the bounds'
        links (:meth:`bound_widen`: the inequalities that pin it); where nothing but cells
        taken as given is left around it, :meth:`free_stuck`. Returns whether there was a leak."""
        found = self.pinned(self.unlisted)
        if not found:
            return False
        touched: set[int] = set()
        # cells from which no candidate (no published cell) is reachable: candidates only
        # shrink in this loop, so one walk settles a whole linked set (:func:`widen`)
        dead: tuple[set[Key], set[Key]] = (set(), set())
        stuck: list[Key] = []
        for leak in sorted(found, key=self.by_size):
            around = set(self.groups_of.get(leak, ()))
            if around & touched:
                continue  # a suppression next to it this round may free it already
            tries = self.widened.get(leak, 0)
            pick = None
            if tries >= WIDEN_TRIES and not tries & (tries - 1):
                pick = self._past_plain(leak)
            if pick is None:
                pick = self.widen(leak, dead=dead)
            if pick is None:
                stuck.append(leak)
                continue
            self.widened[leak] = tries + 1
            self.hide_and_recheck(pick)
            touched.update(around)
            touched.update(self.groups_of.get(pick, ()))
        if not touched:
            self.free_stuck(stuck)
        return True

    def _past_plain(self, leak: Key) -> Key | None:
        """The reserved cell check 4's walk would end on for *leak*, where no plain cell
        can free it; else ``None`` (the walk goes on).

        The walk takes plain cells before reserved ones however far they are, one a round.
        Where *leak* stays pinned with every plain cell the walk can reach from it hidden
        (one linear programme: hiding more never pins more, so no subset of them frees
        it), the walk would hide them all and then take the nearest other candidate, with
        those plain cells walked through: that candidate is taken now, and the plain cells
        stay published. (AFR at 3,000 cases over 10 years: a month's total at its least
        value between its quarter's and half's totals stayed pinned while the walk hid 560
        plain cells, one a round, before it took its neighbour's total.)"""
        if not self.reserve:
            return None
        reach = _plain_reach(leak, self.live, self.groups_of, self.plain, self.unknown)
        if not reach:
            return None  # the walk takes a reserved cell next anyway
        unknown = frozenset(self.hidden - self.known) | reach
        if not self.check4.pins(leak, unknown, unlisted=self.unlisted):
            return None
        return widen(
            leak,
            self.live,
            self.groups_of,
            self.by_size,
            lambda cell: self.candidate(cell) and cell not in reach,
            lambda cell: self.unknown(cell) or cell in reach,
        )

    def free_stuck(self, stuck: Sequence[Key]) -> None:
        """The leaks of check 4 no group has a cell left to free, in a round where none had
        one: a cell of the bounds that pin each (:meth:`bound_widen`); else, in a re-issue, a
        leak the reader of both issues does not have (the cells the earlier issue listed at
        least 0) joins ``given`` and a real one reopens a cell the earlier issue published
        (:meth:`reopen_around`); in a first issue the nearest candidate of those bounds is
        hidden (the next round checks again) and only a leak with none left raises
        :class:`UnprotectedCellError`. Once a suppression is made, a leak with no cell of
        its bounds to take waits for the next round: that suppression may have freed it."""
        touched: set[int] = set()
        loose: set[Key] | None = None
        for leak in stuck:
            around = set(self.groups_of.get(leak, ()))
            if around & touched:
                continue
            pick = self.bound_widen(leak)
            if pick is not None:
                self.hide_and_recheck(pick)
            elif touched:
                # a suppression made for an earlier leak of this list may have freed it
                # through bounds no group shows (equal cells of one-member sums), and may
                # have taken the candidate it had: the next round checks it again, as
                # tests/unit/test_bounds_stuck.py shows
                continue
            elif self.relisted is None:
                # a first issue: no one candidate frees it alone (two bounds may pin it
                # together), so hide the nearest one and check again next round; only a
                # leak with no candidate left around it cannot be protected
                pick = next(iter(self.bound_candidates(leak)), None)
                if pick is None:
                    raise UnprotectedCellError(leak)
                self.hide_and_recheck(pick)
            else:
                if loose is None:
                    loose = self.pinned(self.unlisted | self.relisted)
                pick = self.reopen_around(leak) if leak in loose else None
                if pick is None:
                    # the reader of both issues does not pin it (or nothing at all is
                    # left to hide): it follows from what the earlier issue published
                    self.given.add(leak)
                    continue
            touched.update(around)
            touched.update(self.groups_of.get(pick, ()))

    def reopen_around(
        self,
        leak: Key,
        groups: Sequence[Group] | None = None,
        groups_of: Mapping[Key, Sequence[int]] | None = None,
    ) -> Key | None:
        """The cell taken as given (published by the earlier issue at the count it has now,
        not known from another document) nearest *leak* through *groups* (default: this
        issue's), hidden again (:meth:`reopen`); ``None`` if there is none."""
        pick = widen(
            leak,
            self.live if groups is None else groups,
            self.groups_of if groups_of is None else groups_of,
            self.by_size,
            lambda c: c in self.known and c not in self.public and c not in self.hidden,
            self.unknown,
        )
        if pick is not None:
            self.reopen(pick)
        return pick

    def break_joint(self, both: Earlier) -> bool:
        """Check 3 on both issues together: every leak (``left`` aside) gets a suppression
        through the groups of either issue; a leak none can break joins ``left``. Returns
        whether there was a leak.

        The leaks no published cell can break are left together; every other leak gets a
        suppression in this same round. One suppression per round meant one full
        elimination per hidden cell: minutes for a region whose data grew tenfold since its
        last issue. Hiding more than the minimum only costs cells; the next round checks
        everything again.
        """
        from dief.disclosure._suppression import determined_cells  # noqa: PLC0415  it imports this module

        # a cell reopened (hidden again) is no longer published in either check
        both = dataclasses.replace(both, unchanged=both.unchanged & frozenset(self.known))
        found = (
            determined_cells(self.hidden, self.live, earlier=both, relations=self.relations)
            - self.left
            - self.free
        )
        if not found:
            return False
        for leak in sorted(found, key=self.by_size):
            pick = self.widen(leak, self.traced, self.traced_of)
            if pick is None:
                # only cells the earlier issue published at their counts are left around
                # it: the nearest is hidden again (a real leak: the reader holds both)
                if self.reopen_around(leak, self.traced, self.traced_of) is None:
                    self.left.add(leak)
                continue
            self.hide_and_recheck(pick)
        return True


def _plain_reach(
    leak: Key,
    groups: Sequence[Group],
    groups_of: Mapping[Key, Sequence[int]],
    plain: Callable[[Key], bool],
    unknown: Callable[[Key], bool],
) -> frozenset[Key]:
    """The *plain* cells check 4's walk can reach from *leak*: through the groups, across
    *unknown* cells and the plain cells themselves (each becomes unknown once hidden)."""
    reach: set[Key] = set()
    seen = {leak}
    frontier = [leak]
    while frontier:
        near = {c for cell in frontier for i in groups_of.get(cell, ()) for c in groups[i].cells}
        frontier = []
        for cell in near - seen:
            seen.add(cell)
            if plain(cell):
                reach.add(cell)
                frontier.append(cell)
            elif unknown(cell):
                frontier.append(cell)
    return frozenset(reach)


def _index(groups: Sequence[Group]) -> dict[Key, list[int]]:
    """Cell → the positions of the groups naming it, in order."""
    out: dict[Key, list[int]] = {}
    for i, group in enumerate(groups):
        for cell in dict.fromkeys(group.cells):
            out.setdefault(cell, []).append(i)
    return out

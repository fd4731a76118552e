"""Which totals with k contributors to hide, chosen for the totals' own sums first (issue #15,
docs/digests.md "Totals planned").

A month reported by fewer than k States hides its total, and every sum that total is in —
its quarter's, its half's, its cycle's, a checklist window's — then needs one more unknown
total, else the reader computes it. The greedy search (:mod:`dief.disclosure._search`) takes
those totals one leak at a time, where only reserved cells are left, and each one it takes
opens sums of its own: at realistic volume (a few cases a region-month) the cascade hid
every month's total. Yet the totals' sums alone need few: on the realistic forum of
``tests/integration/test_utility.py`` two totals per region make no total of fewer than k
States computable from the others.

:func:`plan_totals` chooses, before the search and again in every round where the search
has hidden a total since (a total hidden to protect a dimension's cell opens the sums it
is in), the cheapest set of candidate totals (each
weighs *weight*: a month less than a quarter, the meeting's headline numbers most) that
keeps every unknown total of the totals' own sums undetermined, by integer programming with
cuts added as they are found (HiGHS, ``scipy.optimize.milp``):

* **computed** (checks 1 and 3): where the totals hidden so far leave an unknown total
  determined (one the plan hid too: computed, it would protect nothing), one of the known
  totals it is computed from must be hidden (or that one of the plan's published again)
  (:meth:`~dief.disclosure._elimination.Elimination.sources`: hiding any other leaves the
  same computation standing, whatever else is hidden);
* **forced** (check 2): a published total over hidden totals whose least values use it all
  up (a hidden total counts at least its floor: k for one hidden to protect another) needs
  one more of that sum hidden, or one of those hidden by the plan published again.

Those are necessary conditions, so a cheaper set that meets them all does not exist; the
search then runs every check on the whole system as before, and hides more where a
dimension's cells need it. The plan only adds suppressions: what is checked is unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp  # type: ignore[import-untyped]  # scipy ships no stubs

from dief.aggregator import TOTAL
from dief.disclosure._choice import forced, least_value
from dief.disclosure._elimination import Elimination

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from dief.disclosure._search import _Search
    from dief.disclosure._suppression import Group, Key

__all__ = ["Cut", "PlanMemo", "plan_totals"]

#: cut rounds before the plan stops where it is (the search checks everything anyway)
MAX_ROUNDS = 60

#: rounds of cuts found from a choice mended by hand (:func:`_mend`) between two solves
MENDS = 4


#: one cut: (at least one of these hidden, unless one of those is published)
Cut = tuple[frozenset["Key"], frozenset["Key"]]


class PlanMemo:
    """What the plan keeps across its calls in one search run: each block's cheapest choice
    by its cuts (:class:`_Cuts`), and every cut found so far.

    A cut is a necessary condition on the totals still to hide: a total computed from
    published totals stays computed, whatever else is hidden, until one of those is hidden;
    a published total whose hidden members' least values use it up stays so until one more
    of its sum is hidden. So a cut found in an earlier call still holds in a later one,
    read over the totals that are candidates then (:meth:`carried`): one some total of
    which the search has hidden since is met, and is dropped. A later call starts from
    them all instead of finding them again one round of cuts at a time (WEOG at 3,000
    cases over 10 years: a block of about 70 totals with some 400 cuts, 0.5-0.9 s a solve,
    re-found over a dozen rounds in each of a dozen calls). A cut kept that no longer holds
    (a source published again by a re-issue's reopening) can only make the plan hide more,
    never less: the search checks everything anyway.
    """

    __slots__ = ("blocks", "cuts")

    def __init__(self) -> None:
        self.blocks: dict[frozenset[Cut], frozenset[Key] | None] = {}
        self.cuts: set[Cut] = set()

    def carried(
        self, candidate: Callable[[Key], bool], unknown: Callable[[Key], bool]
    ) -> list[Cut]:
        """The cuts found so far that are not met yet, over the candidates now."""
        out: list[Cut] = []
        for more, unless in self.cuts:
            if any(unknown(c) for c in more):
                continue  # met: the search hid one of them
            left = frozenset(c for c in more if candidate(c))
            # a total of *unless* the search hid since stays hidden: no longer a way out
            spare = frozenset(c for c in unless if candidate(c))
            if left or spare:
                out.append((left, spare))
        return out


class _Cuts:
    """The integer programme's constraints over the candidate totals: ``sum(h[more]) -
    sum(h[unless]) >= 1 - len(unless)`` (at least one of *more* hidden, unless one of
    *unless*, hidden now, is published).

    The programme falls into blocks that no cut joins (a cut names a few totals around one
    sum; at 10 years of history, dozens of blocks), each solved on its own: the weights are
    a sum over the totals, so the cheapest choice is every block's cheapest one, and a
    block no new cut touched keeps its choice (*memo*, kept across the plan's calls in one
    run) instead of being solved again in every round."""

    def __init__(self, variables: Sequence[Key], memo: PlanMemo) -> None:
        self.index = {cell: i for i, cell in enumerate(variables)}
        self.seen: set[Cut] = set()
        self.memo = memo

    def add(self, more: frozenset[Key], unless: frozenset[Key] = frozenset()) -> bool:
        """Add a cut; returns whether it is new."""
        if (more, unless) in self.seen:
            return False
        self.seen.add((more, unless))
        self.memo.cuts.add((more, unless))
        return True

    def solve(self, weight: Callable[[Key], float]) -> set[Key] | None:
        """The cheapest choice that meets every cut (``None``: none does)."""
        chosen: set[Key] = set()
        blocks = self.memo.blocks
        for block in _blocks(self.seen):
            if block not in blocks:
                blocks[block] = _cheapest(sorted(block), weight)
            picked = blocks[block]
            if picked is None:
                return None
            chosen |= picked
        return chosen


def _blocks(cuts: set[Cut]) -> list[frozenset[Cut]]:
    """*cuts* split into the blocks no total joins (union-find over the totals)."""
    parent: dict[Key, Key] = {}

    def root(cell: Key) -> Key:
        while parent.setdefault(cell, cell) != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    for more, unless in cuts:
        cells = sorted(more | unless)
        for other in cells[1:]:
            parent[root(other)] = root(cells[0])
    blocks: dict[Key, set[Cut]] = {}
    for cut in cuts:
        first = min(cut[0] | cut[1])
        blocks.setdefault(root(first), set()).add(cut)
    return [frozenset(b) for _, b in sorted(blocks.items())]


def _undominated(cuts: Sequence[Cut]) -> list[Cut]:
    """*cuts* without those another implies: a cut (*more*, *unless*) is met whenever one
    whose *more* and *unless* are subsets of its own is (one of the fewer hidden, or one
    of the fewer published again). The same choices meet both sets; HiGHS is faster on the
    smaller (a block of a hundred totals gathers hundreds of cuts over a run's rounds)."""
    kept: list[Cut] = []
    for more, unless in sorted(cuts, key=lambda c: (len(c[0]) + len(c[1]), sorted(c[0] | c[1]))):
        if not any(m <= more and u <= unless for m, u in kept):
            kept.append((more, unless))
    return kept


def _cheapest(cuts: Sequence[Cut], weight: Callable[[Key], float]) -> frozenset[Key] | None:
    """The cheapest totals that meet every one of *cuts* (one block), by HiGHS, given the
    cuts no other cut implies (:func:`_undominated`)."""
    cuts = _undominated(cuts)
    variables = sorted({c for more, unless in cuts for c in more | unless})
    index = {cell: i for i, cell in enumerate(variables)}
    rows = np.zeros((len(cuts), len(variables)))
    lower = np.empty(len(cuts))
    for r, (more, unless) in enumerate(cuts):
        for cell in more:
            rows[r, index[cell]] = 1.0
        for cell in unless:
            rows[r, index[cell]] = -1.0
        lower[r] = 1.0 - len(unless)
    result = milp(
        np.array([weight(c) for c in variables]),
        constraints=LinearConstraint(rows, lb=lower, ub=np.inf),
        integrality=np.ones(len(variables)),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 0.0},  # the cheapest, not one within HiGHS's default gap
    )
    if result.status != 0 or result.x is None:
        return None
    return frozenset(variables[i] for i, value in enumerate(result.x) if value > 0.5)  # noqa: PLR2004  a binary's half


def _total_groups(search: _Search) -> list[Group]:
    """The search's sums whose cells are all totals."""
    return [
        g for g in search.live if g.marginal[1:] == TOTAL and all(m[1:] == TOTAL for m in g.members)
    ]


def plan_totals(
    search: _Search, weight: Callable[[Key], float], memo: PlanMemo | None = None
) -> list[Key]:
    """The candidate totals to hide before *search* runs (module docstring), cheapest by
    *weight*; empty where the totals' sums need none. *memo*: the blocks solved and the
    cuts found so far (:class:`PlanMemo`), passed again by the rounds of one run."""
    groups = _total_groups(search)
    cells = sorted({c for g in groups for c in g.cells})
    variables = [c for c in cells if search.candidate(c)]
    protected = {
        c for c in cells if search.unknown(c) and c not in search.free and c not in search.given
    }
    if not variables or not protected:
        return []
    memo = PlanMemo() if memo is None else memo
    cuts = _Cuts(variables, memo)
    chosen: set[Key] = set()
    carried = memo.carried(search.candidate, search.unknown)
    for more, unless in carried:
        cuts.seen.add((more, unless))
    if carried:
        picked = cuts.solve(weight)
        chosen = set() if picked is None else picked
    equations = [{**dict.fromkeys(g.members, 1), g.marginal: -1} for g in groups]
    # the integer programme is solved only where a choice meets every cut found: until
    # then a choice mended by hand (:func:`_mend`) finds the next cuts (each a necessary
    # condition, whichever choice found it), a round of elimination instead of a solve
    exact, mended = True, 0
    for _ in range(MAX_ROUNDS):
        before = len(cuts.seen)
        found = _broken(search, cells, equations, cuts, protected, chosen=chosen, groups=groups)
        if len(cuts.seen) > before and mended < MENDS:
            chosen, exact, mended = _mend(chosen, found, weight), False, mended + 1
            continue
        if exact and len(cuts.seen) == before:
            break
        picked = cuts.solve(weight)
        if picked is None:
            # no choice meets every cut (a total the plan hid that only cells it cannot
            # hide compute): the last choice stands, hiding more than needed, never less
            # (the search checks everything)
            return sorted(chosen)
        chosen, exact, mended = picked, True, 0
    if not exact:
        picked = cuts.solve(weight)
        chosen = chosen if picked is None else picked
    return sorted(chosen)


def _broken(  # noqa: PLR0913  the search, its sums and the plan's state
    search: _Search,
    cells: Sequence[Key],
    equations: Sequence[dict[Key, int]],
    cuts: _Cuts,
    protected: set[Key],
    *,
    chosen: set[Key],
    groups: Sequence[Group],
) -> list[Cut]:
    """The cuts the choice *chosen* does not meet, each added to *cuts* (new or not);
    *cells*: every cell of the totals' sums *groups* (:func:`plan_totals` has them)."""
    unknown = {c for c in cells if search.unknown(c)} | chosen
    elimination: Elimination[Key] = Elimination(equations)
    for cell in sorted(unknown):
        elimination.add(cell)
    found: list[Cut] = []
    _computed_cuts(elimination, cuts, protected | chosen, chosen, found=found)
    _forced_cuts(search, groups, cuts, unknown, chosen, found=found)
    return found


def _mend(chosen: set[Key], found: Sequence[Cut], weight: Callable[[Key], float]) -> set[Key]:
    """*chosen* made to meet each of the cuts *found*: the cheapest total of one not met
    hidden, or, where it names none, one of its totals the plan hid published again."""
    out = set(chosen)
    for more, unless in found:
        if more & out or unless - out:
            continue
        if more:
            out.add(min(more, key=lambda c: (weight(c), c)))
        else:
            out.discard(min(unless))
    return out


def _computed_cuts(
    elimination: Elimination[Key],
    cuts: _Cuts,
    guarded: set[Key],
    chosen: set[Key],
    *,
    found: list[Cut],
) -> None:
    """The cuts of the *guarded* totals *elimination* determines, each added to *cuts* and
    to *found*."""
    for leak in sorted(elimination.determined() & guarded):
        sources = frozenset(c for c, _ in elimination.sources(leak) if c in cuts.index)
        # a total the plan hid must stay unknown too, or it protects nothing
        unless = frozenset({leak}) if leak in chosen else frozenset()
        if sources or unless:
            cuts.add(sources, unless)
            found.append((sources, unless))


def _forced_cuts(  # noqa: PLR0913  the search, its sums and the plan's state
    search: _Search,
    groups: Sequence[Group],
    cuts: _Cuts,
    unknown: set[Key],
    chosen: set[Key],
    *,
    found: list[Cut],
) -> None:
    """The cuts of the published totals whose hidden members' least values use them up,
    each added to *cuts* and to *found*."""

    def least(cell: Key) -> int:
        return least_value(cell, search.unlisted, search.floors)

    for group in groups:
        if group.marginal in unknown:
            continue
        members = [m for m in group.members if m in unknown]
        if members and forced(members, search.counts, search.free, least):
            more = frozenset(c for c in group.cells if c in cuts.index and c not in unknown)
            unless = frozenset(m for m in members if m in chosen)
            if more or unless:
                cuts.add(more, unless)
                found.append((more, unless))

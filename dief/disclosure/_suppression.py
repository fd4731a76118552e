"""Primary and secondary cell suppression for published tables (DESIGN §7 disclosure control).

The tables of a CSP summary are linked by additive constraints, each a :class:`Group`: a
*marginal* cell equals the sum of its *members*.

- within one table (a region, or the global table), every single-valued dimension's values
  sum to the table total;
- across regions, a global cell is the sum of the regions' cells of the same value, and the
  global total the sum of the regional totals.

Cells with a zero count are not cells (they are not listed, and known to be zero). Every
listed cell has a count of at least one, which a reader knows too (except in a re-issue,
below).

:func:`protect` starts from the primary suppressions and adds secondary ones until

1. no group has exactly one suppressed cell (it would be the marginal minus the rest);
2. no group with a published marginal has suppressed members that are all forced to one
   (their remainder equals their number, and every listed cell is at least one);
3. no suppressed cell is determined by the linear system of all groups together (checked
   exactly, with rational Gaussian elimination over the suppressed cells).

When a group needs another suppression, the smallest published member is taken (by count,
then a fixed order), and the marginal only when no member is left. At the fixed point, with
``prune`` (on by default in a first issue since session 16), a reserved *total* hidden on
the way that every check lets go is published again (:mod:`dief.disclosure._prune`). This
does not defend against every bound (linear-programming) attack across several groups; it
guarantees that no suppressed value can be computed exactly from the published ones.

Check 3 keeps the equations reduced while cells are hidden
(:class:`~dief.disclosure.Elimination`, exact integer arithmetic): one pivot
step per new suppression instead of a fresh elimination per round, so protecting a few
thousand linked cells (a region's meeting digests) takes about a second, not minutes.

Options for callers with other priorities (the meeting digests): ``cost`` replaces the
count as the size a secondary suppression is chosen by (a total may weigh more than its
count); ``exact_widen`` fixes a determined cell by hiding the cheapest of the cells it is
computed from that undetermines it on its own (read off the reduced equations), else the
cheapest of those cells, rather than the smallest cell of a group around it.

Stability across cycles: ``prefer`` names cells to take first among equally small ones
(those the previous cycle's issue suppressed), so the pattern moves little between cycles.

Stability across re-issues: :class:`Earlier` is the last issue of the *same* tables. The
reader holds both issues and may know which cells changed in between (not by how much).

- Every cell it suppressed stays suppressed, even one that now counts zero (it stays
  listed; a cell it published that now counts zero may be listed, suppressed, too: the
  caller lists both with count 0).
- A cell it published with the count it has now is *known*: treated as published in every
  check and never taken as a secondary suppression (hiding it would protect nothing).
- Check 3 then holds with the known cells (hard: a cell that changed can always be
  protected, by suppressing the other cells that changed).
- Check 3 also runs on both issues together, the earlier issue's groups over its
  suppressed cells added, each of those cells the same unknown in both issues (as if none
  had changed: the safe side). Where that finds a leak, a cell is added as above; where
  only known cells are left around it, the nearest is hidden again (below); where none
  is, the leak only exists because the assumption is wrong (some of those cells did
  change), so it is left.

Cells published earlier (docs/audit.md, decided for #15): a re-issue never hides a known
cell; the pattern finds partners elsewhere. A leak that only a known cell could stop is
judged for the reader of both issues, who takes the cells the earlier issue listed
(*relisted*) at least 0, not 1 (a re-issue keeps a cell listed at 0 when its cases went):
a leak that reader does not have follows from the earlier issue and is ``given``; a real
one (a cell that changed or became primary) hides the nearest known cell again as a full
unknown of every check (:meth:`_Search.reopen`) — never hidden in the document while the
checks count it published, which protected nothing and was then given away itself (seed
182). A first issue never takes a leak as given: check 4 hides a cell of the bounds that
pin it where that frees it, else :class:`~dief.exceptions.UnprotectedCellError`.

Why that suffices, for a reader who knows exactly which cells changed: a suppressed cell
that changed is undetermined when every changed cell in the groups around it is
suppressed (moving the whole change along those cells keeps every sum), and a cell
suppressed in both issues is undetermined because the earlier issue alone left it so (its
groups are the same).
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.disclosure import _prune
from dief.disclosure._elimination import rref
from dief.disclosure._prune import prune as prune_reserved
from dief.disclosure._search import _Search
from dief.disclosure._totals_plan import PlanMemo, plan_totals
from dief.exceptions import DiefError
from dief.vocab import SINGLE_VALUED_DIMENSIONS, Dimension

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

    from dief.disclosure._choice import BySize

__all__ = [
    "SINGLE_VALUED",
    "Earlier",
    "Group",
    "Key",
    "Protection",
    "SortKey",
    "determined_cells",
    "protect",
]

#: dimensions with exactly one value per case: their values sum to the table total (shared
#: by the CSP summary's and the meeting digests' additive groups); defined with the
#: vocabularies
SINGLE_VALUED: tuple[Dimension, ...] = SINGLE_VALUED_DIMENSIONS

#: (table, dimension, value): a region code or ``"_global"`` (a period, in meeting digests);
#: totals are ("_total", "_all").
Key = tuple[str, str, str]
#: a deterministic tie-break between cells of equal count
SortKey = tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class Group:
    """An additive constraint: ``marginal`` = sum of ``members``."""

    marginal: Key
    members: tuple[Key, ...]

    @property
    def cells(self) -> tuple[Key, ...]:
        return (self.marginal, *self.members)

    def equation(self) -> dict[Key, int]:
        """The constraint as one equation, cell → coefficient (``sum(members) - marginal =
        0``; a cell named twice counts twice), members first."""
        row: dict[Key, int] = {}
        for member in self.members:
            row[member] = row.get(member, 0) + 1
        row[self.marginal] = row.get(self.marginal, 0) - 1
        return row


@dataclass(frozen=True, slots=True)
class Earlier:
    """An earlier issue of the same tables: what a re-issue must stay consistent with.

    ``suppressed``: the cells it suppressed; ``groups``: its additive constraints (over the
    cells it listed); ``unchanged``: the cells it published whose count is the same now;
    ``given``: the suppressed cells it gave away on its own (``None``: computed from
    ``groups``; the meeting digests, whose groups are rebuilt from a record and protected
    when issued, give none).
    """

    suppressed: frozenset[Key]
    groups: tuple[Group, ...]
    unchanged: frozenset[Key] = frozenset()
    given: frozenset[Key] | None = None


@dataclass(frozen=True, slots=True)
class Protection:
    """Which cells are suppressed, and why (``kept``: carried over from an earlier issue,
    not primary now)."""

    primary: frozenset[Key]
    suppressed: frozenset[Key]
    rounds: int = field(default=0, compare=False)
    kept: frozenset[Key] = frozenset()

    @property
    def secondary(self) -> frozenset[Key]:
        return self.suppressed - self.primary


def _rows(groups: Iterable[Group], index: Mapping[Key, int]) -> Iterable[dict[int, int]]:
    for group in groups:
        row: dict[int, int] = {}
        for member in group.members:
            if member in index:
                row[index[member]] = row.get(index[member], 0) + 1
        if group.marginal in index:
            row[index[group.marginal]] = row.get(index[group.marginal], 0) - 1
        if row:
            yield row


def determined_cells(
    hidden: Iterable[Key],
    groups: Sequence[Group],
    *,
    earlier: Earlier | None = None,
    relations: Sequence[Mapping[Key, int]] = (),
) -> set[Key]:
    """Suppressed cells whose value follows exactly from the published cells and *groups*.

    A suppressed cell is determined iff its unit vector lies in the row space of the
    groups' equations restricted to the suppressed cells, i.e. iff its pivot row in the
    reduced row echelon form has no other entry. With *earlier*, its unchanged cells count
    as published, and its groups over its suppressed cells are added, each of those cells
    being the same unknown as the current cell of that key (all must be in *hidden*).
    """
    now = set(hidden)
    before: frozenset[Key] = frozenset()
    if earlier is not None:
        now -= earlier.unchanged
        before = earlier.suppressed
    unknowns = sorted(now | before)
    index = {key: i for i, key in enumerate(unknowns)}
    current = {key: index[key] for key in now}
    rows = list(_rows(groups, current))
    rows.extend(
        {current[k]: v for k, v in rel.items() if k in current and v}
        for rel in relations
        if any(k in current for k in rel)
    )
    if earlier is not None:
        rows.extend(_rows(earlier.groups, {key: index[key] for key in before}))
    pivots = rref(rows)
    return {unknowns[col] for col, row in pivots.items() if len(row) == 1}


def protect(  # noqa: PLR0913  a public keyword signature (every caller's options)
    counts: Mapping[Key, int],
    primary: Iterable[Key],
    groups: Sequence[Group],
    *,
    order: Callable[[Key], SortKey] | None = None,
    earlier: Earlier | None = None,
    prefer: Collection[Key] = frozenset(),
    exact_widen: bool = False,
    cost: Callable[[Key], int] | None = None,
    free: Collection[Key] = frozenset(),
    known: Collection[Key] = frozenset(),
    relations: Sequence[Mapping[Key, int]] = (),
    unlisted: Collection[Key] = frozenset(),
    bounds: bool = False,
    reserve: Collection[Key] = frozenset(),
    standing: Callable[[Key], int] | None = None,
    relisted: Collection[Key] = frozenset(),
    prune: bool | None = None,
    floors: Mapping[Key, int] | None = None,
    plan: Callable[[Key], float] | None = None,
) -> Protection:
    """Secondary suppression to a fixed point (see the module docstring).

    *counts* holds every listed cell (count ≥ 1, or 0 for a cell only *earlier* listed);
    *groups* must only name such cells. *order* breaks ties between equally small cells
    (default: the key itself), after *prefer*. *earlier* is the last issue of the same
    tables (re-issue stability); every cell it suppressed must be in *counts*. *cost*
    (default: the count) and *exact_widen* change how secondary suppressions are chosen
    (module docstring), never what is checked.

    *free* cells are unknowns the reader may compute: hidden from the start, never taken,
    never protected themselves, least value 0 (the TLP:RED part of a cell, or a summary
    cell a meeting may know). *known* cells count as published in every check and are never
    taken (a reader knows them from elsewhere). *relations* are further linear equations
    a reader knows between cells (check 3 only). *unlisted* cells are listed nowhere, so
    their least value is 0, not 1 (check 2). *bounds* adds check 4: no suppressed cell
    pinned by the equations and the least values together (linear programming,
    :mod:`dief.disclosure._bounds`), run once checks 1-3 hold. *reserve* cells (a
    region-period's totals with k contributors, the top of a checklist) are taken as a
    secondary suppression only where no other cell can stop a leak: every choice first
    looks among the other candidates, wherever they are. Where a group's candidates are
    all reserved, the one of least *standing* (default: 0 for all) is taken, then the one
    whose hide closes the most groups with one unknown, then opens the fewest without
    one, then the smallest. *relisted* (a re-issue): the cells an earlier issue listed; a
    reader holding both issues takes them at least 0, not 1 (a re-issue keeps a cell
    listed, suppressed, at 0 when its cases went), which decides whether a leak that only
    a cell the earlier issue published could stop is real (module docstring, "Cells
    published earlier"). *floors*: the least count a reader reads off a hidden cell's
    stated reason (DESIGN §7: a cell hidden to protect another says so, so it has at least
    k contributors and counts at least k); every other listed cell's is 1 (checks 2 and 4).

    Rounds to a fixed point (:func:`_fixed_point`); with *prune* (a first issue only, on
    by default) the reserved totals hidden on the way are published again where every
    check still holds (:func:`_prune_reserved`): ``_prune.PRUNE_BY_DEFAULT``. (Long only by
    its keyword signature and this documentation of each option: the body is one search.)
    """
    rank, by_size = _orderings(counts, order=order, prefer=prefer, cost=cost)
    live = _live_groups(groups, counts)
    first = frozenset(primary)
    reissuing = _is_reissue(earlier, relisted)
    reissue = _reissue(earlier, counts, first, live, frozenset(known))
    fixed = first | reissue.kept | frozenset(free)
    twins = _twins(reissue.known - fixed, live, fixed)
    if twins:
        reissue = dataclasses.replace(reissue, known=reissue.known | twins)
    search = _Search(
        counts,
        live,
        fixed,
        reissue,
        by_size=by_size,
        rank=rank,
        free=frozenset(free),
        relations=relations,
        unlisted=frozenset(unlisted),
        reserve=frozenset(reserve),
        standing=standing,
        relisted=frozenset(relisted) if reissuing else None,
        public=frozenset(known),
        floors=floors,
    )
    rounds = _fixed_point(search, reissue.both, exact_widen=exact_widen, bounds=bounds, plan=plan)
    if (_prune.PRUNE_BY_DEFAULT if prune is None else prune) and not reissuing:
        settled = frozenset(free) | frozenset(unlisted) | frozenset(known) | first
        _prune_reserved(search, counts, settled, bounds=bounds, standing=standing, rank=rank)
    return Protection(
        primary=first, suppressed=frozenset(search.hidden), rounds=rounds, kept=reissue.kept
    )


def _fixed_point(
    search: _Search,
    both: Earlier | None,
    *,
    exact_widen: bool,
    bounds: bool,
    plan: Callable[[Key], float] | None = None,
) -> int:
    """Run *search* in rounds to a fixed point; returns the rounds. Each round runs checks
    1 and 2 over every group to a fixed point (:meth:`_Search.settle`), then check 3 on
    this issue (:meth:`_Search.break_determined`) and, for a re-issue (*both*), on both
    issues together (:meth:`_Search.break_joint`), then with *bounds* check 4
    (:meth:`_Search.break_bounds`); a round that adds nothing ends the search
    (:mod:`dief.disclosure._search`)."""
    rounds = 0
    planned: frozenset[Key] | None = None
    memo = PlanMemo()  # the plan's blocks solved and cuts found so far
    while True:
        rounds += 1
        if plan is not None:
            totals = frozenset(search.hidden_totals)
            if totals != planned:
                # the totals' own sums protected again by the cheapest set, around the
                # totals hidden since (:mod:`dief.disclosure._totals_plan`)
                for cell in plan_totals(search, plan, memo):
                    search.hide_and_recheck(cell)
                planned = frozenset(search.hidden_totals)
        search.settle()
        if search.break_determined(exact_widen=exact_widen):
            continue
        if both is not None and search.break_joint(both):
            continue
        if bounds and search.break_bounds():
            continue
        return rounds


def _prune_reserved(  # noqa: PLR0913  the pruning's inputs, each by keyword
    search: _Search,
    counts: Mapping[Key, int],
    settled: frozenset[Key],
    *,
    bounds: bool,
    standing: Callable[[Key], int] | None,
    rank: Callable[[Key], SortKey],
) -> None:
    """Publish again every hidden reserved total that is a secondary suppression of the run
    (not in *settled*: free, unlisted, known or primary) where every check still holds
    without it, the most worth keeping first (*standing*, then the count):
    :func:`dief.disclosure._prune.prune`. On by default since session 16
    (``_prune.PRUNE_BY_DEFAULT``; docs/audit.md, "Which totals stay hidden"). A re-issue is never
    pruned: its checks do not bound what a reader of both issues pins, so its greedy
    choice stands."""
    prune_reserved(
        search,
        fixed=settled,
        both=None,
        bounds=bounds,
        order=lambda c: (-(standing(c) if standing is not None else 0), -counts[c], rank(c)),
    )


def _is_reissue(earlier: Earlier | None, relisted: Collection[Key]) -> bool:
    """Whether *earlier* is an issue a reader holds (an empty record is a first issue)."""
    if earlier is None:
        return False
    return bool(relisted or earlier.suppressed or earlier.unchanged or earlier.groups)


def _orderings(
    counts: Mapping[Key, int],
    *,
    order: Callable[[Key], SortKey] | None,
    prefer: Collection[Key],
    cost: Callable[[Key], int] | None,
) -> tuple[Callable[[Key], SortKey], BySize]:
    """The two orders of a :func:`protect` run: *rank*, the fixed tie-break (*order*, or
    the key itself), and *by_size*, the order secondary suppressions are chosen in (size
    — the count, or *cost* — then cells in *prefer* first, then *rank*)."""

    def rank(key: Key) -> SortKey:
        return order(key) if order is not None else (0, 0, "\x1f".join(key))

    def by_size(key: Key) -> tuple[int, bool, SortKey]:
        size = counts.get(key, 0) if cost is None else cost(key)
        return (size, key not in prefer, rank(key))

    return rank, by_size


def _live_groups(groups: Sequence[Group], counts: Mapping[Key, int]) -> list[Group]:
    """The groups with members (a group without any constrains nothing), each checked to
    name listed cells only."""
    live = [g for g in groups if g.members]
    for group in live:
        for cell in group.cells:
            if cell not in counts:
                raise DiefError(f"suppression group names an unknown cell {cell!r}")
    return live


@dataclass(frozen=True, slots=True)
class _Reissue:
    """What the earlier issue fixes for a re-issue (all empty without one).

    ``kept``: cells it suppressed that are not primary now (they stay suppressed);
    ``known``: cells it published with the count they have now; ``both``: the earlier
    issue as check 3 on both issues sees it (``None``: no such check); ``traced``: the
    groups that check widens through; ``given``: the suppressed cells it gave away on its
    own.
    """

    kept: frozenset[Key]
    known: frozenset[Key]
    both: Earlier | None
    traced: list[Group]
    given: frozenset[Key]


def _twins(known: frozenset[Key], live: Sequence[Group], fixed: frozenset[Key]) -> frozenset[Key]:
    """The cells equal to a known cell by the sums alone, to a fixed point: the member of a
    one-member sum and its marginal, and the marginals of two sums over the same members
    (a cycle and its one half with data). Published, such a cell tells nothing a reader
    does not know; hidden, it protects nothing and is itself given away, and the search
    then hid its known twin again (a re-issue of unchanged data hid ``CSP11``'s total for
    ``CSP11-H2``'s, tests/unit/test_digest_payload.py). *fixed* cells (primary, kept,
    free) are never added."""
    by_members: dict[tuple[Key, ...], list[Key]] = {}
    pairs: list[tuple[Key, Key]] = []
    for group in live:
        if len(group.members) == 1:
            pairs.append((group.marginal, group.members[0]))
        by_members.setdefault(tuple(sorted(group.members)), []).append(group.marginal)
    for marginals in by_members.values():
        pairs.extend(itertools.pairwise(marginals))
    linked: dict[Key, set[Key]] = {}
    for a, b in pairs:
        if a != b:
            linked.setdefault(a, set()).add(b)
            linked.setdefault(b, set()).add(a)
    found: set[Key] = set()
    todo = [c for c in known if c in linked]
    while todo:
        cell = todo.pop()
        for twin in linked[cell]:
            if twin not in known and twin not in found and twin not in fixed:
                found.add(twin)
                todo.append(twin)
    return frozenset(found)


def _reissue(
    earlier: Earlier | None,
    counts: Mapping[Key, int],
    first: frozenset[Key],
    live: list[Group],
    public: frozenset[Key],
) -> _Reissue:
    """The :class:`_Reissue` of *earlier*: checks that every cell it suppressed is listed,
    and works out what it gave away (``earlier.given``, else computed from its groups).
    Its ``known`` cells are the ones *earlier* published unchanged and *public* (known
    from elsewhere); the check on both issues takes only the former."""
    if earlier is None:
        return _Reissue(frozenset(), public, None, live, frozenset())
    missing = sorted(earlier.suppressed - counts.keys())
    if missing:
        raise DiefError(f"a cell the earlier issue suppressed is not listed: {missing[0]!r}")
    known = earlier.unchanged - earlier.suppressed
    both: Earlier | None = None
    traced = live
    if earlier.groups:
        # without its groups, the check on both issues is the check on this one
        both = Earlier(earlier.suppressed, earlier.groups, known)
        traced = [*live, *earlier.groups]
    # what the earlier issue gave away on its own cannot be taken back (a cell it
    # suppressed whose count was public from the issue before it)
    given = frozenset(
        determined_cells(earlier.suppressed, earlier.groups)
        if earlier.given is None
        else earlier.given
    )
    return _Reissue(earlier.suppressed - first, known | public, both, traced, given)

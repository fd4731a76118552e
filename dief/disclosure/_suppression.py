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
then a fixed order), and the marginal only when no member is left. This does not defend
against every bound (linear-programming) attack across several groups; it guarantees that
no suppressed value can be computed exactly from the published ones.

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
import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.disclosure._choice import BySize, fix_group, source_pick, spend_key, widen
from dief.disclosure._elimination import Elimination, rref
from dief.exceptions import DiefError, UnprotectedCellError
from dief.vocab import SINGLE_VALUED_DIMENSIONS, Dimension

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

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
#: how many cells of the bounds around a pinned cell check 4 tries (one linear programme
#: each) before it takes the leak as one nothing but cells taken as given can stop
BOUND_TRIES = 4


@dataclass(frozen=True, slots=True)
class Group:
    """An additive constraint: ``marginal`` = sum of ``members``."""

    marginal: Key
    members: tuple[Key, ...]

    @property
    def cells(self) -> tuple[Key, ...]:
        return (self.marginal, *self.members)


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
    published earlier").

    Each round runs checks 1 and 2 over every group to a fixed point
    (:meth:`_Search.settle`), then check 3 on this issue (:meth:`_Search.break_determined`)
    and, for a re-issue, on both issues together (:meth:`_Search.break_joint`); a round
    that adds nothing ends the search.
    """
    rank, by_size = _orderings(counts, order=order, prefer=prefer, cost=cost)
    live = _live_groups(groups, counts)
    first = frozenset(primary)
    reissue = _reissue(earlier, counts, first, live)
    if known:
        reissue = dataclasses.replace(reissue, known=reissue.known | frozenset(known))
    search = _Search(
        counts,
        live,
        first | reissue.kept | frozenset(free),
        reissue,
        by_size=by_size,
        rank=rank,
        free=frozenset(free),
        relations=relations,
        unlisted=frozenset(unlisted),
        reserve=frozenset(reserve),
        standing=standing,
        relisted=frozenset(relisted) if _is_reissue(earlier, relisted) else None,
        public=frozenset(known),
    )
    rounds = 0
    while True:
        rounds += 1
        search.settle()
        if search.break_determined(exact_widen=exact_widen):
            continue
        if reissue.both is not None and search.break_joint(reissue.both):
            continue
        if bounds and search.break_bounds():
            continue
        return Protection(
            primary=first, suppressed=frozenset(search.hidden), rounds=rounds, kept=reissue.kept
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


def _reissue(
    earlier: Earlier | None, counts: Mapping[Key, int], first: frozenset[Key], live: list[Group]
) -> _Reissue:
    """The :class:`_Reissue` of *earlier*: checks that every cell it suppressed is listed,
    and works out what it gave away (``earlier.given``, else computed from its groups)."""
    if earlier is None:
        return _Reissue(frozenset(), frozenset(), None, live, frozenset())
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
    return _Reissue(earlier.suppressed - first, known, both, traced, given)


class _Search:
    """The state of one :func:`protect` run and its steps.

    ``hidden``: every suppressed cell so far; ``elimination``: the equations over every
    listed cell, kept reduced while cells are hidden (check 3 costs one pivot step per new
    suppression); ``dirty``: the positions of the groups to pass through :func:`fix_group`
    again; ``given``: determined cells that are public already (the earlier issue gave
    them away, or they follow from cells it published); ``left``: leaks of check 3 on both
    issues that no published cell can break.
    """

    __slots__ = (
        "by_size",
        "counts",
        "dirty",
        "elimination",
        "free",
        "given",
        "groups_of",
        "hidden",
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
    ) -> None:
        self.counts = counts
        # None: a first issue; else the cells an earlier issue listed
        self.relisted = relisted
        self.public = public
        self.links: tuple[list[Group], dict[Key, list[int]]] | None = None
        self.standing = standing
        self.unlisted = unlisted
        self.reserve = reserve
        self.free = free
        self.relations = relations
        self.live = live
        self.hidden = set(hidden)
        self.known = set(reissue.known)
        self.by_size = by_size
        self.given = set(reissue.given)
        self.left = set(reissue.given)
        self.elimination: Elimination[Key] = Elimination([*_equations(live), *relations])
        for cell in sorted(self.hidden - self.known, key=rank):
            self.elimination.add(cell)
        self.groups_of = _index(live)
        self.traced = reissue.traced
        self.traced_of = self.groups_of if reissue.traced is live else _index(reissue.traced)
        self.dirty: set[int] = set(range(len(live)))

    def candidate(self, cell: Key) -> bool:
        """A listed cell that may still be taken as a secondary suppression."""
        return cell in self.counts and cell not in self.hidden and cell not in self.known

    def plain(self, cell: Key) -> bool:
        """A candidate that is not reserved."""
        return self.candidate(cell) and cell not in self.reserve

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
        )
        return again is not None

    def reopen(self, cell: Key) -> None:
        """Hide a cell taken as given (the earlier issue published it with the count it has
        now) again, as a full unknown of every check: the last resort where nothing else
        stops a real leak of a cell that changed or became primary (module docstring,
        "Cells published earlier"). Never half-hidden: hidden in the document but counted
        as published by the checks, it would protect nothing and be given away itself."""
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
                pick = widen(
                    leaks[0], self.live, self.groups_of, self.by_size, self.plain, self.unknown
                )
            if pick is None:
                pick = source_pick(sources, self.by_size, self.candidate)
        if pick is None:
            pick = self.widen(leaks[0])
        if pick is None:
            if leaks[0] in self.unlisted:
                # a cell no document lists that follows from known cells alone (the
                # TLP:RED part of a cell from the known red total): nothing to hide
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
        1), ``given`` and ``free`` aside (:func:`~dief.disclosure._bounds.pinned_cells`)."""
        from dief.disclosure._bounds import pinned_cells  # noqa: PLC0415  it imports this module

        unknown = {c for c in self.hidden if c not in self.known}
        ignore = self.given | self.free
        found = pinned_cells(
            self.counts,
            unknown,
            self.live,
            relations=self.relations,
            unlisted=floor0,
            ignore=ignore,
        )
        return found - ignore

    def bound_widen(self, leak: Key) -> Key | None:
        """A candidate whose suppression frees *leak*, among the cells of the bounds that
        may pin it (:meth:`bound_candidates`), each tried with one linear programme; the
        first that frees it, else ``None`` (never a cell that would protect nothing)."""
        others = frozenset(c for c in self.hidden if c not in self.known and c != leak)
        for pick in self.bound_candidates(leak):
            from dief.disclosure._bounds import pinned_cells  # noqa: PLC0415  it imports this module

            pinned = pinned_cells(
                self.counts,
                {*others, leak, pick},
                self.live,
                relations=self.relations,
                unlisted=self.unlisted,
                ignore=others | {pick},
            )
            if leak not in pinned:
                return pick
        return None

    def bound_candidates(self, leak: Key) -> list[Key]:
        """The candidates in the bounds' links (a cell and its table's total, a table's item
        categories and its total: :func:`~dief.disclosure._pieces.bound_links`) of *leak*
        and of the hidden cells its groups link it to, nearest first (plain before
        reserved, then by size), at most :data:`BOUND_TRIES`."""
        if self.links is None:
            from dief.disclosure._pieces import bound_links  # noqa: PLC0415  it imports this module

            linked = bound_links(self.counts)
            self.links = (linked, _index(linked))
        linked, linked_of = self.links
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
            pick = self.widen(leak, dead=dead)
            if pick is None:
                stuck.append(leak)
                continue
            self.hide_and_recheck(pick)
            touched.update(around)
            touched.update(self.groups_of.get(pick, ()))
        if not touched:
            self.free_stuck(stuck)
        return True

    def free_stuck(self, stuck: Sequence[Key]) -> None:
        """The leaks of check 4 no group has a cell left to free, in a round where none had
        one: a cell of the bounds that pin each (:meth:`bound_widen`); else, in a re-issue, a
        leak the reader of both issues does not have (the cells the earlier issue listed at
        least 0) joins ``given`` and a real one reopens a cell the earlier issue published
        (:meth:`reopen_around`); in a first issue, :class:`UnprotectedCellError`."""
        touched: set[int] = set()
        loose: set[Key] | None = None
        for leak in stuck:
            around = set(self.groups_of.get(leak, ()))
            if around & touched:
                continue
            pick = self.bound_widen(leak)
            if pick is None:
                if self.relisted is None:
                    raise UnprotectedCellError(leak)
                if loose is None:
                    loose = self.pinned(self.unlisted | self.relisted)
                pick = self.reopen_around(leak) if leak in loose else None
                if pick is None:
                    # the reader of both issues does not pin it (or nothing at all is
                    # left to hide): it follows from what the earlier issue published
                    self.given.add(leak)
                    continue
            else:
                self.hide_and_recheck(pick)
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


def _equations(groups: Iterable[Group]) -> Iterable[dict[Key, int]]:
    for group in groups:
        row: dict[Key, int] = {}
        for member in group.members:
            row[member] = row.get(member, 0) + 1
        row[group.marginal] = row.get(group.marginal, 0) - 1
        yield row


def _index(groups: Sequence[Group]) -> dict[Key, list[int]]:
    """Cell → the positions of the groups naming it, in order."""
    out: dict[Key, list[int]] = {}
    for i, group in enumerate(groups):
        for cell in dict.fromkeys(group.cells):
            out.setdefault(cell, []).append(i)
    return out

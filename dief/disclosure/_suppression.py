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
  no published cell can help, the leak only exists because the assumption is wrong (some
  of those cells did change), so it is left.

Why that suffices, for a reader who knows exactly which cells changed: a suppressed cell
that changed is undetermined when every changed cell in the groups around it is
suppressed (moving the whole change along those cells keeps every sum), and a cell
suppressed in both issues is undetermined because the earlier issue alone left it so (its
groups are the same).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from dief.disclosure._elimination import Elimination, rref
from dief.exceptions import DiefError
from dief.vocab import Dimension

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
#: by the CSP summary's and the meeting digests' additive groups)
SINGLE_VALUED: tuple[Dimension, ...] = (
    Dimension.KIND,
    Dimension.CONFIDENCE,
    Dimension.TRANSFER_STAGE,
    Dimension.END_USER_TYPE,
    Dimension.DETECTION_SOURCE,
)

#: (table, dimension, value): a region code or ``"_global"`` (a period, in meeting digests);
#: totals are ("_total", "_all").
Key = tuple[str, str, str]
#: a deterministic tie-break between cells of equal count
SortKey = tuple[int, int, str]
_BySize = Callable[[Key], tuple[int, bool, SortKey]]


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


def _fix(
    group: Group,
    hidden: set[Key],
    known: Collection[Key],
    counts: Mapping[Key, int],
    order: _BySize,
) -> Key | None:
    """The cell to suppress next so that *group* leaks nothing, or ``None`` if it is safe
    (or nothing in it can help). A *known* cell counts as published and is never taken."""

    def unseen(cell: Key) -> bool:
        return cell in hidden and cell not in known

    def candidate(cell: Key) -> bool:
        return cell not in hidden and cell not in known

    hidden_cells = [c for c in group.cells if unseen(c)]
    if not hidden_cells:
        return None
    free = sorted((c for c in group.members if candidate(c)), key=order)
    if len(hidden_cells) == 1:
        if free:
            return free[0]
        return group.marginal if candidate(group.marginal) else None
    if not unseen(group.marginal):
        hidden_members = [c for c in group.members if unseen(c)]
        if sum(counts[c] for c in hidden_members) <= len(hidden_members):
            bigger = [c for c in free if counts[c] >= 2]
            if bigger:
                return bigger[0]
            return group.marginal if candidate(group.marginal) else None
    return None


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
    hidden: Iterable[Key], groups: Sequence[Group], *, earlier: Earlier | None = None
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
    if earlier is not None:
        rows.extend(_rows(earlier.groups, {key: index[key] for key in before}))
    pivots = rref(rows)
    return {unknowns[col] for col, row in pivots.items() if len(row) == 1}


def protect(
    counts: Mapping[Key, int],
    primary: Iterable[Key],
    groups: Sequence[Group],
    *,
    order: Callable[[Key], SortKey] | None = None,
    earlier: Earlier | None = None,
    prefer: Collection[Key] = frozenset(),
    exact_widen: bool = False,
    cost: Callable[[Key], int] | None = None,
) -> Protection:
    """Secondary suppression to a fixed point (see the module docstring).

    *counts* holds every listed cell (count ≥ 1, or 0 for a cell only *earlier* listed);
    *groups* must only name such cells. *order* breaks ties between equally small cells
    (default: the key itself), after *prefer*. *earlier* is the last issue of the same
    tables (re-issue stability); every cell it suppressed must be in *counts*. *cost*
    (default: the count) and *exact_widen* change how secondary suppressions are chosen
    (module docstring), never what is checked.
    """

    def rank(key: Key) -> SortKey:
        return order(key) if order is not None else (0, 0, "\x1f".join(key))

    def by_size(key: Key) -> tuple[int, bool, SortKey]:
        size = counts.get(key, 0) if cost is None else cost(key)
        return (size, key not in prefer, rank(key))

    live = [g for g in groups if g.members]
    for group in live:
        for cell in group.cells:
            if cell not in counts:
                raise DiefError(f"suppression group names an unknown cell {cell!r}")
    first = frozenset(primary)
    hidden = set(first)
    kept: frozenset[Key] = frozenset()
    known: frozenset[Key] = frozenset()
    both: Earlier | None = None
    traced: list[Group] = live
    given: set[Key] = set()
    left: set[Key] = set()
    if earlier is not None:
        missing = sorted(earlier.suppressed - counts.keys())
        if missing:
            raise DiefError(f"a cell the earlier issue suppressed is not listed: {missing[0]!r}")
        kept = earlier.suppressed - first
        hidden |= kept
        known = earlier.unchanged - earlier.suppressed
        if earlier.groups:
            # without its groups, the check on both issues is the check on this one
            both = Earlier(earlier.suppressed, earlier.groups, known)
            traced = [*live, *earlier.groups]
        # what the earlier issue gave away on its own cannot be taken back (a cell it
        # suppressed whose count was public from the issue before it)
        given = (
            determined_cells(earlier.suppressed, earlier.groups)
            if earlier.given is None
            else set(earlier.given)
        )
        left = set(given)

    def candidate(cell: Key) -> bool:
        return cell in counts and cell not in hidden and cell not in known

    def unknown(cell: Key) -> bool:
        return cell in hidden and cell not in known

    # the equations over every listed cell, kept reduced while cells are hidden: the
    # check "no suppressed cell is determined" costs one pivot step per new suppression
    elimination: Elimination[Key] = Elimination(_equations(live))
    for cell in sorted(hidden - known, key=rank):
        elimination.add(cell)
    groups_of = _index(live)
    traced_of = groups_of if traced is live else _index(traced)
    dirty: set[int] = set(range(len(live)))

    def hide(cell: Key) -> None:
        hidden.add(cell)
        if cell not in known:
            elimination.add(cell)

    def settle() -> None:
        """Every group through _fix to a fixed point, pass after pass in their order (a
        group none of whose cells changed since it last passed is skipped: it would pass
        again)."""
        while dirty:
            current = sorted(dirty)
            queued = set(current)
            dirty.clear()
            while current:
                i = heapq.heappop(current)
                queued.discard(i)
                pick = _fix(live[i], hidden, known, counts, by_size)
                if pick is None:
                    continue
                hide(pick)
                for j in groups_of.get(pick, ()):
                    if j > i and j not in queued:
                        heapq.heappush(current, j)
                        queued.add(j)
                    elif j <= i:
                        dirty.add(j)

    rounds = 0
    while True:
        rounds += 1
        settle()
        leaks = sorted(elimination.determined() - given, key=by_size)
        if leaks:
            pick = None
            if exact_widen:
                pick = _source(elimination.sources(leaks[0]), by_size, candidate)
            if pick is None:
                pick = _widen(leaks[0], live, groups_of, by_size, candidate, unknown)
            if pick is None:
                if earlier is None:
                    raise DiefError("secondary suppression cannot protect a cell; this is a bug")
                # it follows from cells an earlier issue published with the counts they
                # have now (nothing else around it can be hidden): public already
                given.add(leaks[0])
                continue
            hide(pick)
            dirty.update(groups_of.get(pick, ()))
            continue
        if both is not None:
            leaks = sorted(determined_cells(hidden, live, earlier=both) - left, key=by_size)
            if leaks:
                # The leaks no published cell can break are left together; every other
                # leak gets a suppression in this same round. One suppression per round
                # meant one full elimination per hidden cell: minutes for a region whose
                # data grew tenfold since its last issue. Hiding more than the minimum
                # only costs cells; the next round checks everything again.
                for leak in leaks:
                    pick = _widen(leak, traced, traced_of, by_size, candidate, unknown)
                    if pick is None:
                        left.add(leak)
                        continue
                    hide(pick)
                    dirty.update(groups_of.get(pick, ()))
                continue
        return Protection(primary=first, suppressed=frozenset(hidden), rounds=rounds, kept=kept)


def _source(
    sources: Sequence[tuple[Key, bool]], by_size: _BySize, candidate: Callable[[Key], bool]
) -> Key | None:
    """The cell to suppress for a determined cell computed from *sources*: the smallest
    that undetermines it alone, else the smallest of them (another follows next round)."""
    breakers = [c for c, alone in sources if alone and candidate(c)]
    if breakers:
        return min(breakers, key=by_size)
    others = [c for c, _ in sources if candidate(c)]
    return min(others, key=by_size) if others else None


def _equations(groups: Iterable[Group]) -> Iterable[dict[Key, int]]:
    for group in groups:
        row: dict[Key, int] = {}
        for member in group.members:
            row[member] = row.get(member, 0) + 1
        row[group.marginal] = row.get(group.marginal, 0) - 1
        yield row


def _index(groups: Sequence[Group]) -> dict[Key, list[int]]:
    """cell → the positions of the groups naming it, in order."""
    out: dict[Key, list[int]] = {}
    for i, group in enumerate(groups):
        for cell in dict.fromkeys(group.cells):
            out.setdefault(cell, []).append(i)
    return out


def _widen(
    leak: Key,
    groups: Sequence[Group],
    groups_of: Mapping[Key, Sequence[int]],
    by_size: _BySize,
    candidate: Callable[[Key], bool],
    unknown: Callable[[Key], bool],
) -> Key | None:
    """A published cell to suppress so that *leak* may stop being determined.

    The smallest candidate member of a group holding *leak*, else such a marginal; when
    no cell of those groups is a candidate, the same one step further out, through the
    suppressed cells (the leak is then determined by a chain of groups). *groups_of* is
    the index of *groups* by cell.
    """
    visited = {leak}
    frontier = [leak]
    while frontier:
        members: set[Key] = set()
        marginals: set[Key] = set()
        reached: list[Key] = []
        near = sorted({i for cell in frontier for i in groups_of.get(cell, ())})
        for group in (groups[i] for i in near):
            members.update(c for c in group.members if candidate(c))
            if candidate(group.marginal):
                marginals.add(group.marginal)
            for cell in group.cells:
                if unknown(cell) and cell not in visited:
                    visited.add(cell)
                    reached.append(cell)
        if members:
            return min(members, key=by_size)
        if marginals:
            return min(marginals, key=by_size)
        frontier = reached
    return None

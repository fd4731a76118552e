"""Computing and protecting a route table (DESIGN §5 ⚑, §7 "one system").

A route table counts one CSP cycle of the sending region's cases whose ``related_regions``
name the receiving region (latest revisions, active, not TLP:RED), per
:data:`~dief.wire.ROUTE_DIMENSIONS`, with distinct contributors per cell (exact: one cycle is
one pseudonym domain).

Its cells are part of the sending region's protected system. Every route cell counts a
subset of the sending region's cases of the same (cycle, dimension, value): of its cell in
the CSP summary's region row (no TLP:RED either) and so of its meeting digest's. A reader
learns ``sender cell >= route cell``. So a route table must tell no reader more about the
sender's cells than a member of the sending region's meeting already knows from the
sender's own documents: each sender cell's *cap* (:meth:`SenderCells.caps
<dief.routes.SenderCells.caps>`): its count where the summary publishes it, else the least
count its month and quarter digests imply, less the cycle's TLP:RED cases, and at least 1.
The rule (docs/digests.md, "Route tables"):

1. **Primary**: a route cell with fewer than ``k`` contributors is suppressed; so is a
   *tainted* one: its count exceeds its cap (a sender cell published everywhere has its
   count as cap, never below the route cell's: such cells are never tainted).
2. **Secondary**: :func:`~dief.disclosure.protect` over the table's own sums (each
   single-valued dimension's values sum to the total), so no suppressed route cell follows
   exactly from the published ones.
3. **No bound on the sender**: the table must stay consistent with every route cell at
   most its cap (:func:`bounds_hold`). Then, for every value of the sender's cells its own
   documents allow, some value of the route table's suppressed cells fits under it: the
   table adds nothing about the sender's cells. Where that fails, the failing
   single-valued dimensions are left out of the table (listing nothing of a dimension
   bounds nothing; the total stays), then the published cells of the dimensions holding
   tainted cells are suppressed with the total, and if that is not enough the whole table
   is withheld (no totals, no cells).
4. **Re-issues** (a late case, a revision, a withdrawal in a closed cycle): what earlier
   issues of the same table listed (:class:`~dief.aggregator.store.RoutePattern`, stored
   by the sender) is kept. Every cell they suppressed stays suppressed (listed at count 0
   if it lost its cases), a cell they published with the count it has now is public
   (never a secondary suppression, published in every check, the bound check included),
   and the exact-elimination check runs on both issues together
   (:class:`~dief.disclosure.Earlier`), so two issues compared recover no cell.

Only CSP cycles are tabled: route tables of months or quarters would add exact sums
between route tables of different periods (a quarter is its three months), and with them a
route cell could be differenced out of other route tables and compared with the sender's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.aggregator.store import RouteCase, RoutePattern
from dief.disclosure import (
    SINGLE_VALUED,
    CellId,
    Earlier,
    Group,
    Key,
    PeriodCells,
    Tally,
    protect,
)
from dief.routes._sender import SenderCells
from dief.wire import ROUTE_DIMENSIONS

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping

__all__ = [
    "RouteCase",
    "RouteProtection",
    "SenderCells",
    "bounds_hold",
    "protect_route",
    "route_cells",
]

_ROUTE_DIMS = frozenset(d.value for d in ROUTE_DIMENSIONS)
_SINGLE = tuple(d.value for d in SINGLE_VALUED if d in ROUTE_DIMENSIONS)
_TABLE = "route"


def route_cells(cases: Iterable[RouteCase], earlier: RoutePattern | None = None) -> PeriodCells:
    """(dimension, value) → count and distinct contributors of *cases* (one cycle), the
    totals under ``TOTAL``; only :data:`~dief.wire.ROUTE_DIMENSIONS`.

    With *earlier* (what earlier issues of the table listed), every cell they suppressed
    that counts no case now is listed at count 0 (it stays suppressed: dropping it would
    publish its new count, 0); nothing is listed for a table without cases."""
    counts: dict[CellId, int] = {}
    who: dict[CellId, set[str]] = {}
    cycles: set[str] = set()
    for case in cases:
        cycles.add(case.cycle)
        cells = {TOTAL, *((d, v) for d, v in case.values if d in _ROUTE_DIMS)}
        for cell in cells:
            counts[cell] = counts.get(cell, 0) + 1
            who.setdefault(cell, set()).add(case.contributor)
    if len(cycles) > 1:
        raise ValueError("a route table counts one CSP cycle")
    spanned = tuple(sorted(cycles))
    out = {cell: Tally(n, len(who[cell]), spanned) for cell, n in counts.items()}
    if earlier is not None and out:
        for cell in sorted(earlier.suppressed - out.keys()):
            if cell == TOTAL or cell[0] in _ROUTE_DIMS:
                out[cell] = Tally(0, 0, spanned)
    return out


@dataclass(frozen=True, slots=True)
class RouteProtection:
    """Which cells of a route table are suppressed (``hidden``), and why: ``primary``
    (fewer than k contributors), ``tainted`` (above its cap: it would tell a reader more
    about the sender's cell than the sender's documents do), the rest secondary.
    ``omitted``: dimensions left out of the table (nothing of them listed); ``withheld``:
    nothing of the table is published; ``few``: the total has fewer than k contributors,
    so no dimension is listed (every dimension omitted)."""

    hidden: frozenset[CellId]
    primary: frozenset[CellId]
    tainted: frozenset[CellId]
    withheld: bool = False
    omitted: frozenset[str] = frozenset()
    few: bool = False

    def lists(self, cell: CellId) -> bool:
        """Whether the table lists *cell* (published or suppressed)."""
        return not self.withheld and (cell == TOTAL or cell[0] not in self.omitted)

    @property
    def secondary(self) -> frozenset[CellId]:
        return self.hidden - self.primary - self.tainted


def _groups(cells: Collection[CellId]) -> list[Group]:
    groups: list[Group] = []
    if TOTAL not in cells:
        return groups
    for dimension in _SINGLE:
        members = tuple(sorted((_TABLE, *c) for c in cells if c[0] == dimension))
        if members:
            groups.append(Group((_TABLE, *TOTAL), members))
    return groups


def _table_groups(cells: Collection[CellId], counts: Mapping[CellId, int | None]) -> list[Group]:
    """The groups of a table listing *cells*, less those whose sum does not hold in
    *counts* (``None``: suppressed, unknown; such a group is kept)."""

    def holds(group: Group) -> bool:
        values = [counts.get((g[1], g[2])) for g in group.cells]
        if any(v is None for v in values):
            return True
        return values[0] == sum(v or 0 for v in values[1:])

    return [g for g in _groups(cells) if holds(g)]


def _earlier(route: PeriodCells, pattern: RoutePattern) -> Earlier:
    """*pattern* (the table's earlier issues) as :func:`~dief.disclosure.protect` takes it:
    the cells they suppressed, their groups rebuilt from the record (those with a
    suppressed cell), and the cells they published with the count they have now."""
    recorded: dict[CellId, int | None] = dict(pattern.counts)
    recorded.update((cell, None) for cell in pattern.suppressed)
    missing = sorted(pattern.suppressed - route.keys())
    if missing:
        raise ValueError(f"a cell an earlier issue suppressed is not listed: {missing[0]!r}")
    suppressed = frozenset((_TABLE, *cell) for cell in pattern.suppressed)
    groups = tuple(
        g for g in _table_groups(recorded, recorded) if any(c in suppressed for c in g.cells)
    )
    unchanged = frozenset(
        (_TABLE, *cell)
        for cell, count in pattern.counts.items()
        if cell in route and route[cell].count == count
    )
    return Earlier(suppressed, groups, unchanged, given=frozenset())


def _known(route: PeriodCells, pattern: RoutePattern | None) -> frozenset[CellId]:
    """The cells an earlier issue published with the count they have now: public."""
    if pattern is None:
        return frozenset()
    return frozenset(
        cell
        for cell, count in pattern.counts.items()
        if cell not in pattern.suppressed and cell in route and route[cell].count == count
    )


def _protected(
    route: PeriodCells, first: Iterable[CellId], earlier: Earlier | None = None
) -> frozenset[CellId]:
    counts: dict[Key, int] = {(_TABLE, *cell): tally.count for cell, tally in route.items()}
    heavy = {(_TABLE, *TOTAL)}

    def cost(key: Key) -> int:
        return counts[key] * (10 if key in heavy else 1)

    done = protect(
        counts,
        {(_TABLE, *cell) for cell in first},
        _groups(route),
        cost=cost,
        exact_widen=True,
        earlier=earlier,
    )
    return frozenset((key[1], key[2]) for key in done.suppressed)


Interval = tuple[int, int | None]


def _cap(
    cell: CellId, tainted: Collection[CellId], upper: Mapping[CellId, int | None]
) -> int | None:
    """The most a suppressed route cell may count in the check (``None``: no bound); a
    tainted cell without a cap in *upper* counts one case."""
    bound = upper.get(cell)
    if bound is None and cell in tainted:
        return 1
    return bound


def _intervals(
    route: PeriodCells,
    hidden: Collection[CellId],
    tainted: Collection[CellId],
    upper: Mapping[CellId, int | None],
) -> tuple[Interval, dict[str, Interval]]:
    """The values the table's total can take by the total cell and the published
    multi-valued cells (a multi-valued cell counts at most the total), and by each listed
    single-valued dimension (its cells sum to the total), every suppressed cell between its
    least count (1, or 0 if listed at 0) and its cap."""
    total = route[TOTAL]
    high: int | None
    if TOTAL not in hidden:
        low, high = total.count, total.count
    else:
        low, high = 1, _cap(TOTAL, tainted, upper)
    for cell, tally in route.items():
        if cell != TOTAL and cell[0] not in _SINGLE and cell not in hidden:
            low = max(low, tally.count)
    by_dim: dict[str, Interval] = {}
    for dimension in _SINGLE:
        lo = hi = 0
        listed, bounded = False, True
        for cell, tally in route.items():
            if cell[0] != dimension:
                continue
            listed = True
            if cell not in hidden:
                lo, hi = lo + tally.count, hi + tally.count
                continue
            lo += min(1, tally.count)
            cap = _cap(cell, tainted, upper)
            if cap is None:
                bounded = False
            else:
                hi += cap
        if listed:
            by_dim[dimension] = (lo, hi if bounded else None)
    return (low, high), by_dim


def _meet(a: Interval, b: Interval) -> Interval:
    high = b[1] if a[1] is None else a[1] if b[1] is None else min(a[1], b[1])
    return max(a[0], b[0]), high


def _empty(interval: Interval) -> bool:
    return interval[1] is not None and interval[0] > interval[1]


def bounds_hold(
    route: PeriodCells,
    hidden: Collection[CellId],
    tainted: Collection[CellId],
    upper: Mapping[CellId, int | None],
) -> bool:
    """Whether the table's published cells are consistent with every suppressed cell
    between its least count and its cap: ``upper`` (the sender's cap, :meth:`SenderCells.caps
    <dief.routes.SenderCells.caps>`; ``None``: no bound, or one case for a tainted cell).
    A suppressed cell listed at count 0 (kept from an earlier issue) may be 0; any other
    listed cell counts at least one case.

    Exact for a route table's constraints: each single-valued dimension's cells sum to the
    total, every listed cell counts at least one case, and a multi-valued cell counts at
    most the total. Each constraint gives the total an interval; they hold together iff
    the intervals meet."""
    if TOTAL not in route:
        return True
    whole, by_dim = _intervals(route, hidden, tainted, upper)
    for interval in by_dim.values():
        whole = _meet(whole, interval)
    return not _empty(whole)


def _failing(
    route: PeriodCells,
    hidden: Collection[CellId],
    tainted: Collection[CellId],
    upper: Mapping[CellId, int | None],
) -> frozenset[str]:
    """The single-valued dimensions whose sum alone cannot meet the total."""
    if TOTAL not in route:
        return frozenset()
    whole, by_dim = _intervals(route, hidden, tainted, upper)
    return frozenset(d for d, interval in by_dim.items() if _empty(_meet(whole, interval)))


def _fixed(earlier: RoutePattern | None) -> frozenset[str]:
    """The dimensions an earlier issue listed: they stay in the table."""
    if earlier is None:
        return frozenset()
    return frozenset(cell[0] for cell in (*earlier.suppressed, *earlier.counts))


@dataclass(frozen=True, slots=True)
class _Rules:
    """One table's inputs to the protection: first suppressions, caps, known cells."""

    route: PeriodCells
    primary: frozenset[CellId]
    tainted: frozenset[CellId]
    upper: Mapping[CellId, int | None]
    known: frozenset[CellId]
    before: Earlier | None

    def run(
        self, omitted: frozenset[str] = frozenset(), more: Collection[CellId] = ()
    ) -> RouteProtection | None:
        """The protection of the table without the *omitted* dimensions, *more* cells
        suppressed first; ``None`` if it bounds a sender cell."""
        cells = {c: t for c, t in self.route.items() if c == TOTAL or c[0] not in omitted}
        first = (self.primary | self.tainted | frozenset(more)) & cells.keys()
        hidden = _protected(cells, first, self.before)
        if not bounds_hold(cells, hidden - self.known, self.tainted - self.known, self.upper):
            return None
        return RouteProtection(
            hidden, self.primary & cells.keys(), self.tainted & cells.keys(), omitted=omitted
        )

    def failing(self, hidden: frozenset[CellId]) -> frozenset[str]:
        return _failing(self.route, hidden - self.known, self.tainted - self.known, self.upper)


def _bare(route: PeriodCells, hidden: frozenset[CellId], fixed: frozenset[str]) -> frozenset[str]:
    """The single-valued dimensions (not *fixed*) that list only suppressed cells."""
    dims = {c[0] for c in route if c[0] in _SINGLE} - fixed
    return frozenset(d for d in dims if all(c in hidden for c in route if c[0] == d))


def _headline(rules: _Rules, bare: frozenset[str]) -> RouteProtection | None:
    """The protection that publishes the total by leaving out the fewest of the *bare*
    dimensions (greedily: all of them, then each put back if the total stays), or
    ``None``."""
    if not bare:
        return None
    best = rules.run(bare)
    if best is None or TOTAL in best.hidden:
        return None
    for dimension in sorted(bare):
        fewer = best.omitted - {dimension}
        again = rules.run(fewer)
        if again is not None and TOTAL not in again.hidden:
            best = again
    return best


def _few(route: PeriodCells, sender: SenderCells, k: int) -> RouteProtection | None:
    """A table whose total has fewer than *k* distinct contributors lists no value of any
    dimension (its total suppressed): a listed suppressed value says its cases have it, so
    one or two States' cases would have their profile read off the listing (#15,
    docs/digests.md "Route tables"). ``None`` for any other table."""
    total = route.get(TOTAL)
    if total is None or total.contributors >= k:
        return None
    caps = sender.caps(route)
    primary = frozenset(cell for cell, tally in route.items() if tally.contributors < k)
    tainted = frozenset(cell for cell, tally in route.items() if tally.count > caps[cell])
    return RouteProtection(frozenset(route), primary, tainted, omitted=_ROUTE_DIMS, few=True)


def protect_route(
    route: PeriodCells,
    sender: SenderCells,
    *,
    k: int,
    earlier: RoutePattern | None = None,
) -> RouteProtection:
    """The suppressions of one route table (module docstring: primary, secondary, then the
    bound on the sender: leaving out failing single-valued dimensions, widening to whole
    dimensions and the total, then to the whole table). A total hidden only to protect the
    cells of dimensions that publish none of them is kept by leaving those out instead.

    *earlier*: what earlier issues of the same table listed (the sender's record); *route*
    must then list every cell they suppressed (:func:`route_cells` with *earlier*)."""
    if k < 1:
        raise ValueError("k is at least 1")
    few = _few(route, sender, k)
    if few is not None:
        return few
    caps = sender.caps(route)
    rules = _Rules(
        route,
        primary=frozenset(cell for cell, tally in route.items() if tally.contributors < k),
        tainted=frozenset(cell for cell, tally in route.items() if tally.count > caps[cell]),
        upper=caps,
        # published before with the count it has now: the reader knows it, suppressed or not
        known=_known(route, earlier),
        before=_earlier(route, earlier) if earlier is not None and len(earlier) else None,
    )
    fixed = _fixed(earlier)
    done = rules.run()
    if done is not None:
        secondary = TOTAL in done.hidden and TOTAL not in rules.primary | rules.tainted
        bare = _bare(route, done.hidden, fixed) if secondary else frozenset()
        return _headline(rules, bare) or done
    # a dimension listed with nothing is no sum a reader can use: leave failing ones out
    hidden = _protected(route, rules.primary | rules.tainted, rules.before)
    omitted = rules.failing(hidden) - fixed
    done = rules.run(omitted) if omitted else None
    if done is not None:
        return done
    # the dimensions holding a tainted cell give up their published cells, and the total
    touched = {cell[0] for cell in rules.tainted}
    done = rules.run(omitted, {TOTAL, *(c for c in route if c[0] in touched)})
    if done is not None:
        return done
    return RouteProtection(frozenset(route), rules.primary, rules.tainted, withheld=True)

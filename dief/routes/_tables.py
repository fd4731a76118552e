"""Computing and protecting a route table (DESIGN §5 ⚑, §7 "one system").

A route table counts one CSP cycle of the sending region's cases whose ``related_regions``
name the receiving region (latest revisions, active, not TLP:RED), per
:data:`~dief.wire.ROUTE_DIMENSIONS`, with distinct contributors per cell (exact: one cycle is
one pseudonym domain).

Its cells are part of the sending region's protected system. Every route cell is a subset
of the sending region's cell of the same (cycle, dimension, value) in its meeting digest
(which counts TLP:RED too) and in the CSP summary's region row (which does not): a reader
learns ``digest cell >= route cell``. So a route table must not let a reader bound one of
the sender's suppressed cells. The rule (docs/digests.md, "Route tables"):

1. **Primary**: a route cell with fewer than ``k`` contributors is suppressed; so is a
   *tainted* one: its sender cell is suppressed in the cycle's digest (the region's joint
   pattern), or would be in the CSP summary (fewer than ``k_csp`` non-red contributors, or
   suppressed by a published summary).
2. **Secondary**: :func:`~dief.disclosure.protect` over the table's own sums (each
   single-valued dimension's values sum to the total), so no suppressed route cell follows
   exactly from the published ones.
3. **No bound on the sender**: the table must stay consistent with every tainted cell
   counting exactly one case and every other suppressed cell at most its sender cell's
   published count (:func:`bounds_hold`). Then every value of the sender's suppressed cells
   that the sender's own documents allow is also allowed with the route table beside them:
   the table adds nothing about them. Where that fails, the published cells of the
   dimensions concerned are suppressed too, and if that is not enough the whole table is
   withheld (no totals, no cells).
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

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

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
from dief.wire import ROUTE_DIMENSIONS

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
class SenderCells:
    """What the sending region publishes of the same cycle.

    ``digest``: each listed cell of its cycle digest, with the published count or ``None``
    where its joint pattern suppresses it; ``nonred``: the cycle's cells without TLP:RED
    (the CSP summary's region row before protection); ``summary_hidden``: cells a published
    summary of the cycle suppressed (when one is known)."""

    digest: Mapping[CellId, int | None]
    nonred: Mapping[CellId, Tally]
    k_csp: int = 3
    summary_hidden: frozenset[CellId] = frozenset()

    def bound(self, cell: CellId) -> int | None:
        """The largest count the route cell may have that the sender publishes everywhere
        (``None``: the sender suppresses, or may suppress, this cell somewhere)."""
        published = self.digest.get(cell)
        nonred = self.nonred.get(cell)
        if published is None or nonred is None or cell in self.summary_hidden:
            return None
        if nonred.contributors < self.k_csp:
            return None
        return min(published, nonred.count)


@dataclass(frozen=True, slots=True)
class RouteProtection:
    """Which cells of a route table are suppressed (``hidden``), and why: ``primary``
    (fewer than k contributors), ``tainted`` (the sender suppresses its cell), the rest
    secondary. ``withheld``: nothing of the table is published."""

    hidden: frozenset[CellId]
    primary: frozenset[CellId]
    tainted: frozenset[CellId]
    withheld: bool = False

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


def bounds_hold(
    route: PeriodCells,
    hidden: Collection[CellId],
    tainted: Collection[CellId],
    upper: Mapping[CellId, int | None],
) -> bool:
    """Whether the table's published cells are consistent with every tainted cell at one
    case and every other suppressed cell between one and its ``upper`` bound (the sender's
    published count; ``None``: no bound). A suppressed cell listed at count 0 (kept from
    an earlier issue) may be 0: its lower bound is 0, a tainted one's range [0, 1].

    Exact for a route table's constraints: each single-valued dimension's cells sum to the
    total, every listed cell counts at least one case, and a multi-valued cell counts at
    most the total. Each constraint gives the total an interval; they hold together iff
    the intervals meet."""
    total = route.get(TOTAL)
    if total is None:
        return True
    low, high = 1, upper.get(TOTAL)
    if TOTAL not in hidden:
        low = high = total.count
    elif TOTAL in tainted:
        high = 1
    for dimension in _SINGLE:
        lo = hi = 0
        unbounded = listed = False
        for cell, tally in route.items():
            if cell[0] != dimension:
                continue
            listed = True
            if cell not in hidden:
                lo, hi = lo + tally.count, hi + tally.count
                continue
            lo += min(1, tally.count)
            if cell in tainted:
                hi += 1
                continue
            bound = upper.get(cell)
            if bound is None:
                unbounded = True
            else:
                hi += bound
        if not listed:
            continue
        low = max(low, lo)
        if not unbounded:
            high = hi if high is None else min(high, hi)
    for cell, tally in route.items():
        if cell != TOTAL and cell[0] not in _SINGLE and cell not in hidden:
            low = max(low, tally.count)
    return high is None or low <= high


def protect_route(
    route: PeriodCells,
    sender: SenderCells,
    *,
    k: int,
    earlier: RoutePattern | None = None,
) -> RouteProtection:
    """The suppressions of one route table (module docstring: primary, secondary, then the
    bound on the sender, widening to whole dimensions and then to the whole table).

    *earlier*: what earlier issues of the same table listed (the sender's record); *route*
    must then list every cell they suppressed (:func:`route_cells` with *earlier*)."""
    if k < 1:
        raise ValueError("k is at least 1")
    before = _earlier(route, earlier) if earlier is not None and len(earlier) else None
    # published before with the count it has now: the reader knows it, suppressed or not
    known = _known(route, earlier)
    upper = {cell: sender.bound(cell) for cell in route}
    tainted = frozenset(cell for cell, bound in upper.items() if bound is None)
    primary = frozenset(cell for cell, tally in route.items() if tally.contributors < k)
    hidden = _protected(route, primary | tainted, before)
    if bounds_hold(route, hidden - known, tainted - known, upper):
        return RouteProtection(hidden, primary, tainted)
    # the dimensions holding a tainted cell give up their published cells, and the total
    wider = set(hidden) | {TOTAL}
    touched = {cell[0] for cell in tainted}
    wider.update(cell for cell in route if cell[0] in touched)
    hidden = _protected(route, primary | tainted | wider, before)
    if bounds_hold(route, hidden - known, tainted - known, upper):
        return RouteProtection(hidden, primary, tainted)
    return RouteProtection(frozenset(route), primary, tainted, withheld=True)

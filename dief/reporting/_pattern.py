"""The joint suppression pattern of a region's meeting digests (DESIGN §7 disclosure control).

A region's month, quarter and cycle digests are published side by side, and each is linked
to the others by additive groups (:class:`~dief.reporting._suppression.Group`), cells keyed
``(period, dimension, value)``:

- within one period, each single-valued dimension's values sum to the period's total;
- each quarter cell (every dimension value, and the total) is the sum of the same cell of
  its three months, each cycle cell the sum over its twelve months;
- each checklist window (four quarters, keyed ``W<last quarter>``) counts its risk
  indicators and its cases as the sum over its quarters (the checklist publishes the
  window's counts, and its prevalences the window's case count).

Multi-valued dimensions (a case may cite several values) do not sum to the total, so they
only take part in the cross-period groups. :func:`digest_pattern` starts from the primary
suppressions (fewer than ``k`` distinct contributors) and runs
:func:`~dief.reporting._suppression.protect` over all of them at once, so every digest of
the region, its charts' series and its previous-period counts share one pattern. The cost
is O(cells of the region), never a scan of the cases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dief.periods import DEFAULT_CYCLE_START_MONTH, CspCycle, Month, Period, Quarter, parse_period
from dief.reporting._cells import TOTAL, CellId, PeriodCells, Tally, combine
from dief.reporting._suppression import SINGLE_VALUED, Group, Key, SortKey, protect
from dief.vocab import Dimension

__all__ = ["DigestPattern", "digest_groups", "digest_pattern", "window_key", "window_quarters"]

_KIND_RANK = {Month: 0, Quarter: 1, CspCycle: 2}
_DIM_RANK = {d.value: i for i, d in enumerate(Dimension)}
_WINDOW = "W"
_INDICATOR = Dimension.RISK_INDICATOR.value


def window_key(last: Quarter) -> str:
    """The table name of the checklist window ending at quarter *last*."""
    return f"{_WINDOW}{last}"


def window_quarters(last: Quarter) -> tuple[Quarter, ...]:
    """The (up to) four quarters of the checklist window ending at *last*, oldest first."""
    quarters: list[Quarter] = [last]
    try:
        for _ in range(3):
            quarters.append(quarters[-1].previous())
    except ValueError:
        pass
    quarters.reverse()
    return tuple(quarters)


def _last_quarter(period: Period) -> Quarter:
    if isinstance(period, Month):
        return period.quarter
    if isinstance(period, Quarter):
        return period
    return period.last.quarter


@dataclass(frozen=True, slots=True)
class DigestPattern:
    """Which cells of a region's digests are suppressed (``primary``: below ``k``)."""

    k: int
    primary: frozenset[Key]
    suppressed: frozenset[Key]

    def hidden(self, period: str, cell: CellId, tally: Tally | None) -> bool:
        """Whether the cell is suppressed (no tally: a zero, published)."""
        if tally is None:
            return False
        key = (period, *cell)
        return key in self.suppressed or tally.contributors < self.k

    def published(self, period: str, cell: CellId, tally: Tally | None) -> int | None:
        """The count a digest publishes for the cell: 0 without data, ``None`` suppressed."""
        if tally is None:
            return 0
        return None if self.hidden(period, cell, tally) else tally.count

    def secondary(self, period: str) -> frozenset[Key]:
        return frozenset(k for k in self.suppressed - self.primary if k[0] == period)


def _order(key: Key) -> SortKey:
    table, dimension, value = key
    kind = 3 if table.startswith(_WINDOW) else 0
    if not kind:
        try:
            kind = _KIND_RANK[type(parse_period(table))]
        except ValueError:
            kind = 3
    return (kind, _DIM_RANK.get(dimension, -1), f"{table}\x1f{value}")


def _tables(
    tallies: Mapping[str, PeriodCells], start_month: int
) -> tuple[dict[str, PeriodCells], dict[str, tuple[str, ...]]]:
    """Every table (the periods, and the checklist windows they use) and, for each
    aggregate table, the tables it sums."""
    tables: dict[str, PeriodCells] = {}
    parts: dict[str, tuple[str, ...]] = {}
    lasts: set[Quarter] = set()
    for name, cells in tallies.items():
        try:
            period = parse_period(name, start_month=start_month)
        except ValueError:
            continue
        tables[name] = dict(cells)
        lasts.add(_last_quarter(period))
        if isinstance(period, (Quarter, CspCycle)):
            parts[name] = tuple(str(m) for m in period.months if str(m) in tallies)
    for last in sorted(lasts, key=str):
        quarters = tuple(str(q) for q in window_quarters(last) if str(q) in tallies)
        window = combine(tallies[q] for q in quarters)
        cells = {c: t for c, t in window.items() if c == TOTAL or c[0] == _INDICATOR}
        if cells:
            tables[window_key(last)] = cells
            parts[window_key(last)] = quarters
    return tables, parts


def digest_groups(
    tables: Mapping[str, PeriodCells], parts: Mapping[str, Iterable[str]]
) -> list[Group]:
    """The additive groups between the listed cells of *tables* (see the module docstring)."""
    groups: list[Group] = []
    for name in sorted(tables):
        cells = tables[name]
        if TOTAL not in cells or name.startswith(_WINDOW):
            continue
        for dimension in SINGLE_VALUED:
            members = tuple(sorted((name, *c) for c in cells if c[0] == dimension.value))
            if members:
                groups.append(Group((name, *TOTAL), members))
    for name in sorted(parts):
        inner = [p for p in parts[name] if p in tables]
        for cell in sorted(tables[name]):
            members = tuple((p, *cell) for p in inner if cell in tables[p])
            if members:
                groups.append(Group((name, *cell), members))
    return groups


def digest_pattern(
    tallies: Mapping[str, PeriodCells],
    *,
    k: int,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
) -> DigestPattern:
    """The joint pattern of every digest of a region from its merged cells (period → cells).

    Deterministic: the same cells give the same pattern, whether one digest or all of them
    are being written.
    """
    tables, parts = _tables(tallies, start_month)
    counts: dict[Key, int] = {}
    primary: set[Key] = set()
    for name, cells in tables.items():
        for cell, tally in cells.items():
            key = (name, *cell)
            counts[key] = tally.count
            if tally.contributors < k:
                primary.add(key)
    # a sum that does not hold in the data (cells of a period stored without those of its
    # months) is no equation a reader could use: only the sums that hold are groups
    groups = [
        g
        for g in digest_groups(tables, parts)
        if counts[g.marginal] == sum(counts[m] for m in g.members)
    ]
    protection = protect(counts, primary, groups, order=_order)
    return DigestPattern(k, protection.primary, protection.suppressed)

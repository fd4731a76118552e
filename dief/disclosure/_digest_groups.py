"""The tables of a region's meeting digests and the additive groups between them (DESIGN §7
disclosure control), from which :mod:`dief.disclosure._pattern` builds the joint pattern.

A region's month, quarter, half-cycle and cycle digests are published side by side, and
each is linked to the others by additive groups (:class:`~dief.disclosure.Group`), cells keyed
``(table, dimension, value)`` with a period as the table:

- within one period, each single-valued dimension's values sum to the period's total;
- each quarter cell (every dimension value, and the total) is the sum of the same cell of
  its three months, each half-cycle cell over its six, each cycle cell over its twelve;
- each checklist window (four quarters, table ``W<last quarter>``) counts its risk
  indicators and its cases as the sum over its quarters: the checklist publishes the
  window's counts, its prevalences give away the window's case count, and its trend flags
  compare with the four quarters before (the window ending four quarters earlier), so that
  window is a table too, as if published.

Multi-valued dimensions (a case may cite several values) do not sum to the total, so they
only take part in the cross-period groups. A group whose sum does not hold in the data
(cells of a period stored without those of its months, in a hand-made store) is no
equation a reader could use, and is left out.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.disclosure._cells import CellId, PeriodCells, Tally, combine
from dief.disclosure._design import WINDOW
from dief.disclosure._grouped import OTHER, is_grouped
from dief.disclosure._joint import row_table
from dief.disclosure._suppression import SINGLE_VALUED, Earlier, Group, Key
from dief.periods import CspCycle, HalfCycle, Month, Period, Quarter, parse_period
from dief.vocab import Dimension

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence

    from dief.aggregator.store import PublishedPattern, SuppressedCell

__all__ = [
    "digest_groups",
    "last_quarter",
    "visible_tables",
    "window_key",
    "window_quarters",
    "with_earlier_cells",
]

_WINDOW = WINDOW
_INDICATOR = Dimension.RISK_INDICATOR.value
#: the dimensions' names, single-valued and the others, in :class:`Dimension`'s order
_SINGLE = tuple(d.value for d in SINGLE_VALUED)
_MULTI = tuple(d.value for d in Dimension if d not in SINGLE_VALUED)


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


def last_quarter(period: Period) -> Quarter:
    """The quarter of *period*'s last month (where its checklist window ends)."""
    if isinstance(period, Month):
        return period.quarter
    if isinstance(period, Quarter):
        return period
    return period.last.quarter


def _shift(quarter: Quarter, back: int) -> Quarter | None:
    try:
        for _ in range(back):
            quarter = quarter.previous()
    except ValueError:
        return None
    return quarter


def _tables(
    tallies: Mapping[str, PeriodCells], start_month: int, extra: Iterable[str]
) -> tuple[dict[str, PeriodCells], dict[str, tuple[str, ...]]]:
    """Every table (the periods, and the checklist windows their digests show or compare
    with) and, for each aggregate table, the tables it sums."""
    tables: dict[str, PeriodCells] = {}
    parts: dict[str, tuple[str, ...]] = {}
    lasts: set[Quarter] = set()
    for name, cells in tallies.items():
        try:
            period = parse_period(name, start_month=start_month)
        except ValueError:
            continue
        tables[name] = dict(cells)
        lasts.add(last_quarter(period))
        if isinstance(period, (Quarter, HalfCycle, CspCycle)):
            parts[name] = tuple(str(m) for m in period.months if str(m) in tallies)
    lasts.update(last_quarter(parse_period(name, start_month=start_month)) for name in extra)
    windows = set(lasts)
    for last in lasts:
        prior = _shift(last, 4)
        if prior is not None:
            windows.add(prior)
    for last in sorted(windows, key=str):
        quarters = tuple(str(q) for q in window_quarters(last) if str(q) in tallies)
        window = combine(tallies[q] for q in quarters)
        cells = {
            c: t
            for c, t in window.items()
            if c == TOTAL or (c[0] == _INDICATOR and not is_grouped(c))
        }
        if cells:
            tables[window_key(last)] = cells
            parts[window_key(last)] = quarters
    return tables, parts


def visible_tables(periods: Iterable[str], *, start_month: int) -> set[str]:
    """The tables the digests of *periods* show something of: the period, the previous
    period (previous counts), its checklist window and the window its trends compare with."""
    out: set[str] = set()
    for name in periods:
        period = parse_period(name, start_month=start_month)
        out.add(str(period))
        if isinstance(period, CspCycle):
            out.add(row_table(str(period)))
        with contextlib.suppress(ValueError):
            out.add(str(period.previous()))
        last = last_quarter(period)
        out.add(window_key(last))
        prior = _shift(last, 4)
        if prior is not None:
            out.add(window_key(prior))
    return out


def with_earlier_cells(
    tallies: Mapping[str, PeriodCells],
    earlier: PublishedPattern | None,
    *,
    keep_periods: bool = False,
) -> dict[str, PeriodCells]:
    """*tallies* plus, at count 0, every cell an earlier issue listed that no longer
    counts a case (revised or withdrawn away), in a period that still has data: it stays
    listed, suppressed (as in a CSP re-issue), since dropping it would publish its new
    count, 0, and with it the change of the totals around it. Cells it published are kept
    too (suppressed, as below k): a suppressed quarter cell kept at 0 whose months no
    longer listed the value would be the sum of zeros. With *keep_periods*, a period an
    earlier issue published that has no data now is kept the same way (all its cells at
    0): without its digest, a reader would take it as zero everywhere."""
    out = {name: dict(cells) for name, cells in tallies.items()}
    if earlier is None:
        return out
    gone = set()
    if keep_periods:
        gone = {
            c.period
            for c in (*earlier.suppressed, *earlier.counts)
            if c.period not in out and not c.period.startswith((_WINDOW, "S"))
        }
    for name in gone:
        out[name] = {}
    for cell in (*earlier.suppressed, *earlier.counts):
        cells = out.get(cell.period)
        if cells is not None and (cell.dimension, cell.value) not in cells:
            cells[cell.dimension, cell.value] = Tally(0, 0, ())
    return out


def digest_groups(  # noqa: C901, PLR0912  one loop per kind of sum (dimensions, sole values, grouped cells, periods)
    tables: Mapping[str, PeriodCells],
    parts: Mapping[str, Iterable[str]],
    grouped: Mapping[tuple[str, str], Sequence[CellId]] | None = None,
) -> list[Group]:
    """The additive groups between the cells of *tables* (see the module docstring).

    *grouped* ((table, dimension) → the cells its ``(other)`` cell groups): those cells
    are not listed, so a single-valued dimension sums to the total through its ``(other)``
    cell, which is the sum of them (its own group); a grouped cell has no cross-period
    group (the values it groups differ from period to period)."""
    grouped = grouped or {}
    hidden_in: set[Key] = {(t, *c) for (t, _), cells in grouped.items() for c in cells}
    groups: list[Group] = []
    for name in sorted(tables):
        cells = tables[name]
        if TOTAL not in cells or name.startswith(_WINDOW):
            continue
        of_dimension: dict[str, list[CellId]] = {}
        for cell in cells:
            of_dimension.setdefault(cell[0], []).append(cell)
        for dimension in _SINGLE:
            members = tuple(
                sorted(
                    (name, *c)
                    for c in of_dimension.get(dimension, ())
                    if (name, *c) not in hidden_in
                )
            )
            if members:
                groups.append(Group((name, *TOTAL), members))
        # a dimension of several values per case that lists one value in this table: a
        # reader knows every case has it (no other value is listed, and each case has one
        # at least) where its count is the total, so it is the total's twin (the group is
        # kept only where the counts agree, below); without it a published sole item
        # category pinned a hidden total, and with it the two kinds of a two-case month
        for dimension in _MULTI:
            sole = of_dimension.get(dimension, ())
            if len(sole) == 1 and not is_grouped(sole[0]) and (name, *sole[0]) not in hidden_in:
                groups.append(Group((name, *TOTAL), ((name, *sole[0]),)))
    for (name, dim), rare in sorted(grouped.items()):
        if (dim, OTHER) in tables.get(name, {}):
            groups.append(Group((name, dim, OTHER), tuple((name, *c) for c in rare)))
    for name in sorted(parts):
        inner = [p for p in parts[name] if p in tables]
        for cell in sorted(tables[name]):
            if is_grouped(cell):
                continue
            members = tuple((p, *cell) for p in inner if cell in tables[p])
            if members:
                groups.append(Group((name, *cell), members))
    return groups


def _key(cell: SuppressedCell) -> Key:
    return (cell.period, cell.dimension, cell.value)


def _earlier(
    earlier: PublishedPattern,
    counts: Mapping[Key, int],
    start_month: int,
    unlisted: Collection[Key] = frozenset(),
) -> Earlier:
    """The earlier issues as :func:`protect` takes them: the cells they suppressed (those
    listed now), the counts they published that are the same now, and their groups,
    rebuilt from the record over every cell it lists (a group whose published cells do
    not add up is no equation and is left out; one with suppressed cells is kept, which
    errs on the safe side).

    *unlisted*: cells no document lists now (a withheld dimension's,
    :mod:`dief.disclosure._withheld`; a month's by total). Where a period of a sum has
    no recorded cell of a value's dimension and the cell is unlisted now, the earlier
    issue withheld that dimension too (a dimension it listed stays listed): the cell is
    an unknown of the earlier issue's sums, not a zero (left out, the earlier sums were
    false equations that pinned cells no reader can pin).

    A checklist window's sum is over the quarters the record lists and, of the quarter
    under way when the earlier issue was made (the closed periods' digests show its
    window; no digest lists it yet), over the months it lists (:func:`_window_parts`);
    where a month of that quarter no digest could show counts a cell now, that cell's
    sum is left out (:func:`_opaque_sums`). Rebuilt over the recorded quarters alone,
    the window was a sum missing a quarter: false, and with the issue now's true sum it
    pinned that quarter's cells, so a re-issue of unchanged data hid cells the first
    issue published (with withholding on: 8 digests re-issued in
    ``test_publish_closed_periods_first_all_then_only_changes``;
    tests/unit/test_earlier_record.py)."""
    recorded: dict[Key, int | None] = {_key(c): n for c, n in earlier.counts.items()}
    recorded.update((_key(c), None) for c in earlier.suppressed)
    tables: dict[str, PeriodCells] = {}
    for table, dimension, value in recorded:
        tables.setdefault(table, {})[dimension, value] = Tally(0, 0, ())
    parts: dict[str, tuple[str, ...]] = {}
    unseen: dict[str, tuple[str, ...]] = {}
    for name in tables:
        if name.startswith(_WINDOW):
            parts[name], unseen[name] = _window_parts(name, tables, counts)
            continue
        try:
            period = parse_period(name, start_month=start_month)
        except ValueError:
            continue
        if isinstance(period, (Quarter, HalfCycle, CspCycle)):
            parts[name] = tuple(str(p) for p in period.months if str(p) in tables)
    withheld = _withheld_before(tables, parts, unlisted)
    recorded.update(dict.fromkeys(withheld, None))

    def holds(group: Group) -> bool:
        values = [recorded[c] for c in group.cells]
        if any(v is None for v in values):
            return True
        return values[0] == sum(v or 0 for v in values[1:])

    suppressed = frozenset(key for key, n in recorded.items() if n is None and key in counts)
    opaque = _opaque_sums(tables, unseen, counts)
    groups = tuple(
        g
        for g in digest_groups(tables, parts)
        if holds(g)
        and g.marginal not in opaque
        and any(c in suppressed for c in g.cells)
        # a withheld value is no sole value: the reader does not know it is alone
        and not (g.marginal[1:] == TOTAL and len(g.members) == 1 and g.members[0] in withheld)
    )
    unchanged = frozenset(
        key for key, n in recorded.items() if n is not None and counts.get(key) == n
    )
    return Earlier(suppressed, groups, unchanged, given=frozenset())


def _window_parts(
    name: str, tables: Mapping[str, PeriodCells], counts: Mapping[Key, int]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The parts of the recorded checklist window *name* as the earlier issue's reader
    has them, and the months of its sum that reader did not see (see :func:`_earlier`).

    A quarter the record lists is a part. A quarter it does not list but one of whose
    months it lists was not over when the earlier issue was made (a closed quarter with
    data is issued with its months): its listed months are parts, and its other months
    that have data now are months that reader did not see. A quarter none of whose
    months the record lists had no data (it is no part: a zero, as in the issue now)."""
    out: list[str] = []
    unseen: list[str] = []
    for quarter in window_quarters(Quarter.parse(name[len(_WINDOW) :])):
        if str(quarter) in tables:
            out.append(str(quarter))
            continue
        months = [str(m) for m in quarter.months]
        listed = [m for m in months if m in tables]
        if not listed:
            continue
        out.extend(listed)
        unseen.extend(m for m in months if m not in tables and _has_data(m, counts))
    return tuple(out), tuple(unseen)


def _has_data(table: str, counts: Mapping[Key, int]) -> bool:
    return counts.get((table, *TOTAL), 0) > 0


def _opaque_sums(
    tables: Mapping[str, PeriodCells],
    unseen: Mapping[str, Sequence[str]],
    counts: Mapping[Key, int],
) -> set[Key]:
    """The window cells whose sum in the earlier issue has a part its reader did not
    see (a month of a quarter not yet over, :func:`_window_parts`, that counts the cell
    now): an unknown of that one equation alone, so the equation tells that reader
    nothing, and it is left out (taken as a zero, it would be false, as the window over
    its recorded quarters alone was). A month unseen by two windows' sums is taken as a
    zero in both (their difference is an equation that reader has; with the zero, a
    stronger one: the safe side, as any equation the reader does not hold)."""
    seen_by: dict[str, int] = {}
    for months in unseen.values():
        for month in months:
            seen_by[month] = seen_by.get(month, 0) + 1
    out: set[Key] = set()
    for name, months in unseen.items():
        alone = [m for m in months if seen_by[m] == 1]
        for cell in tables[name]:
            if any((m, *cell) in counts for m in alone):
                out.add((name, *cell))
    return out


def _withheld_before(
    tables: dict[str, PeriodCells], parts: Mapping[str, Sequence[str]], unlisted: Collection[Key]
) -> set[Key]:
    """The cells of the periods of the recorded sums that the earlier issue withheld (see
    :func:`_earlier`): put in *tables*; returns their keys."""
    if not unlisted:
        return set()
    shown = {(name, cell[0]) for name, cells in tables.items() for cell in cells}
    out: set[Key] = set()
    # per table, how many of its cells a pass has walked: a table only grows (new cells
    # last), and a cell walked once adds nothing the next time
    walked: dict[str, int] = {}
    grew = True
    while grew:  # a cell added to a quarter (a window's part) reaches its months next
        grew = False
        for name, inner in parts.items():
            cells = list(tables[name])
            start, walked[name] = walked.get(name, 0), len(cells)
            for cell in cells[start:]:
                if cell == TOTAL:
                    continue
                dimension, value = cell
                for part in inner:
                    if (part, dimension) in shown:
                        continue
                    key = (part, dimension, value)
                    if key in unlisted and key not in out:
                        tables[part][cell] = Tally(0, 0, ())
                        out.add(key)
                        grew = True
    return out

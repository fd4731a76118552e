"""The inputs of a region's joint pattern (:func:`~dief.disclosure.digest_pattern`): its
tables and cells, which are suppressed from the start (primary: fewer than ``k``
contributors, a silenced table), which no document lists, which a reader may compute or
knows, and the sums between them (:func:`pattern_cells`); the lower bounds a region's
released bulletins put on them (:func:`floor_cells`); the record of the tables an issue
silenced (:data:`SILENT_CELL`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.disclosure._design import (
    blank_zeros,
    group_rare_values,
    is_month,
    listed_zeros,
    month_shows,
    month_zeros,
)
from dief.disclosure._digest_groups import _key, _tables, digest_groups
from dief.disclosure._grouped import is_grouped
from dief.disclosure._joint import JointParts, is_red_table, is_row_table, joint_parts, row_table
from dief.disclosure._suppression import Group, Key
from dief.disclosure._withheld import withheld_cells, withheld_dimensions
from dief.periods import CspCycle, parse_period

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping

    from dief.aggregator.store import PublishedPattern
    from dief.disclosure._cells import CellId, PeriodCells

__all__ = [
    "SILENT_CELL",
    "PatternCells",
    "PatternOptions",
    "floor_cells",
    "month_cells_unlisted",
    "pattern_cells",
    "silent_tables",
    "without_silent",
]

#: the (dimension, value) an issue records, suppressed, for a table it silenced (lists
#: nothing: docs/digests.md "A cell no suppression can protect"): the next issue reads it
#: back from ``CaseStore.published_suppressions`` and keeps the table silent
SILENT_CELL = ("_silent", "_all")


def silent_tables(earlier: PublishedPattern | None) -> frozenset[str]:
    """The tables the region's earlier issues silenced (their :data:`SILENT_CELL` record)."""
    if earlier is None:
        return frozenset()
    return frozenset(c.period for c in earlier.suppressed if (c.dimension, c.value) == SILENT_CELL)


def without_silent(earlier: PublishedPattern | None) -> PublishedPattern | None:
    """*earlier* without its :data:`SILENT_CELL` records (no cell of any table)."""
    if earlier is None or not silent_tables(earlier):
        return earlier
    return replace(
        earlier,
        suppressed=frozenset(
            c for c in earlier.suppressed if (c.dimension, c.value) != SILENT_CELL
        ),
    )


#: the table suffix of the cells that carry a known case's lower bound (:func:`floor_cells`)
_FLOOR = "\x1fknown"


def floor_cells(
    known_cases: Mapping[str, PeriodCells] | None,
    counts: Mapping[Key, int],
    unlisted: Iterable[Key],
    *,
    start_month: int,
    periods: Iterable[str],
) -> tuple[dict[Key, int], list[Group], set[Key], set[Key]]:
    """The lower bounds *known_cases* put on the cells of *counts*, as cells :func:`protect`
    already takes: a cell ``c`` at least ``b`` is ``c = known + rest``, ``known`` a public
    cell counting ``b`` and ``rest`` a free cell no document lists (least value 0), both in
    a table no digest shows. Only bounds above what the reader assumes anyway (1 for a
    listed cell, 0 for an unlisted one) are added, and none above a cell's count (a bulletin
    whose case no longer counts there is retracted). Returns the cells to add, their
    groups, the known ones and the free ones."""
    if not known_cases:
        return {}, [], set(), set()
    # every window the digests show, also where the known cases have no quarter of its end
    shown = set(periods)
    for name in {key[0] for key in counts}:
        with contextlib.suppress(ValueError):
            parse_period(name, start_month=start_month)
            shown.add(name)
    tables, _ = _tables(known_cases, start_month, sorted(shown))
    floors: dict[Key, int] = {}
    for name, cells in tables.items():
        names = [name]
        with contextlib.suppress(ValueError):
            if isinstance(parse_period(name, start_month=start_month), CspCycle):
                names.append(row_table(name))  # the cycle's row of the CSP summary
        for cell, tally in cells.items():
            for table in names:
                key = (table, *cell)
                if key in counts:
                    floors[key] = max(floors.get(key, 0), tally.count)
    floor0 = set(unlisted)
    add: dict[Key, int] = {}
    groups: list[Group] = []
    for key, least in sorted(floors.items()):
        if least <= (0 if key in floor0 else 1) or least > counts[key]:
            continue
        part = (f"{key[0]}{_FLOOR}", "known", f"{key[1]}={key[2]}")
        rest = (f"{key[0]}{_FLOOR}", "rest", f"{key[1]}={key[2]}")
        add[part], add[rest] = least, counts[key] - least
        groups.append(Group(key, (part, rest)))
    known = {g.members[0] for g in groups}
    return add, groups, known, {g.members[1] for g in groups}


def month_cells_unlisted(
    tables: Mapping[str, PeriodCells], *, k: int, zeros: Collection[Key]
) -> tuple[set[Key], set[Key]]:
    """Months by total: a month publishes its total and kind; its other cells stay in the
    sums (a quarter is its months) as cells no document lists. Returns those cells, and
    those of them a reader may compute (k contributors, or a known zero)."""
    unlisted: set[Key] = set()
    free: set[Key] = set()
    for name, cells in tables.items():
        if not is_month(name):
            continue
        for cell, tally in cells.items():
            if not month_shows(cell):
                unlisted.add((name, *cell))
                if tally.contributors >= k or (name, *cell) in zeros:
                    free.add((name, *cell))
    return unlisted, free


@dataclass(frozen=True, slots=True)
class PatternOptions:
    """The options of :func:`~dief.disclosure.digest_pattern` besides its cells (``k``,
    ``start_month``; ``periods``: the checklist windows' periods without data).

    *earlier*: what the region's earlier issues listed (``CaseStore.published_suppressions``).
    Every cell they suppressed stays suppressed (listed at count 0 if it lost its cases:
    pass *tallies* through :func:`~dief.disclosure.with_earlier_cells`), and a cell they
    published with the count it has now is public: never chosen as a secondary
    suppression, and counted as published in every check
    (:class:`~dief.disclosure.Earlier`).

    *rows* (cycle → the region's cells without TLP:RED, each cycle's row of the CSP
    summary) with *k_summary* (``k_csp``) make the pattern joint with the summaries: the
    rows and the TLP:RED part between them and the cycle digests are protected together
    (:mod:`dief.disclosure._joint`), and ``rows`` of the result says what each summary
    must suppress. Rows recorded by earlier issues (tables ``S<cycle>``) are kept like the
    digests' tables.

    *months_by_total* (joint patterns only; the default since session 13,
    :data:`~dief.disclosure._design.MONTHS_BY_TOTAL_BY_DEFAULT`, docs/digests.md "Tables
    designed for the data"): month digests publish their totals and ``kind`` only, their other
    cells kept in the sums as cells no document lists (each value of a quarter, half or
    cycle may be in any of its months: a month cell without data is an unknown at least
    0, not a known zero). Always: a table's total with k contributors (and the top of each
    checklist) is reserved: taken as a secondary suppression only where no other cell can
    protect (``protect(..., reserve=)``).

    *group_rare* (opt-in; measured worse, docs/digests.md): in every table, values with
    fewer than *k* contributors that no earlier issue listed are grouped as ``(other)``
    (:mod:`dief.disclosure._grouped`; a grouped cell in *tallies* gives its exact
    contributors).

    *known_cases* (period → cells, every period as in *tallies*): cases every reader
    knows, the region's released bulletins (#15, DESIGN §13): each cell they fall in, the
    checklist windows' and the summary rows' too, counts at least their number
    (:func:`floor_cells`).

    *withhold* (default :data:`~dief.disclosure._withheld.WITHHOLD_BY_DEFAULT`, off): a
    dimension whose every value in a period has fewer than *k* contributors (the period
    having k) lists no value (:mod:`dief.disclosure._withheld`; ``withheld`` of the result).

    *silent*: tables (periods) that list nothing, and those *earlier* silenced
    (:data:`SILENT_CELL`): every cell of theirs is suppressed (primary), every one but the
    total listed nowhere (least value 0), all still in every sum (docs/digests.md, "A cell
    no suppression can protect"); ``silent`` of the result.
    """

    k: int
    start_month: int
    periods: tuple[str, ...] = ()
    earlier: PublishedPattern | None = None
    rows: Mapping[str, PeriodCells] | None = None
    k_summary: int | None = None
    months_by_total: bool = False
    group_rare: bool = False
    known_cases: Mapping[str, PeriodCells] | None = None
    withhold: bool = False
    silent: frozenset[str] = frozenset()

    def key(self) -> tuple[object, ...]:
        """What the memo (:mod:`dief.disclosure._memo`) tells patterns apart by, besides
        the cells."""
        return (
            self.k,
            self.start_month,
            self.periods,
            self.earlier,
            self.rows,
            self.k_summary,
            self.months_by_total,
            self.group_rare,
            self.known_cases,
            self.withhold,
            tuple(sorted(self.silent)),
        )


@dataclass(slots=True)
class PatternCells:
    """Every cell of a region's pattern and what a reader knows of it (:func:`pattern_cells`).

    ``tables``/``parts``: the tables (periods, windows, the joint rows) and the periods
    each window or longer period is made of; ``counts``: every listed cell's count;
    ``primary``: suppressed from the start; ``unlisted``: listed nowhere (least value 0);
    ``free``: unknowns a reader may compute; ``known``: cells a reader knows;
    ``groups``: the sums that hold in the data (``floor_groups``: a known case's bound);
    ``nil``: the values a quarter (half, cycle) does not list, 0 in its months;
    ``withheld``: the dimensions that list no value; ``joint``: the joint rows, if any;
    ``recorded``: every cell an earlier issue listed; ``zeros``: month cells without data
    (months by total), unknowns at least 0; ``silent``: the tables that list
    nothing; ``floors``: the least count a reader reads off a hidden cell's stated reason
    (:func:`reason_floors`).
    """

    tables: dict[str, PeriodCells]
    parts: dict[str, tuple[str, ...]]
    counts: dict[Key, int]
    primary: set[Key]
    unlisted: set[Key]
    free: set[Key]
    nil: dict[Key, tuple[Key, ...]]
    withheld: dict[tuple[str, str], tuple[CellId, ...]]
    recorded: set[Key]
    zeros: set[Key]
    joint: JointParts | None = None
    groups: list[Group] | None = None
    floor_groups: tuple[list[Group], set[Key], set[Key]] = ([], set(), set())
    silent: frozenset[str] = frozenset()
    floors: dict[Key, int] = field(default_factory=dict)


def reason_floors(
    tables: Mapping[str, PeriodCells],
    unlisted: Collection[Key],
    *,
    k: int,
    k_summary: int | None,
) -> dict[Key, int]:
    """Every listed cell of at least k contributors (``k_summary`` for a summary row), at
    k: hidden, it says it was hidden to protect another cell (DESIGN §7), so a reader knows
    it counts at least k cases (tests/unit/test_reason_leaks.py). The TLP:RED parts and
    the cells no document lists state no reason."""
    floors: dict[Key, int] = {}
    for name, table in tables.items():
        if is_red_table(name):
            continue
        least = k_summary if is_row_table(name) else k
        if least is None:
            continue
        for cell, tally in table.items():
            key = (name, *cell)
            if tally.contributors >= least and key not in unlisted:
                floors[key] = least
    return floors


def _withheld_of(
    tables: Mapping[str, PeriodCells],
    *,
    k: int,
    recorded: Collection[Key],
    grouped: Collection[tuple[str, str]],
    withhold: bool,
) -> dict[tuple[str, str], tuple[CellId, ...]]:
    """A dimension whose every value has fewer than k contributors lists no value (none
    with *withhold* off, none that is grouped)."""
    if not withhold:
        return {}
    return {
        key: cells
        for key, cells in withheld_dimensions(tables, k=k, recorded=recorded).items()
        if key not in grouped
    }


def _base_cells(
    tallies: Mapping[str, PeriodCells], options: PatternOptions, *, coarse: bool
) -> tuple[PatternCells, dict[tuple[str, str], tuple[CellId, ...]]]:
    """The digests' own tables and cells (before the joint rows), and the grouped values."""
    k, earlier = options.k, options.earlier
    tables, parts = _tables(tallies, options.start_month, options.periods)
    recorded = {_key(c) for c in (*earlier.suppressed, *earlier.counts)} if earlier else set()
    grouped = (
        group_rare_values(tables, k=k, recorded=recorded, coarse=coarse)
        if options.group_rare
        else {}
    )
    # months by total: a month cell without data is an unknown at least 0, put in *tables*
    # before anything reads them (:func:`~dief.disclosure._design.month_zeros`)
    zeros = month_zeros(tables, parts) if coarse else set()
    withheld = _withheld_of(
        tables, k=k, recorded=recorded, grouped=grouped, withhold=options.withhold
    )
    # a table listing no value of a dimension does not say which it has no case of either
    blank = blank_zeros(tables, parts, k=k, withheld=withheld) if coarse else set()
    zeros |= blank
    # the values a quarter (half, cycle) does not list: 0, so are their months' cells
    nil = listed_zeros(tables, parts) if coarse else {}
    counts: dict[Key, int] = {}
    primary: set[Key] = set()
    for name, table in tables.items():
        for cell, tally in table.items():
            key = (name, *cell)
            counts[key] = tally.count
            if tally.contributors < k:
                primary.add(key)
    counts.update(dict.fromkeys(nil, 0))
    primary -= blank  # a known zero of nothing: never sensitive, least value 0
    unlisted: set[Key] = {(t, *c) for (t, _), cells in grouped.items() for c in cells}
    unlisted |= blank
    # a withheld value of a month is still in the quarter's sums; a value the month has no
    # case of is an unknown at least 0 there in the default design (blank_zeros, above),
    # else a known zero (the reader does not know it: the safe side)
    unlisted |= withheld_cells(withheld)
    if coarse:
        # a month lists no dimension but kind by design (months by total), so none of its
        # others is "withheld": a first issue and a re-issue (where every dimension no
        # earlier issue listed stays withheld) name the same, nothing; its cells stay
        # unlisted either way
        withheld = {
            (table, dimension): members
            for (table, dimension), members in withheld.items()
            if not is_month(table) or month_shows((dimension, ""))
        }
    cells = PatternCells(
        tables, parts, counts, primary, unlisted, set(blank), nil, withheld, recorded, zeros
    )
    return cells, grouped


def _add_joint(  # noqa: PLR0913  the joint rows' options, each by keyword
    cells: PatternCells,
    rows: Mapping[str, PeriodCells],
    *,
    k: int,
    k_summary: int,
    coarse: bool,
    zeros: Collection[Key],
) -> None:
    """The summaries' rows and the TLP:RED parts joint with the digests
    (:mod:`dief.disclosure._joint`); months by total (*coarse*): a month's cells besides
    its total and kind listed nowhere."""
    tables = cells.tables
    plain = {n: {c: t for c, t in v.items() if not is_grouped(c)} for n, v in tables.items()}
    joint = joint_parts(plain, rows, k_meeting=k, k_csp=k_summary)
    tables.update(joint.tables)
    cells.counts.update(joint.counts)
    cells.primary.update(joint.primary)
    cells.unlisted.update(joint.unlisted)
    cells.free.update(joint.free)
    if coarse:
        hidden_cells, computable = month_cells_unlisted(tables, k=k, zeros=zeros)
        cells.unlisted |= hidden_cells
        cells.free |= computable
    cells.primary -= set(zeros)
    cells.joint = joint


def _silence(cells: PatternCells, silent: Collection[str], *, zeros: Collection[Key]) -> None:
    """A silenced table: every cell hidden, listed nowhere but its total (a digest always
    states its total, hidden: at least 1 for its reader), still in every sum."""
    quiet = {key for key in cells.counts if key[0] in silent}
    cells.primary |= quiet - set(zeros)
    cells.unlisted |= {key for key in quiet if key[1:] != TOTAL}


def pattern_cells(tallies: Mapping[str, PeriodCells], options: PatternOptions) -> PatternCells:
    """The inputs of :func:`~dief.disclosure.digest_pattern`: the digests' tables, the
    joint rows, the silenced tables, the sums that hold in the data, and the bounds of the
    known cases (:func:`floor_cells`)."""
    k, rows, k_summary = options.k, options.rows, options.k_summary
    coarse = options.months_by_total and rows is not None and k_summary is not None
    cells, grouped = _base_cells(tallies, options, coarse=coarse)
    zeros = cells.zeros
    if rows is not None and k_summary is not None:
        _add_joint(cells, rows, k=k, k_summary=k_summary, coarse=coarse, zeros=zeros)
    _silence(cells, options.silent, zeros=zeros)
    cells.silent = options.silent
    counts = cells.counts
    # a sum that does not hold in the data is no equation a reader could use
    cells.groups = [
        g
        for g in [
            *digest_groups(cells.tables, cells.parts, grouped),
            *(cells.joint.groups if cells.joint else ()),
            *(Group(cell, members) for cell, members in sorted(cells.nil.items()) if members),
        ]
        if counts[g.marginal] == sum(counts[m] for m in g.members)
    ]
    floor_counts, floor_groups, floor_known, floor_rest = floor_cells(
        options.known_cases,
        counts,
        cells.unlisted,
        start_month=options.start_month,
        periods=options.periods,
    )
    counts.update(floor_counts)
    cells.floor_groups = (floor_groups, floor_known, floor_rest)
    cells.floors = reason_floors(cells.tables, cells.unlisted, k=k, k_summary=k_summary)
    return cells

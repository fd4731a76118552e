"""The joint suppression pattern of a region's meeting digests (DESIGN §7 disclosure control).

A digest's previous-period counts and its charts' series are the cells of the earlier
periods' tables, so they publish nothing new as long as they follow the same pattern.

The tables of a region's digests and the additive groups between them are built by
:mod:`dief.disclosure._digest_groups`.

:func:`digest_pattern` starts from the primary suppressions (fewer than ``k`` distinct
contributors) and runs :func:`~dief.disclosure.protect` over all the region's
tables at once, so every digest of the region, its charts and its previous-period counts
share one pattern in which no suppressed cell follows exactly from the published ones. The
cost is O(cells of the region) to set up, never a scan of the cases.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.aggregator.store import PublishedCell, PublishedPattern, SuppressedCell
from dief.disclosure import _withheld
from dief.disclosure._design import (
    MONTH_CELLS,
    MONTH_DIMENSIONS,
    WINDOW,
    coarse_months,
    group_rare_values,
    is_month,
    listed_zeros,
    month_shows,
    month_zeros,
    reserved_cells,
)
from dief.disclosure._digest_groups import (
    _earlier,
    _key,
    _tables,
    digest_groups,
)
from dief.disclosure._grouped import is_grouped
from dief.disclosure._joint import (
    RowRequirement,
    is_red_table,
    is_row_table,
    joint_parts,
    row_requirements,
    row_table,
)
from dief.disclosure._memo import remembered
from dief.disclosure._pieces import protect_piece
from dief.disclosure._suppression import (
    Earlier,
    Group,
    Key,
    Protection,
    SortKey,
    protect,
)
from dief.disclosure._withheld import withheld_cells, withheld_dimensions
from dief.periods import (
    DEFAULT_CYCLE_START_MONTH,
    CspCycle,
    HalfCycle,
    Month,
    Quarter,
    parse_period,
)
from dief.vocab import Dimension

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence

    from dief.disclosure._cells import CellId, PeriodCells, Tally

__all__ = [
    "MONTH_CELLS",
    "MONTH_DIMENSIONS",
    "DigestPattern",
    "coarse_months",
    "digest_pattern",
    "month_shows",
]

_KIND_RANK = {Month: 0, Quarter: 1, HalfCycle: 2, CspCycle: 3}
_WINDOW_RANK = 4
_DIM_RANK = {d.value: i for i, d in enumerate(Dimension)}
_WINDOW = WINDOW
_INDICATOR = Dimension.RISK_INDICATOR.value
#: a total (or a cell that is its table's total: the only value of a single-valued
#: dimension) costs this many times its count as a secondary suppression, so that the
#: small cells around it are taken first: a withheld total takes shares and the headline
#: number with it
TOTAL_WEIGHT = 10


@dataclass(frozen=True, slots=True)
class DigestPattern:
    """Which cells of a region's digests are suppressed (``primary``: below ``k``).

    ``tables``: the tables it covers (periods, and windows ``W<quarter>``); a cell of a
    table it does not cover is judged by ``k`` alone. ``secondary_of``: a table's cells
    suppressed only by secondary suppression. ``counts``: every listed cell of those
    tables; ``kept``: cells suppressed because an earlier issue suppressed them (not
    primary now).
    """

    k: int
    primary: frozenset[Key]
    suppressed: frozenset[Key]
    tables: frozenset[str] = frozenset()
    rounds: int = field(default=0, compare=False)
    secondary_of: Mapping[str, frozenset[Key]] = field(default_factory=dict, compare=False)
    counts: Mapping[Key, int] = field(default_factory=dict, compare=False)
    kept: frozenset[Key] = frozenset()
    #: cycle → what the cycle's CSP summary must do for this region (joint patterns only)
    rows: Mapping[str, RowRequirement] = field(default_factory=dict, compare=False)
    #: the summaries' k the rows were protected with (joint patterns only)
    k_summary: int | None = None
    #: cells of its tables no document lists (values grouped as ``(other)``, a month's
    #: cells besides its total and kind): unknowns of the pattern, never published
    unlisted: frozenset[Key] = frozenset()
    #: (table, dimension) whose digest lists no value: every value has fewer than k
    #: contributors (:mod:`dief.disclosure._withheld`); its cells are in ``unlisted``
    withheld: frozenset[tuple[str, str]] = frozenset()

    def withholds(self, table: str, dimension: str) -> bool:
        """Whether the digest of *table* withholds *dimension* (lists none of its values:
        each has fewer than k contributors)."""
        return (table, dimension) in self.withheld

    def listed_cell(self, table: str, cell: CellId) -> bool:
        """Whether the digest of *table* lists *cell* (not grouped, not a month's hidden
        dimension)."""
        return (table, *cell) not in self.unlisted

    def hidden(self, table: str, cell: CellId, tally: Tally | None) -> bool:
        """Whether the cell is suppressed (no tally: a zero, published)."""
        if tally is None:
            return False
        return tally.contributors < self.k or (table, *cell) in self.suppressed

    def published(self, table: str, cell: CellId, tally: Tally | None) -> int | None:
        """The count a digest publishes for the cell: 0 without data, ``None`` suppressed."""
        if tally is None:
            return 0
        return None if self.hidden(table, cell, tally) else tally.count

    def secondary(self, table: str) -> frozenset[Key]:
        """The cells of *table* suppressed only by secondary suppression."""
        return self.secondary_of.get(table, frozenset())

    @property
    def secondary_count(self) -> int:
        return len(self.suppressed) - len(self.primary)

    def listed(self, tables: Iterable[str] | None = None) -> list[PublishedCell]:
        """Every listed cell of *tables* (default: all it covers) as the digests publish
        it: the count, or ``None`` where suppressed (what the issuer records)."""
        wanted = self.tables if tables is None else frozenset(tables) & self.tables
        return [
            PublishedCell(SuppressedCell(*key), None if key in self.suppressed else n)
            for key, n in sorted(self.counts.items())
            if key[0] in wanted and key not in self.unlisted
        ]


def _order_of(tables: Iterable[str], start_month: int) -> dict[str, int]:
    ranks: dict[str, int] = {}
    for name in tables:
        if name.startswith(_WINDOW):
            ranks[name] = _WINDOW_RANK
        elif is_row_table(name) or is_red_table(name):
            ranks[name] = _WINDOW_RANK + 1
        else:
            ranks[name] = _KIND_RANK[type(parse_period(name, start_month=start_month))]
    return ranks


def digest_pattern(  # noqa: PLR0913  a public keyword signature (the tables' options)
    tallies: Mapping[str, PeriodCells],
    *,
    k: int,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
    periods: Iterable[str] = (),
    earlier: PublishedPattern | None = None,
    rows: Mapping[str, PeriodCells] | None = None,
    k_summary: int | None = None,
    months_by_total: bool = False,
    group_rare: bool = False,
    known_cases: Mapping[str, PeriodCells] | None = None,
    withhold: bool | None = None,
) -> DigestPattern:
    """The joint pattern of every digest of a region from its merged cells (period → cells,
    every period with data), covering also the checklist windows of *periods* (digests to
    publish that may have no data of their own, such as an empty cycle).

    *earlier*: what the region's earlier issues listed (``CaseStore.published_suppressions``).
    Every cell they suppressed stays suppressed (listed at count 0 if it lost its cases:
    pass *tallies* through :func:`with_earlier_cells`), and a cell they published with the
    count it has now is public: never chosen as a secondary suppression, and counted as
    published in every check (:class:`~dief.disclosure.Earlier`).

    *rows* (cycle → the region's cells without TLP:RED, each cycle's row of the CSP
    summary) with *k_summary* (``k_csp``) make the pattern joint with the summaries: the
    rows and the TLP:RED part between them and the cycle digests are protected together
    (:mod:`dief.disclosure._joint`), and ``rows`` of the result says what each summary
    must suppress. Rows recorded by earlier issues (tables ``S<cycle>``) are kept like the
    digests' tables.

    *months_by_total* (joint patterns only; opt-in, docs/digests.md "Tables designed for
    the data"): month digests publish their totals and ``kind`` only, their other
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
    (:func:`_floor_cells`).

    *withhold* (default :data:`~dief.disclosure._withheld.WITHHOLD_BY_DEFAULT`, on): a
    dimension whose every value in a period has fewer than *k* contributors (the period
    having k) lists no value (:mod:`dief.disclosure._withheld`; ``withheld`` of the result).

    Deterministic: the same cells give the same pattern, whether one digest or all of them
    are being written.

    Computed once per input (:mod:`dief.disclosure._memo`): every digest, series, route
    table and summary requirement of a region's issue built from the same cells reuses it.
    """
    if k < 1:
        raise ValueError("k is at least 1")
    extra = tuple(sorted({str(p) for p in periods} - set(tallies)))
    withhold = _withheld.WITHHOLD_BY_DEFAULT if withhold is None else withhold
    return remembered(
        (
            k,
            start_month,
            extra,
            earlier,
            rows,
            k_summary,
            months_by_total,
            group_rare,
            known_cases or None,
            withhold,
        ),
        tallies,
        lambda: _digest_pattern(
            tallies,
            k=k,
            start_month=start_month,
            periods=extra,
            earlier=earlier,
            rows=rows,
            k_summary=k_summary,
            months_by_total=months_by_total,
            group_rare=group_rare,
            known_cases=known_cases,
            withhold=withhold,
        ),
    )


#: the table suffix of the cells that carry a known case's lower bound (:func:`_floor_cells`)
_FLOOR = "\x1fknown"


def _floor_cells(
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


def _month_cells_unlisted(
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


def _digest_pattern(  # noqa: C901, PLR0913, PLR0914, PLR0915  the pattern's one assembly from its parts
    tallies: Mapping[str, PeriodCells],
    *,
    k: int,
    start_month: int,
    periods: Iterable[str],
    earlier: PublishedPattern | None,
    rows: Mapping[str, PeriodCells] | None,
    k_summary: int | None,
    months_by_total: bool,
    group_rare: bool = False,
    known_cases: Mapping[str, PeriodCells] | None = None,
    withhold: bool = False,
) -> DigestPattern:
    """:func:`digest_pattern`, computed (a re-issue only over the piece its new data
    reaches: :mod:`dief.disclosure._pieces`).

    Long on purpose: one assembly, in order, of the parts each built by its own module
    (tables, withheld and grouped values, the joint rows, sums, floors, the earlier issue,
    the orderings, :func:`protect` over the piece, the row requirements); each step reads
    the cells the steps before it added, so split further it would pass them all along."""
    tables, parts = _tables(tallies, start_month, periods)
    coarse = months_by_total and rows is not None and k_summary is not None
    recorded = {_key(c) for c in (*earlier.suppressed, *earlier.counts)} if earlier else set()
    grouped = group_rare_values(tables, k=k, recorded=recorded, coarse=coarse) if group_rare else {}
    zeros = month_zeros(tables, parts) if coarse else set()
    # a dimension whose every value has fewer than k contributors lists no value
    withheld = (
        {
            key: cells
            for key, cells in withheld_dimensions(tables, k=k, recorded=recorded).items()
            if key not in grouped
        }
        if withhold
        else {}
    )
    # the values a quarter (half, cycle) does not list: 0, so are their months' cells
    nil = listed_zeros(tables, parts) if coarse else {}
    counts: dict[Key, int] = {}
    primary: set[Key] = set()
    for name, cells in tables.items():
        for cell, tally in cells.items():
            key = (name, *cell)
            counts[key] = tally.count
            if tally.contributors < k:
                primary.add(key)
    counts.update(dict.fromkeys(nil, 0))
    joint = None
    unlisted: set[Key] = {(t, *c) for (t, _), cells in grouped.items() for c in cells}
    # a withheld value of a month is still in the quarter's sums; a value the month has no
    # case of stays a known zero there (the reader does not know it: the safe side)
    unlisted |= withheld_cells(withheld)
    free: set[Key] = set()
    if rows is not None and k_summary is not None:
        plain = {n: {c: t for c, t in v.items() if not is_grouped(c)} for n, v in tables.items()}
        joint = joint_parts(
            plain,
            rows,
            k_meeting=k,
            k_csp=k_summary,
        )
        tables.update(joint.tables)
        counts.update(joint.counts)
        primary.update(joint.primary)
        unlisted.update(joint.unlisted)
        free.update(joint.free)
        if coarse:
            hidden_cells, computable = _month_cells_unlisted(tables, k=k, zeros=zeros)
            unlisted |= hidden_cells
            free |= computable
        primary -= zeros
    # a sum that does not hold in the data is no equation a reader could use
    groups = [
        g
        for g in [
            *digest_groups(tables, parts, grouped),
            *(joint.groups if joint else ()),
            *(Group(cell, members) for cell, members in sorted(nil.items()) if members),
        ]
        if counts[g.marginal] == sum(counts[m] for m in g.members)
    ]
    floor_counts, floor_groups, floor_known, floor_rest = _floor_cells(
        known_cases, counts, unlisted, start_month=start_month, periods=periods
    )
    counts.update(floor_counts)
    ranks = _order_of(tables, start_month)
    ranks.update({key[0]: _WINDOW_RANK + 1 for key in counts if key[0] not in ranks})
    # a window's total (the checklist's case count) weighs its count: hidden before a
    # period's total where one of the two must go
    heavy = {key for key in counts if key[1:] == TOTAL and not key[0].startswith(_WINDOW)}
    heavy.update(g.members[0] for g in groups if g.marginal[1:] == TOTAL and len(g.members) == 1)
    reserve = reserved_cells(tables, k=k, k_summary=k_summary)
    # a total's twin (the only value of a single-valued dimension) is the total
    reserve |= {
        g.members[0]
        for g in groups
        if g.marginal in reserve and g.marginal[1:] == TOTAL and len(g.members) == 1
    }

    def cost(key: Key) -> int:
        return counts[key] * TOTAL_WEIGHT if key in heavy else counts[key]

    headline = {_KIND_RANK[HalfCycle], _KIND_RANK[CspCycle]}

    def standing(key: Key) -> int:
        # the cycle's and halves' totals (the meeting's headline numbers) are kept before
        # a month's or a quarter's where only reserved cells can protect
        return 1 if ranks[key[0]] in headline else 0

    def order(key: Key) -> SortKey:
        table, dimension, value = key
        return (ranks[table], _DIM_RANK.get(dimension, -1), f"{table}\x1f{value}")

    before = None if earlier is None else _earlier(earlier, counts, start_month, unlisted)

    def run(  # noqa: PLR0913, PLR0917  the Runner protocol's signature (dief.disclosure._pieces)
        counts: Mapping[Key, int],
        primary: frozenset[Key],
        groups: Sequence[Group],
        earlier: Earlier | None,
        free: frozenset[Key],
        known: frozenset[Key],
        unlisted: frozenset[Key],
    ) -> Protection:
        return protect(
            counts,
            primary,
            groups,
            order=order,
            exact_widen=True,
            cost=cost,
            earlier=earlier,
            free=free,
            known=known,
            unlisted=unlisted,
            bounds=joint is not None,
            reserve=reserve,
            standing=standing if earlier is None else None,
            # a reader of both issues takes the cells the earlier issue listed at least 0
            relisted=recorded,
        )

    protection = protect_piece(
        run,
        counts,
        primary,
        [*groups, *floor_groups],
        before,
        recorded=recorded,
        free=free | floor_rest,
        known=set(nil) | floor_known,
        unlisted=unlisted | floor_rest,
        never_seeds={name for name in ranks if is_red_table(name)},
    )
    requirements: dict[str, RowRequirement] = {}
    if joint is not None:
        public = before.unchanged if before is not None else frozenset()
        cycles = [name[1:] for name in joint.tables]
        requirements = row_requirements(cycles, protection.suppressed - public, groups)
    secondary: dict[str, set[Key]] = {}
    for key in protection.secondary:
        secondary.setdefault(key[0], set()).add(key)
    return DigestPattern(
        k,
        protection.primary,
        protection.suppressed,
        frozenset(tables),
        protection.rounds,
        {table: frozenset(keys) for table, keys in secondary.items()},
        counts,
        protection.kept,
        requirements,
        k_summary if joint is not None else None,
        frozenset({*(k for k in unlisted if k[0] in tables), *nil}),
        frozenset(withheld),
    )

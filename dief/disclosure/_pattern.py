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

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.aggregator.store import PublishedCell, PublishedPattern, SuppressedCell
from dief.disclosure import _design, _withheld
from dief.disclosure._design import (
    MONTH_CELLS,
    MONTH_DIMENSIONS,
    WINDOW,
    coarse_months,
    month_shows,
    reserved_cells,
)
from dief.disclosure._digest_groups import (
    _earlier,
)
from dief.disclosure._joint import (
    RowRequirement,
    is_red_table,
    is_row_table,
    pinned_row_cells,
    row_requirements,
    row_table,
)
from dief.disclosure._memo import remembered
from dief.disclosure._pattern_inputs import (
    SILENT_CELL,
    PatternCells,
    PatternOptions,
    pattern_cells,
    silent_tables,
    without_silent,
)
from dief.disclosure._pieces import protect_piece
from dief.disclosure._suppression import (
    Earlier,
    Group,
    Key,
    Protection,
    SortKey,
    protect,
)
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
    from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

    from dief.disclosure._cells import CellId, PeriodCells, Tally

__all__ = [
    "MONTH_CELLS",
    "MONTH_DIMENSIONS",
    "SILENT_CELL",
    "DigestPattern",
    "coarse_months",
    "digest_pattern",
    "month_shows",
    "silent_tables",
    "without_silent",
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
#: whether the totals' own sums are protected first, by the cheapest set of totals
#: (:func:`~dief.disclosure._totals_plan.plan_totals`), before the search: in a first issue
#: (on since session 13, with months by total). A re-issue keeps what the first planned
#: (its suppressions stay) and protects the new data by the search alone: planned again,
#: with a re-issue's least values (cells listed before count at least 0), it chose other
#: totals for the same data, and a re-issue of unchanged data hid a total it had published
#: (tests/unit/test_digest_payload.py::test_only_changed_skips_identical_digests)
PLAN_TOTALS = True
#: what hiding a total costs the plan, by its table's rank (month, quarter, half, cycle,
#: checklist window, then a summary row): the meeting's headline numbers and the public
#: summary's most; then its count
_PLAN_WEIGHT = {0: 1, 1: 2, 2: 8, 3: 8, _WINDOW_RANK: 2}
_PLAN_WEIGHT_OTHER = 16


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
    #: tables that list nothing (no suppression could protect a cell of theirs): every
    #: cell suppressed, every cell but the total in ``unlisted``, still in every sum
    silent: frozenset[str] = frozenset()

    def withholds(self, table: str, dimension: str) -> bool:
        """Whether the digest of *table* withholds *dimension* (lists none of its values:
        each has fewer than k contributors, or the table is :meth:`silenced`)."""
        return (table, dimension) in self.withheld or table in self.silent

    def silenced(self, table: str) -> bool:
        """Whether *table* lists nothing: disclosure control could not protect it
        (docs/digests.md, "A cell no suppression can protect")."""
        return table in self.silent

    def listed_cell(self, table: str, cell: CellId) -> bool:
        """Whether the digest of *table* lists *cell* (not grouped, not a month's hidden
        dimension)."""
        return (table, *cell) not in self.unlisted

    def hidden(self, table: str, cell: CellId, tally: Tally | None) -> bool:
        """Whether the cell is suppressed (no tally: a zero, published), or listed nowhere
        (a withheld dimension's, a grouped value's: no document gives its count, whether or
        not the search also hid it)."""
        if tally is None:
            return False
        key = (table, *cell)
        return tally.contributors < self.k or key in self.suppressed or key in self.unlisted

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
            *(
                PublishedCell(SuppressedCell(*key), None if key in self.suppressed else n)
                for key, n in sorted(self.counts.items())
                if key[0] in wanted and key not in self.unlisted
            ),
            # a silenced table stays silent for the life of its period (docs/digests.md)
            *(
                PublishedCell(SuppressedCell(table, *SILENT_CELL), None)
                for table in sorted(self.silent & wanted)
            ),
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
    months_by_total: bool | None = None,
    group_rare: bool = False,
    known_cases: Mapping[str, PeriodCells] | None = None,
    withhold: bool | None = None,
    silent: Collection[str] = frozenset(),
) -> DigestPattern:
    """The joint pattern of every digest of a region from its merged cells (period → cells,
    every period with data), covering also the checklist windows of *periods* (digests to
    publish that may have no data of their own, such as an empty cycle). The other options
    (*earlier*, *rows* with *k_summary*, *months_by_total*, *group_rare*, *known_cases*,
    *withhold*, *silent*) are those :class:`~dief.disclosure._pattern_inputs.PatternOptions`
    describes.

    Deterministic: the same cells give the same pattern, whether one digest or all of them
    are being written.

    Computed once per input (:mod:`dief.disclosure._memo`): every digest, series, route
    table and summary requirement of a region's issue built from the same cells reuses it.
    """
    if k < 1:
        raise ValueError("k is at least 1")
    options = PatternOptions(
        k=k,
        start_month=start_month,
        periods=tuple(sorted({str(p) for p in periods} - set(tallies))),
        earlier=without_silent(earlier),
        rows=rows,
        k_summary=k_summary,
        months_by_total=_design.months_by_total(months_by_total),
        group_rare=group_rare,
        known_cases=known_cases or None,
        withhold=_withheld.WITHHOLD_BY_DEFAULT if withhold is None else withhold,
        silent=frozenset(silent) | silent_tables(earlier),
    )
    return remembered(options.key(), tallies, lambda: _digest_pattern(tallies, options))


def _choices(
    cells: PatternCells, options: PatternOptions
) -> tuple[Callable[[Key], int], Callable[[Key], int], Callable[[Key], SortKey], frozenset[Key]]:
    """How the pattern chooses secondary suppressions: each cell's *cost* (a total weighs
    :data:`TOTAL_WEIGHT` times its count), *standing* (the meeting's headline totals are
    kept first), tie-break *order*, and the *reserve* (totals with k contributors, the top
    of each checklist, a total's twin: taken only where no other cell can protect)."""
    counts, tables, groups = cells.counts, cells.tables, cells.groups or []
    ranks = _order_of(tables, options.start_month)
    ranks.update({key[0]: _WINDOW_RANK + 1 for key in counts if key[0] not in ranks})
    # a window's total (the checklist's case count) weighs its count: hidden before a
    # period's total where one of the two must go
    heavy = {key for key in counts if key[1:] == TOTAL and not key[0].startswith(_WINDOW)}
    heavy.update(g.members[0] for g in groups if g.marginal[1:] == TOTAL and len(g.members) == 1)
    reserve = reserved_cells(tables, k=options.k, k_summary=options.k_summary)
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

    return cost, standing, order, reserve


def _plan_weight(cells: PatternCells, options: PatternOptions) -> Callable[[Key], float]:
    """What hiding a total costs :func:`~dief.disclosure._totals_plan.plan_totals`."""
    ranks = _order_of(cells.tables, options.start_month)
    counts = cells.counts

    def weight(key: Key) -> float:
        base = _PLAN_WEIGHT.get(ranks.get(key[0], -1), _PLAN_WEIGHT_OTHER)
        return base * 1000.0 + min(counts[key], 999)

    return weight


def _joint_run(cells: PatternCells, options: PatternOptions) -> Protection:
    """:func:`protect` over the piece of *cells* the new data reaches
    (:func:`~dief.disclosure._pieces.protect_piece`), the cells the earlier issue
    published that every reader links to this one (:func:`_linked`) taken as known."""
    cost, standing, order, reserve = _choices(cells, options)
    earlier = options.earlier
    before = (
        None
        if earlier is None
        else _earlier(earlier, cells.counts, options.start_month, cells.unlisted)
    )
    bounds = cells.joint is not None

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
            bounds=bounds,
            reserve=reserve,
            standing=standing if earlier is None else None,
            # a reader of both issues takes the cells the earlier issue listed at least 0
            relisted=cells.recorded,
            floors=cells.floors,
            # planned in a first issue only (PLAN_TOTALS): no earlier issue listed a cell
            plan=_plan_weight(cells, options) if PLAN_TOTALS and not cells.recorded else None,
        )

    floor_groups, floor_known, floor_rest = cells.floor_groups
    linked = _linked(before, earlier, cells.primary, cells.unlisted | floor_rest)
    return protect_piece(
        run,
        cells.counts,
        cells.primary,
        [*(cells.groups or []), *floor_groups],
        before,
        recorded=cells.recorded,
        free=cells.free | floor_rest,
        known=set(cells.nil) | floor_known | linked,
        unlisted=cells.unlisted | floor_rest,
        never_seeds={name for name in cells.tables if is_red_table(name)},
        nil=cells.nil.keys(),
    )


def _linked(
    before: Earlier | None,
    earlier: PublishedPattern | None,
    primary: Collection[Key],
    unlisted: Collection[Key],
) -> frozenset[Key]:
    """The cells the earlier issue published, at the count they still have, in a period
    whose data is unchanged since (``PublishedPattern.unchanged_periods``): every reader of
    both issues links those tables (docs/audit.md, "Issue linking") and has these counts,
    so they are known like a published summary's cells and never hidden again — hidden,
    they would protect nothing and be reported as given away (docs/audit.md, "Cells of
    unchanged tables")."""
    if before is None or earlier is None or not earlier.unchanged_periods:
        return frozenset()
    periods = earlier.unchanged_periods
    # a cell no document lists now keeps the count an older issue listed, perhaps under
    # another data version (a design change): never taken as known here
    return frozenset(
        key
        for key in before.unchanged - before.suppressed
        if _period_of(key[0]) in periods and key not in primary and key not in unlisted
    )


def _period_of(table: str) -> str:
    """The period whose ``data_version`` links *table* across issues: a summary row
    (``SCSP12``) is its cycle's, which the summary's region table states (docs/audit.md,
    "Issue linking"); every other table is its own period's."""
    return table[1:] if is_row_table(table) else table


def _assembled(
    cells: PatternCells,
    protection: Protection,
    options: PatternOptions,
) -> DigestPattern:
    """The :class:`DigestPattern` of a :func:`protect` run over *cells*: what each
    summary must suppress (joint patterns), the secondary cells by table."""
    tables, joint = cells.tables, cells.joint
    requirements: dict[str, RowRequirement] = {}
    if joint is not None:
        # every row cell the pattern suppressed: one it hid again relies on the summary
        # hiding it too (session 22: left out as "published before", the Secretariat kept
        # publishing a row total the pattern had hidden again). A cell every reader links
        # (:func:`_linked`) is known to the run, so never among them.
        cycles = [name[1:] for name in joint.tables]
        requirements = row_requirements(cycles, protection.suppressed, cells.groups or [])
    secondary: dict[str, set[Key]] = {}
    for key in protection.secondary - cells.unlisted:
        # a cell no document lists is no secondary suppression of its digest (the search
        # may take a withheld cell as one in one issue and not in the next)
        secondary.setdefault(key[0], set()).add(key)
    k_summary = options.k_summary
    pattern = DigestPattern(
        options.k,
        protection.primary,
        protection.suppressed,
        frozenset(tables),
        protection.rounds,
        {table: frozenset(keys) for table, keys in secondary.items()},
        cells.counts,
        protection.kept,
        requirements,
        k_summary if joint is not None else None,
        frozenset({*(key for key in cells.unlisted if key[0] in tables), *cells.nil}),
        frozenset(cells.withheld),
        frozenset(cells.silent & tables.keys()),
    )
    if joint is None or k_summary is None:
        return pattern
    return dataclasses.replace(pattern, rows=_with_pinned(pattern, tables, k_summary))


def _with_pinned(
    pattern: DigestPattern, tables: Mapping[str, PeriodCells], k_summary: int
) -> dict[str, RowRequirement]:
    """*pattern*'s row requirements, each naming the row cells its region's meeting would
    compute if the summary hid them (:func:`pinned_row_cells`)."""
    out: dict[str, RowRequirement] = {}
    for cycle, need in pattern.rows.items():
        published = {
            cell: pattern.published(cycle, cell, tally)
            for cell, tally in tables.get(cycle, {}).items()
        }
        row = tables.get(row_table(cycle), {})
        pinned = pinned_row_cells(row, published, k_csp=k_summary) - need.hidden
        out[cycle] = dataclasses.replace(need, pinned=pinned)
    return out


def _digest_pattern(tallies: Mapping[str, PeriodCells], options: PatternOptions) -> DigestPattern:
    """:func:`digest_pattern`, computed: its inputs (:func:`pattern_cells`), the joint run
    (:func:`_joint_run`; a re-issue only over the piece its new data reaches:
    :mod:`dief.disclosure._pieces`), the result (:func:`_assembled`)."""
    cells = pattern_cells(tallies, options)
    return _assembled(cells, _joint_run(cells, options), options)

"""The dimension tables and totals of a digest as published (DESIGN §7): each cell's count,
share, previous count and trend, or why it is suppressed (:func:`reason_of`); cells ranked
(:func:`rank_cells`); shares rounded to :data:`SHARE_DIGITS` (:func:`ratio`, also the
checklist's prevalences); the utility figure (:func:`published_share`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.digests._tables import _Tables, few_contributors
from dief.digests._trend import trend_flag
from dief.disclosure import MONTH_DIMENSIONS, CellId, DigestPattern, Tally
from dief.vocab import Dimension
from dief.wire import Cell, SuppressionReason, Totals

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "SHARE_DIGITS",
    "cell_index",
    "published_share",
    "rank_cells",
    "ratio",
    "reason_of",
]


#: shares and prevalences are rounded to this many decimals (deterministic output)
SHARE_DIGITS = 4


def ratio(count: int, total: int | None) -> float | None:
    if total is None or total <= 0:
        return None
    return round(min(count / total, 1.0), SHARE_DIGITS)


def _previous_count(
    tally: Tally | None, pattern: DigestPattern, period: str | None, cell: CellId
) -> int | None:
    """The previous period's count as its digest publishes it: 0 without data, null when
    suppressed there."""
    if period is None:
        return 0
    return pattern.published(period, cell, tally)


def reason_of(tally: Tally | None, k: int) -> SuppressionReason:
    """Why a suppressed cell is suppressed: fewer than *k* contributors, or to protect
    another cell (a cell kept listed at zero counts as the former)."""
    if tally is None or tally.contributors < k:
        return SuppressionReason.CONTRIBUTORS
    return SuppressionReason.PROTECTION


def rank_cells(cells: Iterable[Cell]) -> list[Cell]:
    """Published cells by count (largest first, then value), then suppressed ones by value."""
    published = sorted(
        (c for c in cells if not c.suppressed), key=lambda c: (-(c.count or 0), c.value)
    )
    hidden = sorted((c for c in cells if c.suppressed), key=lambda c: c.value)
    return [*published, *hidden]


def _cell(  # noqa: PLR0913  one keyword per input of a cell: the pattern, its periods, the total
    cell: CellId,
    tally: Tally,
    before: Tally | None,
    *,
    pattern: DigestPattern,
    periods: tuple[str, str | None],
    total: int | None,
    compare: bool = True,
) -> Cell:
    value = cell[1]
    if pattern.hidden(periods[0], cell, tally):
        return Cell(
            value=value,
            count=None,
            contributors=None,
            suppressed=True,
            reason=reason_of(tally, pattern.k),
        )
    previous = _previous_count(before, pattern, periods[1], cell) if compare else None
    return Cell(
        value=value,
        count=tally.count,
        contributors=tally.contributors,
        suppressed=False,
        share=ratio(tally.count, total),
        previous=previous,
        change=None if previous is None else tally.count - previous,
        trend=None if previous is None else trend_flag(tally.count, previous),
    )


def _dimensions(
    tables: _Tables, *, pattern: DigestPattern, total: int | None
) -> dict[Dimension, list[Cell]]:
    """The period's cells by dimension (:func:`rank_cells`), shares of the published
    *total*, compared with the period before; none for a period of fewer than k
    contributors (:func:`few_contributors`), none compared with such a period before; no
    dimension the pattern withholds (:mod:`dief.digests._withheld`), none compared with
    a period that withholds it."""
    now, before, periods = tables.now, tables.then, tables.periods
    if few_contributors(now, pattern.k):
        return {}
    compare = not few_contributors(before, pattern.k)
    out: dict[Dimension, list[Cell]] = {}
    for dimension in Dimension:
        if pattern.withholds(periods[0], dimension.value):
            continue  # no value listed (dief.digests._withheld)
        cells = [
            _cell(
                cell,
                tally,
                before.get(cell),
                pattern=pattern,
                periods=periods,
                total=total,
                # a previous period that withholds the dimension says nothing of it: a 0
                # beside hidden counts would tell which of its values have cases
                compare=compare
                and not (periods[1] is not None and pattern.withholds(periods[1], dimension.value)),
            )
            for cell, tally in now.items()
            if cell[0] == dimension.value and pattern.listed_cell(periods[0], cell)
        ]
        out[dimension] = rank_cells(cells)
    return out


def _totals(tables: _Tables, *, pattern: DigestPattern, suppressed: int) -> Totals:
    """The period's totals (withheld where the pattern suppresses them), compared with the
    period before."""
    tally = tables.now.get(TOTAL, Tally(0, 0, ()))
    # listed (a count, or kept listed at 0 by an earlier issue) and suppressed
    if TOTAL in tables.now and pattern.hidden(tables.periods[0], TOTAL, tally):
        return Totals(
            cases=None,
            contributors=None,
            suppressed=suppressed,
            withheld=True,
            reason=reason_of(tally, pattern.k),
        )
    previous = (
        None
        if few_contributors(tables.then, pattern.k)
        else _previous_count(tables.then.get(TOTAL), pattern, tables.periods[1], TOTAL)
    )
    return Totals(
        cases=tally.count,
        contributors=tally.contributors,
        suppressed=suppressed,
        previous=previous,
        trend=None if previous is None else trend_flag(tally.count, previous),
    )


@dataclass(frozen=True, slots=True)
class _Listed:
    """The dimension tables one digest lists (:func:`_listed`): its cells by dimension, the
    dimensions it withholds, how many of its cells are suppressed, and the utility figure
    (:func:`published_share`)."""

    dimensions: dict[Dimension, list[Cell]]
    withheld: tuple[Dimension, ...]
    suppressed: int
    share: float


def _listed(tables: _Tables, *, pattern: DigestPattern, monthly: bool) -> _Listed:
    """The dimension tables of the digest of *tables* (:func:`_dimensions`, shares of its
    published total), those the pattern withholds (none for a period of fewer than k
    contributors), and the share of its facts in published cells; a coarse month
    (*monthly*) lists its kind only (another dimension listed would say its values are 0)."""
    period = tables.periods[0]
    total = tables.now.get(TOTAL)
    published_total = (
        total.count if total is not None and not pattern.hidden(period, TOTAL, total) else None
    )
    dimensions = _dimensions(tables, pattern=pattern, total=published_total)
    if monthly:
        dimensions = {d: cells for d, cells in dimensions.items() if d.value in MONTH_DIMENSIONS}
    withheld = tuple(
        d
        for d in Dimension
        if pattern.withholds(period, d.value)
        and not few_contributors(tables.now, pattern.k)
        and (not monthly or d.value in MONTH_DIMENSIONS)
    )
    # a withheld dimension's facts are unpublished whether or not the pattern also counts
    # its cells suppressed (a re-issue's record may, the first issue not: the figure must
    # not change between issues of the same data)
    hidden_facts = sum(
        t.count
        for cell, t in tables.now.items()
        if cell != TOTAL and (pattern.hidden(period, cell, t) or pattern.withholds(period, cell[0]))
    )
    return _Listed(
        dimensions=dimensions,
        withheld=withheld,
        suppressed=sum(c.suppressed for cells in dimensions.values() for c in cells),
        share=published_share(dimensions, hidden_facts),
    )


def published_share(dimensions: Mapping[Dimension, Sequence[Cell]], hidden: int = 0) -> float:
    """The utility figure of one table: the share of its (case, value) facts that fall in
    published cells. Suppressed cells' counts are not in the document, so *hidden* gives
    their facts (the caller knows them); 1.0 when the table lists nothing."""
    published = sum(c.count or 0 for cells in dimensions.values() for c in cells)
    total = published + hidden
    return round(published / total, SHARE_DIGITS) if total else 1.0


def cell_index(dimensions: Mapping[Dimension, Sequence[Cell]]) -> dict[CellId, Cell]:
    """(dimension, value) → cell, for tests and renderers."""
    return {(d.value, c.value): c for d, cells in dimensions.items() for c in cells}

"""Counts over time for the HTML digests' charts: the same cells, period after period.

Every point is what the digest of that period publishes: its count, ``None`` where that
digest suppresses the cell (primary or secondary: the region's joint pattern,
:func:`~dief.disclosure.digest_pattern`) or withholds its dimension, 0 where there is no
case. Reading the
series costs the region's stored cells, once: O(cells).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.digests._tables import few_contributors
from dief.disclosure import (
    DigestPattern,
    PeriodCells,
    digest_pattern,
)
from dief.periods import DEFAULT_CYCLE_START_MONTH, CspCycle, Month, Period, parse_period
from dief.vocab import Dimension, Region

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dief.aggregator.store import CaseStore

__all__ = [
    "SERIES_LENGTH",
    "SERIES_TOP",
    "DigestSeries",
    "Series",
    "digest_series",
    "load_series",
    "series_periods",
]

#: how many periods of the digest's kind the charts show, the digest's own included
SERIES_LENGTH: Mapping[type, int] = {Month: 12, CspCycle: 6}
_QUARTERS = 8
#: values drawn per dimension (the largest over the window; the tables list every one)
SERIES_TOP = 5


@dataclass(frozen=True, slots=True)
class Series:
    """One dimension value over the periods of a :class:`DigestSeries`."""

    value: str
    counts: tuple[int | None, ...]


@dataclass(frozen=True, slots=True)
class DigestSeries:
    """Totals and the top values of every dimension over consecutive periods, oldest first;
    the last period is the digest's own. ``None`` marks a suppressed point."""

    periods: tuple[str, ...]
    totals: tuple[int | None, ...]
    dimensions: Mapping[Dimension, tuple[Series, ...]] = field(default_factory=dict)


def series_periods(period: Period, length: int | None = None) -> tuple[Period, ...]:
    """*period* and the ones before it of the same kind, oldest first."""
    n = length or SERIES_LENGTH.get(type(period), _QUARTERS)
    out: list[Period] = [period]
    while len(out) < n:
        try:
            out.append(out[-1].previous())
        except ValueError:
            break
    out.reverse()
    return tuple(out)


def digest_series(  # noqa: PLR0913  public keyword signature, used by _region and dief/portal
    tallies: Mapping[str, PeriodCells],
    period: Period,
    *,
    k: int,
    length: int | None = None,
    top: int = SERIES_TOP,
    pattern: DigestPattern | None = None,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
) -> DigestSeries:
    """The series for a digest of *period* from merged cells (period → cells; every period
    of the region with data, for the joint suppression *pattern*, computed when not given).

    Leading periods without any case are dropped (the digest's own period stays).
    """
    if pattern is None:
        pattern = digest_pattern(tallies, k=k, start_month=start_month, periods=[str(period)])
    elif pattern.k != k:
        raise ValueError("the suppression pattern was made for another k")
    periods = [str(p) for p in series_periods(period, length)]
    while len(periods) > 1 and not tallies.get(periods[0]):
        periods.pop(0)
    tables = [tallies.get(p, {}) for p in periods]
    totals = tuple(
        pattern.published(p, TOTAL, t.get(TOTAL)) for p, t in zip(periods, tables, strict=True)
    )
    # a period of fewer than k contributors lists no value (few_contributors): each point
    # hidden, those without data too (a 0 beside hidden ones would tell which values its
    # cases have; the portal charted such zeros until session 16)
    few = [few_contributors(t, k) for t in tables]
    dimensions: dict[Dimension, tuple[Series, ...]] = {}
    for dimension in Dimension:
        values = {v for t in tables for (d, v) in t if d == dimension.value}
        lines = [
            Series(
                value,
                tuple(
                    # a period that withholds the dimension says nothing of its values:
                    # each point hidden, those without data too (a 0 would tell which have)
                    None
                    if hidden or pattern.withholds(p, dimension.value)
                    else pattern.published(
                        p, (dimension.value, value), t.get((dimension.value, value))
                    )
                    for p, t, hidden in zip(periods, tables, few, strict=True)
                ),
            )
            for value in values
        ]
        # the largest published values over the window; never ranked by a hidden count
        lines.sort(key=lambda s: (-sum(c or 0 for c in s.counts), s.value))
        dimensions[dimension] = tuple(s for s in lines if any(s.counts))[:top]
    return DigestSeries(tuple(periods), totals, dimensions)


async def load_series(  # noqa: PLR0913  public keyword signature, used by dief/render and dief/cli
    store: CaseStore,
    region: Region | str,
    period: str,
    *,
    k: int,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
    length: int | None = None,
    k_csp: int | None = 3,
) -> DigestSeries:
    """Read the region's cells (every period: the suppression pattern is joint, with the
    region's rows of the CSP summaries at *k_csp*, as in
    :meth:`~dief.digests.RegionDigests.load`) and build the series of *period* and the
    periods before it."""
    from dief.digests._region import RegionDigests  # noqa: PLC0415  _region imports this module: loaded on use

    code = Region(region).value
    current = parse_period(period, start_month=start_month)
    source = await RegionDigests.load(
        store,
        code,
        k=k,
        start_month=start_month,
        periods=[str(current), *(str(p) for p in series_periods(current, length))],
        earlier=await store.published_suppressions(code),
        k_csp=k_csp,
    )
    return source.series(str(current), length=length)

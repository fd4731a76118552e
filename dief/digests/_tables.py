"""The tables one digest shows (DESIGN §7), read from the region's merged cells: its period
and the one before, the checklist's four quarters and the four before them
(:func:`checklist_window`), and whether a table has too few contributors to list anything
(:func:`few_contributors`). The cells, checklist and notes of the digest all read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.disclosure import (
    DigestPattern,
    PeriodCells,
    combine,
    last_quarter,
    window_key,
    window_quarters,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dief.periods import Period, Quarter

__all__ = [
    "checklist_window",
    "few_contributors",
    "previous_period",
]


def previous_period(period: Period) -> Period | None:
    """The period before *period* of the same kind, or ``None`` before CSP1 / year 1."""
    try:
        return period.previous()
    except ValueError:
        return None


def checklist_window(period: Period) -> tuple[tuple[Quarter, ...], tuple[Quarter, ...]]:
    """The four quarters ending at *period*'s (last) quarter, and the four before them
    (each :func:`~dief.disclosure.window_quarters`: the one definition of a window)."""
    window = window_quarters(last_quarter(period))
    try:  # a window of fewer than four quarters starts at the first one: none before it
        return window, window_quarters(window[0].previous())
    except ValueError:
        return window, ()


def few_contributors(cells: PeriodCells, k: int) -> bool:
    """Whether the table *cells* has a total of fewer than *k* distinct contributors: it
    then lists no value (a listed value, even suppressed, says that their cases have it),
    and a later table compares nothing with it (a previous count of 0 or hidden says the
    same). A table without data is not (it lists nothing to tell)."""
    total = cells.get(TOTAL)
    return total is not None and total.contributors < k


@dataclass(frozen=True, slots=True)
class _Tables:
    """The cells of the tables one digest shows: the period and the one before (``now``,
    ``then``; table names ``periods``) and the checklist's four quarters (``window``) and the
    four before (``window_cells``, ``prior_cells``; ``names``). No period before: ``None``."""

    now: PeriodCells
    then: PeriodCells
    periods: tuple[str, str | None]
    window: tuple[Quarter, ...]
    window_cells: PeriodCells
    prior_cells: PeriodCells
    names: tuple[str, str | None]


def _tables(tallies: Mapping[str, PeriodCells], current: Period, pattern: DigestPattern) -> _Tables:
    """The digest's tables of *current* read from *tallies* (no data: no cells; the windows
    combine their quarters). Raises ``ValueError`` unless *pattern* covers each with cells."""
    before = previous_period(current)
    window, prior = checklist_window(current)
    tables = _Tables(
        now=tallies.get(str(current), {}),
        then=tallies.get(str(before), {}) if before is not None else {},
        periods=(str(current), str(before) if before is not None else None),
        window=window,
        window_cells=combine(tallies.get(str(q), {}) for q in window),
        prior_cells=combine(tallies.get(str(q), {}) for q in prior),
        names=(window_key(window[-1]), window_key(prior[-1]) if prior else None),
    )
    for table, cells in (
        (tables.periods[0], tables.now),
        (tables.periods[1], tables.then),
        *zip(tables.names, (tables.window_cells, tables.prior_cells), strict=True),
    ):
        if table is not None and cells and table not in pattern.tables:
            raise ValueError(f"the suppression pattern does not cover {table}")
    return tables

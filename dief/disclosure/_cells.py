"""From stored cell rows to the counts of one period (DESIGN §5, §7).

The store answers per (period, dimension, value, cycle), because contributor pseudonyms are
per CSP cycle and cannot be linked across cycles. A period's count is therefore the SUM over
cycles (every case counts in exactly one cycle), and its distinct contributors the MAX over
cycles: a lower bound of the true number whenever the period spans two cycles (a calendar
quarter July-September with the default September cycle start), so suppression by
contributors errs on the safe side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from dief._gc_pause import collector_paused

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from dief.aggregator.store import CellRow

__all__ = [
    "CellId",
    "CellSource",
    "PeriodCells",
    "Tally",
    "combine",
    "merge_rows",
]


class CellSource(Protocol):
    """Where summaries read stored cells: a :class:`dief.aggregator.store.CaseStore`, or anything
    answering the same query (the Secretariat's store of received digests)."""

    async def cell_rows(
        self, region: str, periods: Sequence[str], *, include_red: bool = True
    ) -> list[CellRow]: ...


#: (dimension, value); the totals are ``TOTAL`` = ("_total", "_all").
CellId = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Tally:
    """A cell of one period (or of several periods combined)."""

    count: int
    #: distinct contributors; exact only when ``exact`` (else the largest count of any one
    #: cycle or period inside: a lower bound)
    contributors: int
    cycles: tuple[str, ...]
    exact: bool = True


#: (dimension, value) → tally, for one period
PeriodCells = dict[CellId, Tally]


def merge_rows(rows: Iterable[CellRow]) -> dict[str, PeriodCells]:
    """Period → (dimension, value) → tally: count summed, contributors maxed over cycles."""
    with collector_paused():  # a region's every cell (dief._gc_pause)
        return _merged(rows)


def _merged(rows: Iterable[CellRow]) -> dict[str, PeriodCells]:
    counts: dict[tuple[str, str, str], int] = {}
    contributors: dict[tuple[str, str, str], int] = {}
    cycles: dict[tuple[str, str, str], set[str]] = {}
    for row in rows:
        key = (row.period, row.dimension, row.value)
        counts[key] = counts.get(key, 0) + row.count
        contributors[key] = max(contributors.get(key, 0), row.contributors)
        cycles.setdefault(key, set()).add(row.cycle)
    out: dict[str, PeriodCells] = {}
    for key, count in counts.items():
        period, dimension, value = key
        if count <= 0:
            continue
        spanned = tuple(sorted(cycles[key]))
        out.setdefault(period, {})[dimension, value] = Tally(
            count, contributors[key], spanned, exact=len(spanned) == 1
        )
    return out


def combine(tables: Iterable[Mapping[CellId, Tally]]) -> PeriodCells:
    """Several disjoint periods as one: counts add up, contributors take the maximum.

    The maximum is again a lower bound (the same contributor may report in every period).
    """
    out: PeriodCells = {}
    for table in tables:
        for cell, tally in table.items():
            old = out.get(cell)
            if old is None:
                out[cell] = tally
                continue
            out[cell] = Tally(
                old.count + tally.count,
                max(old.contributors, tally.contributors),
                tuple(sorted({*old.cycles, *tally.cycles})),
                exact=False,
            )
    return out

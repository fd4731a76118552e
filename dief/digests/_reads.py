"""What a region's digests read from the store (:meth:`RegionDigests.load
<dief.digests.RegionDigests.load>`), besides the pattern it computes from them: the
region's cells in every period with data (:func:`_region_tallies`), its rows of the CSP
summaries (:func:`_summary_rows`), the cells of its released bulletins, cases every reader
knows (:func:`released_cells`), the contributors of its grouped rare values
(:func:`_with_grouped`), the route tables it received and its periods' data versions.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.aggregator.store import CaseStore, PublishedPattern, ReleasedBulletins
from dief.disclosure import (
    CellId,
    PeriodCells,
    Tally,
    grouped_members,
    merge_rows,
    month_shows,
    row_table,
    with_earlier_cells,
    without_silent,
)
from dief.periods import DEFAULT_CYCLE_START_MONTH, Month, period_kind, periods_containing
from dief.routes import RouteTables
from dief.wire import RouteTable

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["released_cells"]


#: a bulletin's fields that name one value of a dimension, and those that name several
_BULLETIN_SINGLE = ("kind", "end_user_type", "transfer_stage")
_BULLETIN_LISTS = {
    "item_categories": "item_category",
    "methods": "method",
    "risk_indicators": "risk_indicator",
}


def _bulletin_cells(facts: Mapping[str, object]) -> tuple[str, set[CellId]] | None:
    """The month of a released bulletin and the cells it falls in (its total among them),
    as :func:`dief.audit.bulletin_case` reads it; None for one that says nothing countable."""
    month = facts.get("month")
    if facts.get("action", "publish") != "publish" or not isinstance(month, str):
        return None
    cells: set[CellId] = {TOTAL}
    for name in _BULLETIN_SINGLE:
        value = facts.get(name)
        if isinstance(value, str) and value:
            cells.add((name, value))
    for name, dimension in _BULLETIN_LISTS.items():
        values = facts.get(name)
        if isinstance(values, list):
            cells.update((dimension, str(v)) for v in values)
    return month, cells


async def released_cells(
    store: CaseStore, region: str, *, start_month: int = DEFAULT_CYCLE_START_MONTH
) -> dict[str, PeriodCells]:
    """The cells of *region*'s released bulletins still in force
    (``ReleasedBulletins(store).released``), period → cells, in every period their month
    counts in: cases every reader of the region knows (#15, DESIGN §13), which the
    pattern takes as lower bounds (``digest_pattern(known_cases=...)``)."""
    counts: dict[str, dict[CellId, int]] = {}
    for held in await ReleasedBulletins(store).released(region):
        try:
            facts = json.loads(held.facts)
            read = _bulletin_cells(facts) if isinstance(facts, dict) else None
            month = Month.parse(read[0]) if read is not None else None
        except ValueError:
            read = month = None
        if read is None or month is None:
            continue
        for period in periods_containing(month, start_month=start_month):
            cells = counts.setdefault(str(period), {})
            for cell in read[1]:
                cells[cell] = cells.get(cell, 0) + 1
    return {
        period: {cell: Tally(n, 1, ()) for cell, n in cells.items()}
        for period, cells in counts.items()
    }


async def _region_tallies(
    store: CaseStore, region: str, earlier: PublishedPattern | None
) -> tuple[list[str], dict[str, PeriodCells]]:
    """The periods of *region* with data and their cells (TLP:RED included), with every
    cell an earlier issue listed (:func:`~dief.disclosure.with_earlier_cells`); the
    periods an earlier issue published that lost all their cases come last, still listed."""
    wanted = await store.periods_with_data(region)
    tallies = (
        merge_rows(await store.cell_rows(region, list(wanted), include_red=True)) if wanted else {}
    )
    # a silenced table's record names no cell (``dief.disclosure.SILENT_CELL``)
    tallies = with_earlier_cells(tallies, without_silent(earlier), keep_periods=True)
    # periods an earlier issue published that lost all their cases stay listed
    return [*wanted, *sorted(p for p in tallies if p not in wanted)], tallies


async def _summary_rows(
    store: CaseStore, region: str, cycles: Sequence[str], earlier: PublishedPattern | None
) -> dict[str, PeriodCells]:
    """*region*'s rows of the CSP summaries of *cycles*: its cycle cells without TLP:RED,
    with every cell an earlier issue listed, protected jointly with the digests (DESIGN
    §7, "one system")."""
    merged = (
        merge_rows(await store.cell_rows(region, list(cycles), include_red=False)) if cycles else {}
    )
    return {
        cycle: cells[row_table(cycle)]
        for cycle in cycles
        for cells in [
            with_earlier_cells({row_table(cycle): merged.get(cycle, {})}, without_silent(earlier))
        ]
    }


async def _received_routes(store: CaseStore, region: str) -> tuple[RouteTable, ...]:
    """The route tables other regions sent *region* (``dief.routes``), as given."""
    return tuple(
        RouteTable.model_validate_json(held.body)
        for held in await RouteTables(store).received(region)
    )


def _data_versions(versions: Mapping[str, tuple[int, str]]) -> tuple[tuple[str, str], ...]:
    """(period, data version) of the periods of *versions* (``CaseStore.data_versions``:
    period → (changes, token); docs/audit.md), by period."""
    return tuple(sorted((p, token) for p, (_, token) in versions.items()))


def _is_month(table: str) -> bool:
    """Whether *table* is a month's (not a window's or a summary row's)."""
    try:
        return period_kind(table) == "month"
    except ValueError:
        return False


async def _with_grouped(  # noqa: PLR0913  the grouping's inputs, each by keyword
    store: CaseStore,
    region: str,
    tallies: Mapping[str, PeriodCells],
    *,
    k: int,
    earlier: PublishedPattern | None,
    coarse: bool,
) -> dict[str, PeriodCells]:
    """*tallies* with the grouped ``(other)`` cell of each table's rare values
    (:func:`~dief.disclosure.grouped_members`), its contributors read from the store."""
    recorded = (
        {(c.period, c.dimension, c.value) for c in (*earlier.suppressed, *earlier.counts)}
        if earlier is not None
        else set()
    )

    def shown(table: str, cell: tuple[str, str]) -> bool:
        return not (coarse and _is_month(table)) or month_shows(cell)

    grouped = grouped_members(tallies, k=k, listed_before=recorded, shown=shown)
    out = {name: dict(cells) for name, cells in tallies.items()}
    if not grouped:
        return out
    asked = [(table, *cell) for (table, _), cells in grouped.items() for cell in cells]
    for period, cells in merge_rows(await store.grouped_rows(region, asked)).items():
        out[period].update(cells)
    return out

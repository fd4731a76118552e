"""Which of the sender's summary row cells its route tables publish, and to whom (#15).

A published route cell counts a subset of the sender's cases of the same (cycle, dimension,
value), none TLP:RED: of its cell in the CSP summary's region row. The receiving region's
meeting learns ``row cell >= route cell``. The Secretariat protects the summary against
each region's meeting (:func:`~dief.disclosure.reader_pick`), so the sender tells it, with
its cycle digest's summary row requirement (``RowRequirement.routed``), which row cells its
route tables publish to which region: no counts, only that route structure
(docs/digests.md, "Route tables and the summary").

One construction: :func:`listed_cells` is what a table lists (what is sent and what the
sender's store records, ``RouteTables.record_published``, which marks for good every cell
an issue published at one case or more); :func:`routed_cells` names the row cells of what
a set of tables publish; :func:`routed_row_cells` reads the record's marks (every issue
the sender made of the cycle's tables: each receiving region's meeting holds them all,
so a cell a later issue suppressed stays named). A route cell ``(dimension, value)`` is
the row cell of the same name; the route table's total is the row's total.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.aggregator.store import RoutePattern, RouteTables
from dief.wire import ROUTE_DIMENSIONS

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dief.aggregator.store import CaseStore
    from dief.disclosure import CellId, PeriodCells
    from dief.routes._tables import RouteProtection

__all__ = ["listed_cells", "routed_cells", "routed_row_cells"]

_ROUTE_DIMS = frozenset(d.value for d in ROUTE_DIMENSIONS)


def listed_cells(cells: PeriodCells, protection: RouteProtection) -> dict[CellId, int | None]:
    """What a table lists (nothing when withheld, nothing of an omitted dimension): each
    cell's count, ``None`` if hidden."""
    if protection.withheld:
        return {}
    return {
        cell: None if cell in protection.hidden else tally.count
        for cell, tally in cells.items()
        if (cell == TOTAL or cell[0] in _ROUTE_DIMS) and protection.lists(cell)
    }


def routed_cells(
    tables: Mapping[str, Mapping[CellId, int | None]],
) -> frozenset[tuple[str, CellId]]:
    """(receiving region, row cell) for every cell a route table publishes (*tables*:
    receiving region → what its table lists, as :func:`listed_cells` gives it): a count,
    not hidden, of at least one case (a cell listed at 0 bounds nothing)."""
    return frozenset(
        (region, cell)
        for region, listed in tables.items()
        for cell, count in listed.items()
        if RoutePattern.bounds(count)
    )


async def routed_row_cells(
    store: CaseStore, region: str, cycle: str
) -> frozenset[tuple[str, CellId]]:
    """(receiving region, row cell) for every cell some issue of *region*'s route tables
    of *cycle* published at one case or more, as its store recorded them (nothing where no
    table was issued). A cell a later issue suppressed is named too: the receiving meeting
    keeps the issue that published it (``RoutePattern.published``)."""
    patterns = await RouteTables(store).published_patterns(region, cycle)
    return frozenset((to, cell) for to, pattern in patterns.items() for cell in pattern.published)

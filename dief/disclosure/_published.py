"""The additive layout of a CSP summary's tables, and a published summary read back.

A summary's cells are keyed ``(table, dimension, value)``: ``table`` is a region code or
:data:`GLOBAL`, totals are ``(table, "_total", "_all")``. :func:`additive_groups` lists the
sums a reader knows hold between listed cells; :func:`published_cells` reads the listed
cells of an issued :class:`~dief.wire.CspSummary` (what it published, what it
suppressed), and :func:`earlier_issue` turns it into the
:class:`~dief.disclosure.Earlier` that a re-issue must stay consistent with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.disclosure._suppression import SINGLE_VALUED, Earlier, Group, Key, SortKey
from dief.vocab import Dimension, Region

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    from dief.wire import CspSummary, RegionTable

__all__ = [
    "GLOBAL",
    "EarlierIssue",
    "PublishedCells",
    "additive_groups",
    "cell_order",
    "earlier_issue",
    "published_cells",
]

GLOBAL = "_global"
_DIM_RANK = {d.value: i for i, d in enumerate(Dimension)}
_REGION_RANK = {r.value: i for i, r in enumerate(Region)}


def cell_order(key: Key) -> SortKey:
    """A fixed order of cells: region, dimension (totals first), value."""
    table, dimension, value = key
    return (
        _REGION_RANK.get(table, len(_REGION_RANK)),
        _DIM_RANK.get(dimension, -1),
        value,
    )


def additive_groups(listed: Collection[Key], regions: Sequence[str]) -> list[Group]:
    """The sums between *listed* cells (count ≥ 1) of the tables of *regions* and global.

    Within each table with a listed total, every single-valued dimension's values sum to
    it; each global cell (the global total too) is the sum of the regions' cells.
    """
    groups: list[Group] = []
    for table in (*regions, GLOBAL):
        total = (table, *TOTAL)
        if total not in listed:
            continue
        for dimension in SINGLE_VALUED:
            members = tuple(
                sorted(
                    (key for key in listed if key[0] == table and key[1] == dimension.value),
                    key=cell_order,
                )
            )
            if members:
                groups.append(Group(total, members))
    for key in sorted((key for key in listed if key[0] == GLOBAL), key=cell_order):
        members = tuple(
            (region, key[1], key[2]) for region in regions if (region, key[1], key[2]) in listed
        )
        groups.append(Group(key, members))
    return groups


@dataclass(frozen=True, slots=True)
class PublishedCells:
    """The listed cells of an issued summary: published counts and suppressed keys."""

    regions: tuple[str, ...]
    counts: dict[Key, int]
    suppressed: frozenset[Key]

    @property
    def listed(self) -> frozenset[Key]:
        return frozenset(self.counts) | self.suppressed


def _read(table: str, data: RegionTable, counts: dict[Key, int], hidden: set[Key]) -> None:
    total = (table, *TOTAL)
    if data.totals.cases is None:
        hidden.add(total)
    elif data.totals.cases > 0:
        counts[total] = data.totals.cases
    for dimension, cells in data.dimensions.items():
        for cell in cells:
            key = (table, dimension.value, cell.value)
            if cell.suppressed or cell.count is None:
                hidden.add(key)
            else:
                counts[key] = cell.count


def published_cells(summary: CspSummary) -> PublishedCells:
    """What *summary* listed: the counts it published and the cells it suppressed."""
    counts: dict[Key, int] = {}
    hidden: set[Key] = set()
    regions = sorted((r.value for r in summary.regions), key=lambda r: _REGION_RANK[r])
    for region, table in summary.regions.items():
        _read(region.value, table, counts, hidden)
    _read(GLOBAL, summary.global_, counts, hidden)
    return PublishedCells(tuple(regions), counts, frozenset(hidden))


@dataclass(frozen=True, slots=True)
class EarlierIssue:
    """An earlier issue against the current tables: the cells it listed, and the view
    :func:`~dief.disclosure.protect` takes of it."""

    listed: frozenset[Key]
    earlier: Earlier


def earlier_issue(
    summary: CspSummary, counts: Mapping[Key, int], regions: Sequence[str]
) -> EarlierIssue:
    """*summary* (an earlier issue of the same cycle) against the current *counts*.

    Only the tables of *regions* and the global table are kept. A cell it published with
    the count it has now is taken as unchanged (known).
    """
    issued = published_cells(summary)
    tables = {*regions, GLOBAL}
    listed = frozenset(key for key in issued.listed if key[0] in tables)
    unchanged = frozenset(
        key for key, n in issued.counts.items() if key in listed and counts.get(key) == n
    )
    groups = tuple(g for g in additive_groups(listed, list(regions)) if g.members)
    return EarlierIssue(listed, Earlier(issued.suppressed & listed, groups, unchanged))

"""The protection of one cycle's summary (:mod:`dief.secretariat._summary`): every cell of
the regions' tables and the global table, primary and secondary suppression, checked
against each region's meeting and against the earlier issue of the same cycle."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.disclosure import (
    GLOBAL,
    TOTAL_WEIGHT,
    Earlier,
    Group,
    Key,
    PeriodCells,
    Protection,
    RowRequirement,
    SortKey,
    additive_groups,
    cell_order,
    earlier_issue,
    protect,
    reader_pick,
)
from dief.wire import CspSummary, SuppressionReason

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

__all__ = ["SummaryTables", "summary_tables"]

#: added to a reserved cell's size where the meeting checks (:func:`reader_pick`) choose a
#: cell: more than any count, so every other candidate goes first
_RESERVED_LAST = 1 << 40


@dataclass(frozen=True, slots=True)
class SummaryTables:
    """Every cell of one cycle's summary (regions and global) with its protection.

    ``stable``: cells suppressed only to stay consistent with the earlier issue (those the
    protection of this issue on its own would have published). With an earlier issue,
    ``counts`` also holds, at zero, the cells it listed that count no case now.
    """

    regions: tuple[str, ...]
    counts: dict[Key, int]
    contributors: dict[Key, int]
    protection: Protection
    stable: frozenset[Key] = field(default_factory=frozenset)

    def published(self, key: Key) -> bool:
        return self.counts.get(key, 0) > 0 and key not in self.protection.suppressed

    def hidden(self, key: Key) -> bool:
        return key in self.protection.suppressed

    def reason(self, key: Key) -> SuppressionReason:
        """Why a suppressed cell is: below k (primary), or to protect another."""
        if key in self.protection.primary or self.contributors.get(key, 0) <= 0:
            return SuppressionReason.CONTRIBUTORS
        return SuppressionReason.PROTECTION

    def count_as_published(self, key: Key) -> int | None:
        """0 for an absent cell, the count of a published one, ``None`` if suppressed."""
        if key not in self.counts:
            return 0
        if key in self.protection.suppressed:
            return None
        return self.counts[key]


def summary_tables(  # noqa: PLR0913  a public keyword signature, used outside dief/secretariat
    cells: Mapping[str, PeriodCells],
    regions: Sequence[str],
    *,
    k: int,
    earlier: CspSummary | None = None,
    prefer: Collection[Key] = frozenset(),
    rows: Mapping[str, RowRequirement] | None = None,
) -> SummaryTables:
    """Primary and secondary suppression over the regions' cells of one cycle.

    *earlier* is the last issue of the same cycle's summary (re-issue stability), *prefer*
    the cells to take first among equally small secondary candidates. *rows* maps a region
    to what its aggregator's joint pattern requires of its row
    (:class:`~dief.disclosure.RowRequirement`): those cells are suppressed, and the
    summary is checked against that region's meeting (:func:`~dief.disclosure.reader_pick`)
    until no suppressed cell follows for any of them.
    """
    counts: dict[Key, int] = {}
    contributors: dict[Key, int] = {}
    for region in regions:
        for (dim, value), tally in cells.get(region, {}).items():
            if tally.count <= 0:
                continue
            counts[region, dim, value] = tally.count
            contributors[region, dim, value] = tally.contributors
            gkey = (GLOBAL, dim, value)
            counts[gkey] = counts.get(gkey, 0) + tally.count
            # a lower bound: pseudonyms are per node and cycle, and a node may report in
            # several regions, so the regions' contributor sets can overlap entirely
            contributors[gkey] = max(contributors.get(gkey, 0), tally.contributors)
    primary = [key for key, n in contributors.items() if n < k]
    # hidden, a cell of k contributors says it protects another: at least k cases
    floors = {key: k for key, n in contributors.items() if n >= k}
    need = {region: rows[region] for region in regions if rows is not None and region in rows}
    required = {
        (region, *cell) for region, req in need.items() for cell in req.hidden
    } & counts.keys()
    # a row cell its region's meeting would compute if hidden protects nothing from that
    # meeting: taken last (RowRequirement.pinned; tests/unit/test_own_row_pins.py)
    reserve = {
        (region, *cell) for region, req in need.items() for cell in req.pinned
    } & counts.keys()
    groups = additive_groups(counts.keys(), regions)
    protection = _protected(
        counts, primary, required, groups, need, prefer=prefer, floors=floors, reserve=reserve
    )
    stable: frozenset[Key] = frozenset()
    if earlier is not None:
        alone = protection
        issue = earlier_issue(earlier, counts, regions)
        for key in issue.listed:  # listed before, no case now: may stay listed, suppressed
            counts.setdefault(key, 0)
            contributors.setdefault(key, 0)
        protection = _protected(
            counts,
            primary,
            required,
            additive_groups(counts.keys(), regions),
            need,
            prefer=prefer,
            earlier=issue.earlier,
            floors=floors,
            reserve=reserve,
        )
        stable = protection.suppressed - alone.suppressed
    return SummaryTables(tuple(regions), counts, contributors, protection, stable)


def _protected(  # noqa: PLR0913  summary_tables's inputs, passed on by keyword
    counts: Mapping[Key, int],
    primary: Collection[Key],
    required: Collection[Key],
    groups: Sequence[Group],
    rows: Mapping[str, RowRequirement],
    *,
    prefer: Collection[Key],
    earlier: Earlier | None = None,
    floors: Mapping[Key, int] | None = None,
    reserve: Collection[Key] = frozenset(),
) -> Protection:
    """:func:`~dief.disclosure.protect`, then again with more suppressions while some
    region's meeting could compute a suppressed cell (:func:`~dief.disclosure.reader_pick`).
    *required* cells (what the regions' joint patterns need) and the cells added that way
    count as secondary unless primary."""
    extra: list[Key] = [*required]

    def by_size(key: Key) -> tuple[int, bool, SortKey]:
        weight = TOTAL_WEIGHT if key[1:] == TOTAL else 1
        # a reserved cell (pinned for its own region's meeting) after every other one
        last = _RESERVED_LAST if key in reserve else 0
        return (last + counts.get(key, 0) * weight, key not in prefer, cell_order(key))

    while True:
        protection = protect(
            counts,
            [*primary, *extra],
            groups,
            order=cell_order,
            prefer=prefer,
            earlier=earlier,
            # check 4: a reader knows every listed suppressed cell counts at least one case;
            # across the region rows and the global table that can pin hidden cells (#15)
            bounds=True,
            floors=floors,
            reserve=reserve,
        )
        if not rows:
            break
        picks = reader_pick(
            protection.suppressed,
            counts,
            groups,
            rows,
            by_size=by_size,
            floors=floors,
            reserve=reserve,
        )
        if not picks:
            break
        extra.extend(picks)
    return dataclasses.replace(protection, primary=frozenset(primary))

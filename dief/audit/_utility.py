"""The utility figure (issue #15, DESIGN §7): the share of (case, dimension value) facts
that fall in published cells, per document type.

A case counts once per distinct value of a dimension (DESIGN §5): each such pair is one
fact of every table the case counts in. A fact is published when its cell is. The figure
is computed from cells whose true count is known — the protection code passes its own
cells (:func:`published_share`), or :func:`folder_utility` reads an output folder and
counts the cases of the run (the ``dief run`` input or the demo's case file) itself.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.audit._documents import (
    TOTAL,
    PublishedTable,
    TableKey,
    grouped,
    read_issue,
    start_month_of,
)
from dief.audit._periods import is_half

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from dief.audit._own import OwnCase

__all__ = ["Utility", "UtilityCell", "document_type", "folder_utility", "published_share"]


@dataclass(frozen=True)
class UtilityCell:
    """One listed cell: its document type, its true count and whether it is published.
    ``total`` marks a table's case count (a case, not a (case, value) fact)."""

    document_type: str
    count: int
    published: bool
    total: bool = False


@dataclass(frozen=True)
class Utility:
    """Per document type: facts and how many are published; cells and totals likewise."""

    document_type: str
    facts: int
    published_facts: int
    cells: int
    published_cells: int
    totals: int
    published_totals: int

    @property
    def share(self) -> float:
        """Published facts / facts (1.0 when there are none)."""
        return self.published_facts / self.facts if self.facts else 1.0


def published_share(cells: Iterable[UtilityCell]) -> dict[str, Utility]:
    """The utility figure per document type (sorted by type)."""
    acc: dict[str, list[int]] = {}
    for c in cells:
        a = acc.setdefault(c.document_type, [0, 0, 0, 0, 0, 0])
        if c.total:
            a[4] += 1
            a[5] += int(c.published)
            continue
        a[0] += c.count
        a[1] += c.count if c.published else 0
        a[2] += 1
        a[3] += int(c.published)
    return {t: Utility(t, *a) for t, a in sorted(acc.items())}


def document_type(key: TableKey) -> str:  # noqa: PLR0911  one answer per document kind
    """``digest-month``, ``digest-quarter``, ``digest-half``, ``digest-cycle``, ``digest-other``,
    ``checklist``, ``summary-region``, ``summary-global`` or ``route``."""
    kind, scope, period = key
    if kind == "digest":
        if is_half(period):
            return "digest-half"
        if period.startswith("CSP"):
            return "digest-cycle"
        if "-Q" in period:
            return "digest-quarter"
        return "digest-month" if len(period) == 7 else "digest-other"  # noqa: PLR2004  7 = len("YYYY-MM"): a month's period
    if kind == "window":
        return "checklist"
    if kind == "summary":
        return "summary-global" if scope == "global" else "summary-region"
    return kind


def _truth(cases: Sequence[OwnCase], start_month: int) -> Counter[tuple[TableKey, str]]:
    truth: Counter[tuple[TableKey, str]] = Counter()
    for case in cases:
        cells = [TOTAL, *(f"{d}/{v}" for d, v in case.values)]
        cycle = case.cycle(start_month)
        for period in (case.month, case.quarter, case.half(start_month), cycle):
            for cell in cells:
                truth[("digest", case.region, period), cell] += 1
        if case.red:
            continue
        for cell in cells:
            truth[("summary", case.region, cycle), cell] += 1
            truth[("summary", "global", cycle), cell] += 1
            for to in case.related_regions:
                truth[("route", f"{case.region}>{to}", cycle), cell] += 1
    return truth


def folder_utility(
    folder: Path, cases: Sequence[OwnCase], regions: Iterable[str]
) -> dict[str, Utility]:
    """The utility figure of an output folder, the true counts taken from *cases* (every
    counted case of the run). Checklist windows are counted from their quarters."""
    start = start_month_of(folder)
    truth = _truth(cases, start)
    by_table: dict[TableKey, dict[str, int]] = {}
    for (key, cell), n in truth.items():
        by_table.setdefault(key, {})[cell] = n
    cells: list[UtilityCell] = []
    seen: set[TableKey] = set()
    for region in regions:
        for key, table in read_issue(folder, region).tables.items():
            if key in seen:
                continue
            seen.add(key)
            kind = document_type(key)
            for cell, count in table.cells.items():
                if key[0] == "window":
                    quarters = key[2].split(":", 1)[1].split(",")
                    true = sum(truth[("digest", key[1], q), cell] for q in quarters)
                elif grouped(cell):
                    true = _grouped_truth(by_table.get(key, {}), table, cell)
                else:
                    true = truth[key, cell]
                cells.append(UtilityCell(kind, true, count is not None, total=cell == TOTAL))
    return published_share(cells)


def _grouped_truth(truth: dict[str, int], table: PublishedTable, cell: str) -> int:
    """A grouped cell's true count: the facts of the values its table does not list."""
    dim = cell.split("/", 1)[0]
    listed = {f"{dim}/{v}" for v in table.listed(dim)}
    return sum(n for c, n in truth.items() if c.startswith(f"{dim}/") and c not in listed)

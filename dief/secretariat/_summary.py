"""The CSP-ready summary of one cycle (DESIGN §7): public-safe, non-attributed.

Built from the cycle's stored cells without TLP:RED cases, for every region and for all
regions together. Cells are protected by distinct contributors (``k_csp``), then by
secondary suppression (:mod:`dief.disclosure._suppression`) so that no suppressed cell can be
computed from totals or from the other regions, nor by comparing this issue with the
previous issue of the same cycle (``previous``: its suppressed cells stay suppressed). The
previous cycle's published summary (``prior_cycle``) breaks ties between candidate
secondary suppressions, so the pattern moves little from one cycle to the next.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.digests import TREND_TEST, checklist_entry, rank_cells, rank_checklist, ratio, trend_flag
from dief.disclosure import (
    GLOBAL,
    SINGLE_VALUED,
    TOTAL_WEIGHT,
    CellSource,
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
    merge_rows,
    protect,
    published_cells,
    reader_pick,
)
from dief.exceptions import ValidationError
from dief.periods import DEFAULT_CYCLE_START_MONTH, CspCycle
from dief.secretariat._data_versions import with_data_versions
from dief.secretariat._narrative import narrative
from dief.vocab import Dimension, Region
from dief.wire import (
    Cell,
    ChecklistEntry,
    CspSummary,
    Methodology,
    Pattern,
    RegionTable,
    SuppressionReason,
    Totals,
    Trend,
)

if TYPE_CHECKING:
    from dief.catalogue import Catalogue

__all__ = [
    "SummaryTables",
    "build_summary",
    "summary_tables",
]

_DIM_RANK = {d.value: i for i, d in enumerate(Dimension)}
_REGION_RANK = {r.value: i for i, r in enumerate(Region)}
_PATTERN_REGIONS = 2  # a pattern: a value rising or new in at least this many regions

Stores = CellSource | Mapping[Region, CellSource] | Mapping[str, CellSource]


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
    need = {region: rows[region] for region in regions if rows is not None and region in rows}
    required = {
        (region, *cell) for region, req in need.items() for cell in req.hidden
    } & counts.keys()
    groups = additive_groups(counts.keys(), regions)
    protection = _protected(counts, primary, required, groups, need, prefer=prefer)
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
) -> Protection:
    """:func:`~dief.disclosure.protect`, then again with one more suppression while some
    region's meeting could compute a suppressed cell (:func:`~dief.disclosure.reader_pick`).
    *required* cells (what the regions' joint patterns need) and the cells added that way
    count as secondary unless primary."""
    extra: list[Key] = [*required]

    def by_size(key: Key) -> tuple[int, bool, SortKey]:
        weight = TOTAL_WEIGHT if key[1:] == TOTAL else 1
        return (counts.get(key, 0) * weight, key not in prefer, cell_order(key))

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
        )
        if not rows:
            break
        pick = reader_pick(protection.suppressed, counts, groups, rows, by_size=by_size)
        if pick is None:
            break
        extra.append(pick)
    return dataclasses.replace(protection, primary=frozenset(primary))


def _table(table: str, now: SummaryTables, before: SummaryTables | None) -> RegionTable:
    total_key = (table, *TOTAL)
    total = now.count_as_published(total_key)
    dims: dict[Dimension, list[Cell]] = {}
    hidden_cells = 0
    for dimension in Dimension:
        cells: list[Cell] = []
        for key in now.counts:
            if key[0] != table or key[1] != dimension.value:
                continue
            if now.hidden(key):
                cells.append(
                    Cell(
                        value=key[2],
                        count=None,
                        contributors=None,
                        suppressed=True,
                        reason=now.reason(key),
                    )
                )
                hidden_cells += 1
                continue
            if not now.published(key):
                continue  # listed by the previous issue, no case now
            count = now.counts[key]
            previous = before.count_as_published(key) if before is not None else None
            cells.append(
                Cell(
                    value=key[2],
                    count=count,
                    contributors=now.contributors[key],
                    share=ratio(count, total),
                    trend=None if previous is None else trend_flag(count, previous),
                )
            )
        dims[dimension] = rank_cells(cells)
    previous_total = before.count_as_published(total_key) if before is not None else None
    if total is None:
        totals = Totals(
            cases=None,
            contributors=None,
            suppressed=hidden_cells,
            withheld=True,
            reason=now.reason(total_key),
        )
    else:
        totals = Totals(
            cases=total,
            contributors=now.contributors.get(total_key, 0),
            suppressed=hidden_cells,
            trend=None
            if previous_total is None or total == 0
            else trend_flag(total, previous_total),
        )
    return RegionTable(totals=totals, dimensions=dims)


def _patterns(
    now: SummaryTables, before: SummaryTables | None, previous_cycle: str | None
) -> list[Pattern]:
    if before is None:
        return []
    rising: dict[tuple[str, str], list[Region]] = {}
    for key, count in now.counts.items():
        region, dim, value = key
        if region == GLOBAL or dim == TOTAL[0] or not now.published(key):
            continue
        previous = before.count_as_published(key)
        if previous is None:
            continue
        if trend_flag(count, previous) in {Trend.RISING, Trend.NEW}:
            rising.setdefault((dim, value), []).append(Region(region))
    found = [
        Pattern(
            dimension=Dimension(dim),
            value=value,
            regions=sorted(regions, key=lambda r: _REGION_RANK[r.value]),
            trend=Trend.RISING,
            previous_cycle=previous_cycle,
        )
        for (dim, value), regions in rising.items()
        if len(regions) >= _PATTERN_REGIONS
    ]
    found.sort(key=lambda p: (-len(p.regions), _DIM_RANK[p.dimension.value], p.value))
    return found


def _checklist(
    now: SummaryTables, before: SummaryTables | None, catalogue: Catalogue
) -> list[ChecklistEntry]:
    total = now.count_as_published((GLOBAL, *TOTAL))
    entries: list[ChecklistEntry] = []
    for key in now.counts:
        table, dim, ind_id = key
        if table != GLOBAL or dim != Dimension.RISK_INDICATOR.value:
            continue
        if now.hidden(key):
            entries.append(
                checklist_entry(
                    catalogue,
                    ind_id,
                    count=None,
                    prevalence=None,
                    trend=None,
                    reason=now.reason(key),
                )
            )
            continue
        if not now.published(key):
            continue
        count = now.counts[key]
        previous = before.count_as_published(key) if before is not None else None
        entries.append(
            checklist_entry(
                catalogue,
                ind_id,
                count=count,
                prevalence=ratio(count, total),
                trend=None if previous is None else trend_flag(count, previous),
            )
        )
    return rank_checklist(entries)


def _rules(k: int) -> list[str]:
    single = ", ".join(d.value for d in SINGLE_VALUED)
    return [
        (
            "TLP:RED cases are excluded from every table of this summary; a case counts in "
            "the global table once, through its region."
        ),
        (
            f"Primary suppression: a cell with fewer than {k} distinct contributors is "
            "published as suppressed, with null count and contributors. Contributors are "
            "never listed."
        ),
        (
            "Global contributor counts are lower bounds: contributor pseudonyms are per node "
            "and per cycle and one node may report in several regions, so a global cell "
            "counts the largest number of distinct contributors of any one region."
        ),
        (
            "Secondary suppression (a): within each table the values of every single-valued "
            f"dimension ({single}) sum to the table total; no such set is left with exactly "
            "one suppressed cell."
        ),
        (
            "Secondary suppression (b): every global cell is the sum of the regions' cells; "
            "no such set is left with exactly one suppressed cell."
        ),
        (
            "Every listed cell counts at least one case (in a re-issue, a cell the previous "
            "issue listed may count zero), so no set with a published total is left with "
            "suppressed cells that could only be ones, and no suppressed cell may follow "
            "exactly from all the sums together (exact elimination). Each extra suppression "
            "takes the smallest published cell, totals last, until nothing changes."
        ),
        (
            "Re-issue stability: every cell suppressed in the previous issue of this cycle's "
            "summary stays suppressed, listed even if it now counts zero (kept_for_stability "
            "counts the cells this issue alone would publish); a cell that issue published with "
            "the count it has now is taken as known and never used as a secondary suppression; "
            "and no suppressed count the previous issue did not publish may follow exactly from "
            "the two issues together, even for a reader who knows which cells changed."
        ),
        (
            "Cross-cycle stability: among equally small candidates for secondary suppression, "
            "cells suppressed in the previous cycle's published summary are taken first, so the "
            "pattern changes as little as possible between cycles."
        ),
        "Shares and prevalences are published only where the table total is published.",
        (
            "Trend flags compare with the previous cycle, suppressed the same way (keeping "
            "suppressed what its published summary suppressed), only where both cycles' cells "
            "are published; patterns are values rising or new in at least two regions."
        ),
    ]


async def _cells(
    stores: Stores, regions: Sequence[str], periods: Sequence[str]
) -> dict[str, dict[str, PeriodCells]]:
    """Period → region → cells, without TLP:RED cases."""
    out: dict[str, dict[str, PeriodCells]] = {p: {} for p in periods}
    for region in regions:
        if not isinstance(stores, Mapping):
            store = stores
        else:
            found = {str(key): value for key, value in stores.items()}
            if region not in found:
                continue
            store = found[region]
        merged = merge_rows(await store.cell_rows(region, list(periods), include_red=False))
        for period in periods:
            out[period][region] = merged.get(period, {})
    return out


def _regions(stores: Stores, regions: Sequence[Region | str] | None) -> list[str]:
    if regions is not None:
        chosen = {Region(r).value for r in regions}
    elif not isinstance(stores, Mapping):
        chosen = {r.value for r in Region}
    else:
        chosen = {Region(str(r)).value for r in stores}
    return sorted(chosen, key=lambda r: _REGION_RANK[r])


async def build_summary(  # noqa: PLR0913  a public keyword signature, used by the CLI, render and the portal
    stores: Stores,
    cycle: str,
    *,
    k: int = 3,
    catalogue: Catalogue,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
    regions: Sequence[Region | str] | None = None,
    previous: CspSummary | None = None,
    prior_cycle: CspSummary | None = None,
    rows: Mapping[Region, RowRequirement] | Mapping[str, RowRequirement] | None = None,
) -> CspSummary:
    """The CSP summary of *cycle* (``CSP12``), unsigned (``signature`` null).

    *stores* is one cell source holding every region (a :class:`dief.aggregator.store.CaseStore`,
    or any :class:`CellSource`), or a mapping region → source. The summary
    covers *regions* (default: every region, or the mapping's keys).

    *previous* is the last summary published for the same cycle: every cell it suppressed
    stays suppressed, and no cell can be recovered from the two issues together.
    *prior_cycle* is the previous cycle's published summary: its suppressed cells are
    preferred as secondary suppressions (a tie-breaker), and stay suppressed in the
    previous cycle's tables the trend flags compare with.
    *rows* maps a region to what its aggregator's joint pattern requires of its row of
    *cycle* (``RegionDigests.pattern.rows[cycle]``, or sent with its cycle digest): those
    cells are suppressed, and the summary is checked against that region's meeting.

    :raises ValidationError: *previous* or *prior_cycle* is the summary of another cycle.
    """
    if k < 1:
        raise ValueError("k is at least 1")
    current = CspCycle.parse(cycle, start_month=start_month)
    previous_cycle = current.previous() if current.number > 1 else None
    _check_issues(current, previous_cycle, previous=previous, prior_cycle=prior_cycle)
    codes = _regions(stores, regions)
    needs = None if rows is None else {Region(str(r)).value: req for r, req in rows.items()}
    now, before = await _cycle_tables(
        stores,
        codes,
        current,
        previous_cycle,
        k=k,
        previous=previous,
        prior_cycle=prior_cycle,
        rows=needs,
    )
    tables = {Region(code): _table(code, now, before) for code in codes}
    global_table = _table(GLOBAL, now, before)
    tables, global_table = await with_data_versions(stores, str(current), tables, global_table)
    last = str(previous_cycle) if previous_cycle is not None else None
    patterns = _patterns(now, before, last)
    checklist = _checklist(now, before, catalogue)
    methodology = _methodology(now, k=k, catalogue=catalogue)
    return CspSummary.model_validate(
        {
            "cycle": str(current),
            "from": str(current.first),
            "to": str(current.last),
            "k": k,
            "regions": tables,
            "global": global_table,
            "patterns": patterns,
            "checklist": checklist,
            "narrative": narrative(
                cycle=str(current),
                first=str(current.first),
                last=str(current.last),
                k=k,
                regions=tables,
                global_table=global_table,
                patterns=patterns,
                checklist=checklist,
                methodology=methodology,
                previous_cycle=last,
            ),
            "methodology": methodology,
            "signature": None,
        }
    )


def _check_issues(
    current: CspCycle,
    previous_cycle: CspCycle | None,
    *,
    previous: CspSummary | None,
    prior_cycle: CspSummary | None,
) -> None:
    """Raises :class:`ValidationError` unless *previous* (if given) is a summary of
    *current* and *prior_cycle* (if given) one of the cycle before it."""
    if previous is not None and previous.cycle != str(current):
        raise ValidationError(
            f"the previous issue given for {current} is a summary of {previous.cycle}"
        )
    if prior_cycle is not None and (
        previous_cycle is None or prior_cycle.cycle != str(previous_cycle)
    ):
        raise ValidationError(
            f"the prior cycle given for {current} is a summary of {prior_cycle.cycle}"
        )


async def _cycle_tables(  # noqa: PLR0913  build_summary's inputs, passed on by keyword
    stores: Stores,
    codes: Sequence[str],
    current: CspCycle,
    previous_cycle: CspCycle | None,
    *,
    k: int,
    previous: CspSummary | None,
    prior_cycle: CspSummary | None,
    rows: Mapping[str, RowRequirement] | None = None,
) -> tuple[SummaryTables, SummaryTables | None]:
    """The protected tables of *current* and of *previous_cycle* (``None`` before the
    first cycle), read in one pass over the stores (no TLP:RED cases).

    This cycle's stay consistent with its *previous* issue and prefer the cells the
    *prior_cycle* summary suppressed; the cycle before keeps suppressed what that published
    summary suppressed, so the trend flags compare with what it published.
    """
    periods = [str(current)] + ([str(previous_cycle)] if previous_cycle is not None else [])
    cells = await _cells(stores, codes, periods)
    prefer = published_cells(prior_cycle).suppressed if prior_cycle is not None else frozenset()
    now = summary_tables(
        cells[str(current)], codes, k=k, earlier=previous, prefer=prefer, rows=rows
    )
    before = (
        summary_tables(cells[str(previous_cycle)], codes, k=k, earlier=prior_cycle)
        if previous_cycle is not None
        else None
    )
    return now, before


def _methodology(now: SummaryTables, *, k: int, catalogue: Catalogue) -> Methodology:
    """The summary's methodology: the rules (:func:`_rules`), ``k``, how many cells are
    suppressed and why, the trend test and the catalogue version."""
    protection = now.protection
    return Methodology(
        rules=_rules(k),
        k=k,
        suppressed=len(protection.suppressed),
        primary=len(protection.primary),
        secondary=len(protection.secondary),
        kept_for_stability=len(now.stable),
        trend_test=TREND_TEST,
        red_excluded=True,
        catalogue_version=catalogue.version,
        published_share=_shares(now),
    )


def _shares(now: SummaryTables) -> dict[str, float]:
    """The utility figure: the share of (case, value) facts in published cells, of the
    regions' tables and of the global table."""
    acc = {"regions": [0, 0], "global": [0, 0]}
    for key, count in now.counts.items():
        if key[1:] == TOTAL or count <= 0:
            continue
        part = acc["global" if key[0] == GLOBAL else "regions"]
        part[1] += count
        part[0] += 0 if now.hidden(key) else count
    return {name: round(p / t, 4) if t else 1.0 for name, (p, t) in acc.items()}

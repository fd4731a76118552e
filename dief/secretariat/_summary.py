"""The CSP-ready summary of one cycle (DESIGN §7): public-safe, non-attributed.

Built from the cycle's stored cells without TLP:RED cases, for every region and for all
regions together. Cells are protected by distinct contributors (``k_csp``), then by
secondary suppression (:mod:`dief.disclosure._suppression`) so that no suppressed cell can be
computed from totals or from the other regions, nor by comparing this issue with the
previous issue of the same cycle (``previous``: its suppressed cells stay suppressed). The
previous cycle's published summary (``prior_cycle``) breaks ties between candidate
secondary suppressions, so the pattern moves little from one cycle to the next.

By concept: the protection (:mod:`dief.secretariat._summary_tables`), the summary's parts
built from the protected tables (:mod:`dief.secretariat._summary_parts`: patterns,
checklist, methodology), and here the reading of the stores, each table and
:func:`build_summary`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.digests import rank_cells, ratio, trend_flag
from dief.disclosure import (
    GLOBAL,
    CellSource,
    PeriodCells,
    RowRequirement,
    collector_paused,
    published_cells,
)
from dief.exceptions import ValidationError
from dief.periods import DEFAULT_CYCLE_START_MONTH, CspCycle
from dief.secretariat._data_versions import summary_cells, with_data_versions
from dief.secretariat._narrative import narrative
from dief.secretariat._summary_parts import (
    REGION_RANK,
    summary_checklist,
    summary_methodology,
    summary_patterns,
)
from dief.secretariat._summary_tables import SummaryTables, summary_tables
from dief.vocab import Dimension, Region
from dief.wire import Cell, CspSummary, RegionTable, Totals

if TYPE_CHECKING:
    from dief.catalogue import Catalogue

__all__ = ["SummaryTables", "build_summary", "summary_tables"]


Stores = CellSource | Mapping[Region, CellSource] | Mapping[str, CellSource]


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


async def _cells(
    stores: Stores, regions: Sequence[str], current: str, periods: Sequence[str]
) -> tuple[dict[str, dict[str, PeriodCells]], dict[str, str]]:
    """Period → region → cells, without TLP:RED cases; and region → the data version of
    *current* those cells are of, where its source keeps one (:func:`summary_cells`)."""
    out: dict[str, dict[str, PeriodCells]] = {p: {} for p in periods}
    versions: dict[str, str] = {}
    for region in regions:
        if not isinstance(stores, Mapping):
            store = stores
        else:
            found = {str(key): value for key, value in stores.items()}
            if region not in found:
                continue
            store = found[region]
        merged, held = await summary_cells(store, region, periods)
        for period in periods:
            out[period][region] = merged.get(period, {})
        if current in held:
            versions[region] = held[current][1]
    return out, versions


def _regions(stores: Stores, regions: Sequence[Region | str] | None) -> list[str]:
    if regions is not None:
        chosen = {Region(r).value for r in regions}
    elif not isinstance(stores, Mapping):
        chosen = {r.value for r in Region}
    else:
        chosen = {Region(str(r)).value for r in stores}
    return sorted(chosen, key=lambda r: REGION_RANK[r])


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

    (Over 80 lines for its keyword signature and this docstring; the body, about 50 lines,
    reads, protects (:func:`_cycle_tables`) and assembles, each step a function of its own.)
    """
    if k < 1:
        raise ValueError("k is at least 1")
    current = CspCycle.parse(cycle, start_month=start_month)
    previous_cycle = current.previous() if current.number > 1 else None
    _check_issues(current, previous_cycle, previous=previous, prior_cycle=prior_cycle)
    codes = _regions(stores, regions)
    needs = None if rows is None else {Region(str(r)).value: req for r, req in rows.items()}
    periods = [str(current)] + ([str(previous_cycle)] if previous_cycle is not None else [])
    # the cells and the data versions the region tables state, read together
    cells, versions = await _cells(stores, codes, str(current), periods)
    now, before = _cycle_tables(
        cells,
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
    tables, global_table = with_data_versions(versions, tables, global_table)
    last = str(previous_cycle) if previous_cycle is not None else None
    patterns = summary_patterns(now, before, last)
    checklist = summary_checklist(now, before, catalogue)
    methodology = summary_methodology(now, k=k, catalogue=catalogue)
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


def _cycle_tables(  # noqa: PLR0913  build_summary's inputs, passed on by keyword
    cells: Mapping[str, Mapping[str, PeriodCells]],
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
    first cycle), from their *cells* (period → region → cells, no TLP:RED cases).

    This cycle's stay consistent with its *previous* issue and prefer the cells the
    *prior_cycle* summary suppressed; the cycle before keeps suppressed what that published
    summary suppressed, so the trend flags compare with what it published.
    """
    prefer = published_cells(prior_cycle).suppressed if prior_cycle is not None else frozenset()
    with collector_paused():  # many small objects, no cycles (dief._gc_pause)
        now = summary_tables(
            cells[str(current)], codes, k=k, earlier=previous, prefer=prefer, rows=rows
        )
        before = (
            summary_tables(cells[str(previous_cycle)], codes, k=k, earlier=prior_cycle)
            if previous_cycle is not None
            else None
        )
    return now, before

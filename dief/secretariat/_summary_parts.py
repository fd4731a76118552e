"""The parts of a CSP summary built from its protected tables
(:mod:`dief.secretariat._summary`): the patterns across regions, the checklist of risk
indicators, and the methodology with its rules and published shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.digests import TREND_TEST, checklist_entry, rank_checklist, ratio, trend_flag
from dief.disclosure import GLOBAL, SINGLE_VALUED
from dief.vocab import Dimension, Region
from dief.wire import ChecklistEntry, Methodology, Pattern, Trend

if TYPE_CHECKING:
    from dief.catalogue import Catalogue
    from dief.secretariat._summary_tables import SummaryTables

__all__ = ["REGION_RANK", "summary_checklist", "summary_methodology", "summary_patterns"]


_DIM_RANK = {d.value: i for i, d in enumerate(Dimension)}
REGION_RANK = {r.value: i for i, r in enumerate(Region)}
_PATTERN_REGIONS = 2  # a pattern: a value rising or new in at least this many regions


def summary_patterns(
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
            regions=sorted(regions, key=lambda r: REGION_RANK[r.value]),
            trend=Trend.RISING,
            previous_cycle=previous_cycle,
        )
        for (dim, value), regions in rising.items()
        if len(regions) >= _PATTERN_REGIONS
    ]
    found.sort(key=lambda p: (-len(p.regions), _DIM_RANK[p.dimension.value], p.value))
    return found


def summary_checklist(
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
            "issue listed may count zero), and a cell hidden to protect another at least k, "
            "so no set with a published total is left with suppressed cells that could only "
            "be those least counts, and no suppressed cell may follow "
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


def summary_methodology(now: SummaryTables, *, k: int, catalogue: Catalogue) -> Methodology:
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

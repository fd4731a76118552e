"""The risk-indicator checklist of a digest (DESIGN §7): the indicators counted over the four
quarters ending at its period, ranked by prevalence, with trends against the four quarters
before (:func:`_checklist`); one entry with the catalogue's texts (:func:`checklist_entry`);
ranking (:func:`rank_checklist`) and selecting by stage and transfer type
(:func:`filter_checklist`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.digests._cells import ratio, reason_of
from dief.digests._tables import _Tables, few_contributors
from dief.digests._trend import trend_flag
from dief.vocab import Dimension, TransferStage, TransferType
from dief.wire import ChecklistEntry, SuppressionReason, Trend

if TYPE_CHECKING:
    from collections.abc import Iterable

    from dief.catalogue import Catalogue
    from dief.disclosure import DigestPattern

__all__ = [
    "checklist_entry",
    "filter_checklist",
    "rank_checklist",
]


def checklist_entry(  # noqa: PLR0913  a public keyword signature (renderers, the secretariat's summary)
    catalogue: Catalogue,
    indicator_id: str,
    *,
    count: int | None,
    prevalence: float | None,
    trend: Trend | None,
    reason: SuppressionReason | None = None,
) -> ChecklistEntry:
    """A checklist entry with the catalogue's question, title, stages, transfer types and
    sources.

    ``count=None`` makes a suppressed entry (prevalence and trend dropped too), *reason*
    saying why.
    """
    indicator = catalogue.get(indicator_id)
    hidden = count is None
    return ChecklistEntry(
        id=indicator_id,
        question=indicator.question
        if indicator is not None
        else f"(not in risk-indicator catalogue version {catalogue.version})",
        count=count,
        prevalence=None if hidden else prevalence,
        trend=None if hidden else trend,
        suppressed=hidden,
        title=indicator.title if indicator is not None else None,
        stages=list(indicator.stages) if indicator is not None else [],
        source="; ".join(str(s) for s in indicator.sources) if indicator is not None else None,
        transfer_types=list(indicator.transfer_types) if indicator is not None else [],
        reason=(reason or SuppressionReason.CONTRIBUTORS) if hidden else None,
    )


def filter_checklist(
    entries: Iterable[ChecklistEntry],
    *,
    stage: TransferStage | None = None,
    transfer_type: TransferType | None = None,
) -> list[ChecklistEntry]:
    """The entries that apply at *stage* to a transfer of *transfer_type*, in their order
    (the catalogue's rule: ``None``, and the type ``unknown``, select everything; an entry
    that names no transfer type applies to every one). A licensing officer preparing an
    export assessment asks for ``stage=PRE_TRANSFER, transfer_type=EXPORT``."""
    out = []
    for entry in entries:
        if stage is not None and stage not in entry.stages:
            continue
        if (
            transfer_type is not None
            and transfer_type is not TransferType.UNKNOWN
            and entry.transfer_types
            and transfer_type not in entry.transfer_types
        ):
            continue
        out.append(entry)
    return out


def rank_checklist(entries: Iterable[ChecklistEntry]) -> list[ChecklistEntry]:
    """Published entries by prevalence (then count, id), then suppressed ones by id."""
    items = list(entries)
    published = sorted(
        (e for e in items if not e.suppressed),
        key=lambda e: (-(e.prevalence or 0.0), -(e.count or 0), e.id),
    )
    hidden = sorted((e for e in items if e.suppressed), key=lambda e: e.id)
    return [*published, *hidden]


def _checklist(
    tables: _Tables, *, pattern: DigestPattern, catalogue: Catalogue
) -> list[ChecklistEntry]:
    """The checklist of the window (table ``names[0]``) with trends against the prior window
    (``names[1]``, ``None`` before year 1). A count is published where the pattern publishes
    it, its prevalence only where the window's case count is published too (a prevalence
    and a count give the case count away), its trend only where the prior window's count is
    published by the same pattern (a flag bounds the count it compares with). A window of
    fewer than k contributors lists no entry, and none is compared with such a prior window
    (:func:`few_contributors`)."""
    window, prior, (name, prior_name) = tables.window_cells, tables.prior_cells, tables.names
    if few_contributors(window, pattern.k):
        return []
    compare = not few_contributors(prior, pattern.k)
    total = window.get(TOTAL)
    cases = pattern.published(name, TOTAL, total) if total is not None else None
    entries: list[ChecklistEntry] = []
    for cell, tally in window.items():
        if cell[0] != Dimension.RISK_INDICATOR.value:
            continue
        count = pattern.published(name, cell, tally)
        if count is None:
            entries.append(
                checklist_entry(
                    catalogue,
                    cell[1],
                    count=None,
                    prevalence=None,
                    trend=None,
                    reason=reason_of(tally, pattern.k),
                )
            )
            continue
        previous = (
            None
            if not compare
            else 0
            if prior_name is None
            else pattern.published(prior_name, cell, prior.get(cell))
        )
        entries.append(
            checklist_entry(
                catalogue,
                cell[1],
                count=count,
                prevalence=ratio(count, cases),
                trend=None if previous is None else trend_flag(count, previous),
            )
        )
    return rank_checklist(entries)

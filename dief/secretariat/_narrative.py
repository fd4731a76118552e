"""The CSP summary's narrative: fixed sentence templates filled from published cells only.

Deterministic (same summary, same text) and safe by construction: every number it states is
a published count, contributor count, share, k or suppression count; a suppressed cell is
never named with a number, and "most frequent" is said of published values only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.labels import VALUE_LABELS
from dief.vocab import REGION_NAMES, Dimension, Region

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from dief.wire import Cell, ChecklistEntry, Methodology, Pattern, RegionTable

__all__ = ["DIMENSION_LABELS", "LIST_LIMIT", "label", "listed", "narrative", "percent"]

DIMENSION_LABELS: dict[Dimension, str] = {
    Dimension.KIND: "kind of report",
    Dimension.CONFIDENCE: "confidence",
    Dimension.ITEM_CATEGORY: "item category",
    Dimension.TRANSFER_STAGE: "transfer stage",
    Dimension.METHOD: "diversion method",
    Dimension.TRANSPORT_MODE: "transport mode",
    Dimension.END_USER_TYPE: "actual end user",
    Dimension.RISK_INDICATOR: "risk indicator",
    Dimension.DETECTION_SOURCE: "detection source",
    Dimension.ACTION_TAKEN: "action taken",
    Dimension.TRANSFER_TYPE: "transfer type",
    Dimension.MARITIME: "maritime feature",
    Dimension.ACTOR_ROLE: "actor involved",
    Dimension.UNREGISTERED_ACTOR: "unregistered or unlicensed actor",
    Dimension.VERIFICATION: "end-use or post-shipment check",
    Dimension.VERIFICATION_OUTCOME: "outcome of the check",
    Dimension.REASSESSMENT: "Article 7(7) reassessment",
    Dimension.ITEM_SUBCATEGORY: "item subcategory",
}

#: dimensions the narrative names the most frequent published value of, in this order
_HIGHLIGHTS = (
    Dimension.METHOD,
    Dimension.ITEM_CATEGORY,
    Dimension.TRANSFER_STAGE,
    Dimension.END_USER_TYPE,
    Dimension.DETECTION_SOURCE,
)


#: A sentence names at most this many items; the rest are counted ("and 14 others").
LIST_LIMIT = 5


def label(value: str) -> str:
    """A vocabulary value as words inside a sentence, from the one label source
    (:data:`dief.labels.VALUE_LABELS`), its first letter in lower case unless the
    label reads as a name ("African Group", "UN …"): ``non_state_armed_group`` →
    ``non-State armed group``; a value without a label loses its underscores; indicator
    ids stay as they are."""
    text = VALUE_LABELS.get(value)
    if text is None:
        return value.replace("_", " ")
    proper = text[1:2].isupper() or any(w[:1].isupper() for w in text.split()[1:])
    return text if proper else text[:1].lower() + text[1:]


def listed(items: Sequence[str], what: str, limit: int = LIST_LIMIT) -> str:
    """*items* joined with "; ", the first *limit* only, then "and N other *what*"."""
    if len(items) <= limit:
        return "; ".join(items)
    rest = len(items) - limit
    return "; ".join(items[:limit]) + f"; and {rest} other {what}{'' if rest == 1 else 's'}"


def percent(share: float) -> str:
    """0.3456 → ``35%`` (rounded half to even, like the JSON share)."""
    return f"{round(share * 100)}%"


def _cases(n: int) -> str:
    return f"{n} case" if n == 1 else f"{n} cases"


def _top(cells: Sequence[Cell]) -> Cell | None:
    published = [c for c in cells if not c.suppressed and c.count]
    if not published:
        return None
    return min(published, key=lambda c: (-(c.count or 0), c.value))


def narrative(  # noqa: PLR0913  a public keyword signature, used by the summary builder (_summary.py)
    *,
    cycle: str,
    first: str,
    last: str,
    k: int,
    regions: Mapping[Region, RegionTable],
    global_table: RegionTable,
    patterns: Sequence[Pattern],
    checklist: Sequence[ChecklistEntry],
    methodology: Methodology,
    previous_cycle: str | None,
) -> list[str]:
    """Paragraphs of the summary, from published values only, in this order: the cycle and
    its overall count; the count by region; the most frequent published values; the values
    rising in two or more regions (only with a previous cycle); the most prevalent risk
    indicators; what was suppressed. A paragraph with nothing to say is left out."""
    paragraphs = (
        _opening(cycle, first, last, global_table),
        _by_region(regions),
        _most_frequent(global_table),
        _rising(patterns, previous_cycle),
        _leading_indicators(checklist),
        _suppression(methodology, k),
    )
    return [paragraph for paragraph in paragraphs if paragraph is not None]


def _opening(cycle: str, first: str, last: str, global_table: RegionTable) -> str:
    """What the summary covers, and the overall number of cases and contributors (or that
    it is withheld, or that there was none)."""
    totals = global_table.totals
    opening = (
        f"This summary covers {cycle} ({first} to {last}): diversion cases and alerts "
        "shared through the Diversion Information Exchange Forum, reported without "
        "attribution to any State."
    )
    if totals.cases is None:
        return opening + " The overall number of cases is withheld to protect contributors."
    if totals.cases == 0:
        return opening + " No case was shared for this cycle."
    return opening + (
        f" {_cases(totals.cases).capitalize()} were shared, from at least "
        f"{totals.contributors} distinct contributors."
    )


def _by_region(regions: Mapping[Region, RegionTable]) -> str | None:
    """Each region's number of cases ("withheld" or "none" where so); ``None`` without
    regions."""
    parts: list[str] = []
    for region, table in regions.items():
        name = f"{REGION_NAMES[region]} ({region.value})"
        if table.totals.cases is None:
            parts.append(f"{name}: withheld")
        elif table.totals.cases == 0:
            parts.append(f"{name}: none")
        else:
            parts.append(f"{name}: {_cases(table.totals.cases)}")
    if not parts:
        return None
    return "By region: " + "; ".join(parts) + "."


def _most_frequent(global_table: RegionTable) -> str | None:
    """The most frequent published value of each highlighted dimension (with its share
    where published); ``None`` when no such dimension has a published value."""
    found: list[str] = []
    for dimension in _HIGHLIGHTS:
        top = _top(global_table.dimensions.get(dimension, []))
        if top is None or top.count is None:
            continue
        share = f", {percent(top.share)} of all cases" if top.share is not None else ""
        found.append(
            f"the most frequent {DIMENSION_LABELS[dimension]} was {label(top.value)} "
            f"({_cases(top.count)}{share})"
        )
    if not found:
        return None
    text = "Among published values, " + "; ".join(found) + "."
    return text[0].upper() + text[1:]


def _rising(patterns: Sequence[Pattern], previous_cycle: str | None) -> str | None:
    """The values rising in two or more regions compared with *previous_cycle*, or that
    none did; ``None`` in the first cycle."""
    if previous_cycle is None:
        return None
    if not patterns:
        return (
            f"No published value rose significantly in two or more regions compared "
            f"with {previous_cycle}."
        )
    values = [
        f"{DIMENSION_LABELS[p.dimension]} {label(p.value)} "
        f"({', '.join(r.value for r in p.regions)})"
        for p in patterns
    ]
    shown = listed(values, "value")
    more = " (all are in the table of patterns)" if len(values) > LIST_LIMIT else ""
    return f"Rising in two or more regions compared with {previous_cycle}: {shown}{more}."


def _leading_indicators(checklist: Sequence[ChecklistEntry]) -> str | None:
    """The (up to) three first published risk indicators with a prevalence, in checklist
    order; ``None`` when there is none."""
    leading = [e for e in checklist if not e.suppressed and e.prevalence is not None][:3]
    if not leading:
        return None
    listed = "; ".join(
        f"{e.id} ({e.title or e.question}, {percent(e.prevalence or 0.0)} of cases)"
        for e in leading
    )
    return f"The most prevalent risk indicators were {listed}."


def _suppression(methodology: Methodology, k: int) -> str:
    """How many cells are suppressed and why (primary, secondary, kept for stability with
    the previous issue), or that none needed to be."""
    if not methodology.suppressed:
        return (
            f"No cell needed suppression: every published cell has at least {k} distinct "
            "contributors."
        )
    text = (
        f"To protect contributors, {methodology.suppressed} cells are suppressed: "
        f"{methodology.primary} because fewer than {k} distinct contributors reported "
        f"them, and {methodology.secondary} more so that none can be recovered from "
        "totals, from other regions or from the previous issue of this summary."
    )
    if methodology.kept_for_stability:
        text += (
            f" Of the latter, {methodology.kept_for_stability} are suppressed only to stay "
            "consistent with the previous issue of this summary."
        )
    return text

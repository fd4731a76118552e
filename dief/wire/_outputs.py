"""JSON shapes of the published outputs (DESIGN §7 ⚑): cells, digests, CSP summaries.

The names and meanings of the fields below are fixed; more fields are welcome, so every
shape allows extra keys (``extra="allow"``) and carries them through round trips.

Rules enforced here, so no producer can publish a leaking cell:

- a suppressed cell has ``count``, ``contributors``, ``share`` and ``change`` all null
  (``change`` and ``share`` would give the count back);
- an unsuppressed cell has both ``count`` and ``contributors``, and
  ``contributors ≤ count`` (every contributor contributed at least one case).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    model_validator,
)

from dief.catalogue import INDICATOR_ID_PATTERN
from dief.vocab import Dimension, Region, Tlp, TransferStage, TransferType

__all__ = [
    "SUPPRESSION_TEXT",
    "Cell",
    "ChecklistEntry",
    "CspSummary",
    "Digest",
    "DigestNotes",
    "Lesson",
    "Methodology",
    "Pattern",
    "RegionTable",
    "SuppressionReason",
    "Totals",
    "Trend",
    "TrendTest",
]

_PERIOD_RE = re.compile(r"^([0-9]{4}-(0[1-9]|1[0-2])|[0-9]{4}-Q[1-4]|CSP[1-9][0-9]{0,3}(-H[12])?)$")
_PERIOD_PATTERN = _PERIOD_RE.pattern
_MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
_CYCLE_PATTERN = r"^CSP[1-9][0-9]{0,3}$"


class SuppressionReason(StrEnum):
    """Why a cell, total or checklist entry is suppressed (DESIGN §7)."""

    CONTRIBUTORS = "contributors"
    """fewer distinct contributors than k: it could point at a State"""
    PROTECTION = "protection"
    """enough contributors, hidden so that another suppressed figure cannot be worked out"""


#: one sentence per reason, for every rendering (a diplomat reads them)
SUPPRESSION_TEXT = {
    SuppressionReason.CONTRIBUTORS: "Hidden because fewer than k States reported it, so "
    "it could point to one of them.",
    SuppressionReason.PROTECTION: "Hidden although enough States reported it, so that a "
    "figure hidden elsewhere cannot be worked out from it.",
}


class Trend(StrEnum):
    """Trend flag of a cell or checklist entry against the previous period."""

    NEW = "new"
    RISING = "rising"
    FALLING = "falling"
    STABLE = "stable"


def _open(title: str) -> ConfigDict:
    return ConfigDict(extra="allow", frozen=True, title=title)


Count = Annotated[int, Field(ge=0)]


class Cell(BaseModel):
    """One (dimension, value) of a table: cases and distinct contributors, or suppressed."""

    model_config = _open("Cell")

    value: str = Field(description="The dimension value, e.g. 'small_arms' or 'DOC-01'")
    count: Count | None = Field(description="Cases; null when suppressed")
    contributors: Count | None = Field(description="Distinct contributors; null when suppressed")
    suppressed: bool = Field(default=False, description="Fewer contributors than k")
    share: float | None = Field(
        default=None, ge=0, le=1, description="count / cases in the table's totals"
    )
    previous: Count | None = Field(default=None, description="Count in the previous period")
    change: int | None = Field(default=None, description="count - previous")
    trend: Trend | None = None
    reason: SuppressionReason | None = Field(
        default=None, description="Why it is suppressed (null when published)"
    )

    @model_validator(mode="after")
    def _disclosure(self) -> Cell:
        if self.suppressed:
            leaked = [
                name
                for name in ("count", "contributors", "share", "change")
                if getattr(self, name) is not None
            ]
            if leaked:
                raise ValueError(f"a suppressed cell must have null {', '.join(leaked)}")
        else:
            if self.count is None or self.contributors is None:
                raise ValueError("an unsuppressed cell needs count and contributors")
            if self.contributors > self.count:
                raise ValueError("contributors cannot exceed count")
        return self


class Totals(BaseModel):
    """Table totals. ``suppressed`` is the number of suppressed cells in the table.

    ``cases`` / ``contributors`` are null only when the total itself is suppressed (below
    ``k``, or withheld so that a suppressed cell cannot be recovered from it).
    """

    model_config = _open("Totals")

    cases: Count | None
    contributors: Count | None
    suppressed: Count = 0
    withheld: bool = Field(
        default=False, description="The total itself is suppressed (cases, contributors null)"
    )
    previous: Count | None = Field(
        default=None, description="Cases in the previous period; null when not publishable"
    )
    trend: Trend | None = None
    reason: SuppressionReason | None = Field(
        default=None, description="Why the total is withheld (null when published)"
    )

    @model_validator(mode="after")
    def _disclosure(self) -> Totals:
        if self.withheld and (self.cases is not None or self.contributors is not None):
            raise ValueError("withheld totals must have null cases and contributors")
        return self


class ChecklistEntry(BaseModel):
    """A risk indicator ranked by prevalence (share of cases citing it)."""

    model_config = _open("Checklist entry")

    id: str = Field(pattern=INDICATOR_ID_PATTERN)
    question: str
    count: Count | None = Field(description="Cases citing it; null when suppressed")
    prevalence: float | None = Field(ge=0, le=1, description="count / total cases")
    trend: Trend | None = None
    suppressed: bool = Field(default=False, description="Fewer contributors than k")
    title: str | None = Field(default=None, description="Catalogue title")
    stages: list[TransferStage] = Field(
        default_factory=list, description="Transfer stages the indicator applies to"
    )
    source: str | None = Field(default=None, description="Public sources (catalogue)")
    transfer_types: list[TransferType] = Field(
        default_factory=list,
        description="Transfer types the indicator applies to (catalogue; empty: not known)",
    )
    reason: SuppressionReason | None = Field(
        default=None, description="Why it is suppressed (null when published)"
    )

    @model_validator(mode="after")
    def _disclosure(self) -> ChecklistEntry:
        if self.count is None and self.prevalence is not None:
            raise ValueError("a suppressed checklist entry must have null prevalence")
        if self.suppressed and self.count is not None:
            raise ValueError("a suppressed checklist entry must have null count")
        return self


class Lesson(BaseModel):
    """A shareable lesson learned (TLP amber or lower), already screened."""

    model_config = _open("Lesson")

    text: str
    tlp: Tlp
    stage: TransferStage | None = Field(
        default=None, description="Transfer stage of the case the lesson comes from"
    )


class TrendTest(BaseModel):
    """The stated test behind every trend flag."""

    model_config = _open("Trend test")

    name: str
    statistic: str
    min_count: int = Field(ge=1, description="Below this many cases (now + previous): stable")
    z: float = Field(gt=0, description="Critical value of |statistic|")
    alpha: float = Field(gt=0, lt=1, description="Two-sided significance level")


class DigestNotes(BaseModel):
    """Data notes of a digest; any further note is welcome as an extra key."""

    model_config = _open("Digest notes")

    late_revisions: Count | None = Field(
        default=None, description="Revisions applied after the period; null when not tracked"
    )
    dead_lettered: Count = Field(default=0, description="Records sent to the DLQ")
    suppressed_cells: Count = Field(default=0, description="Cells published as suppressed")
    primary_suppressed: Count = Field(
        default=0, description="Suppressed cells with fewer than k distinct contributors"
    )
    secondary_suppressed: Count = Field(
        default=0,
        description="Cells suppressed so that no suppressed cell can be computed from "
        "published ones (within the digest or across the region's periods)",
    )
    totals_secondary: bool = Field(
        default=False, description="The totals are withheld by secondary suppression"
    )
    dead_letters: dict[str, Count] = Field(
        default_factory=dict, description="Dead-lettered records by reason code"
    )
    k: int | None = Field(default=None, ge=1, description="Minimum distinct contributors")
    trend_test: TrendTest | None = None
    cycles: list[str] = Field(
        default_factory=list, description="CSP cycles whose contributor pseudonyms the period spans"
    )
    contributors_lower_bound: bool = Field(
        default=False,
        description="Contributor counts are lower bounds (the period spans several cycles)",
    )
    checklist_window: list[str] = Field(
        default_factory=list, description="Quarters the checklist counts over"
    )
    text: list[str] = Field(default_factory=list, description="The notes as sentences")
    lessons_omitted: bool = Field(
        default=False,
        description="Lessons were not read (rendered without the region's private key)",
    )


def _check_period(value: str) -> str:
    if not _PERIOD_RE.match(value):
        raise ValueError("expected a period as YYYY-MM, YYYY-Qn, CSPn-H1, CSPn-H2 or CSPn")
    return value


Dimensions = dict[Dimension, list[Cell]]


class Digest(BaseModel):
    """A regional trend digest for one period (DESIGN §7 ⚑)."""

    model_config = _open("DIEF regional trend digest")

    region: Region
    period: Annotated[
        str,
        AfterValidator(_check_period),
        Field(json_schema_extra={"pattern": _PERIOD_PATTERN}),
    ]
    k: int = Field(ge=1, description="Minimum distinct contributors for a published cell")
    totals: Totals
    dimensions: Dimensions
    checklist: list[ChecklistEntry] = Field(default_factory=list)
    lessons: list[Lesson] = Field(default_factory=list)
    notes: DigestNotes = Field(default_factory=DigestNotes)


class RegionTable(BaseModel):
    """Totals and dimension tables for one region, or for all regions together."""

    model_config = _open("Region table")

    totals: Totals
    dimensions: Dimensions


class Pattern(BaseModel):
    """A dimension value rising in several regions at once."""

    model_config = _open("Pattern")

    dimension: Dimension
    value: str
    regions: list[Region]
    trend: Trend = Trend.RISING
    previous_cycle: str | None = Field(default=None, description="The cycle compared with")


class Methodology(BaseModel):
    """How the summary was made: the rules, ``k`` and how many cells were suppressed."""

    model_config = _open("Methodology")

    rules: list[str]
    k: int = Field(ge=1)
    suppressed: Count
    primary: Count = Field(default=0, description="Cells suppressed below k contributors")
    secondary: Count = Field(default=0, description="Cells suppressed to protect others")
    kept_for_stability: Count = Field(
        default=0,
        description="Cells suppressed only to stay consistent with the previous issue of "
        "this cycle's summary (this issue alone would publish them); counted in secondary",
    )
    trend_test: TrendTest | None = None


class CspSummary(BaseModel):
    """The CSP-ready summary of one cycle (DESIGN §7 ⚑). A case counts in ``global`` once.

    ``signature`` is null until signed; it is computed over the summary without it.
    """

    model_config = ConfigDict(
        extra="allow", frozen=True, title="DIEF CSP summary", populate_by_name=True
    )

    cycle: str = Field(pattern=_CYCLE_PATTERN)
    from_: str = Field(alias="from", pattern=_MONTH_PATTERN, description="First month")
    to: str = Field(pattern=_MONTH_PATTERN, description="Last month")
    k: int = Field(ge=1)
    issue: int = Field(
        default=1,
        ge=1,
        description="Numbers the issues of a cycle (1, 2, ...): a verifier holding issue n "
        "refuses any issue up to n, so an older issue cannot be replayed as the latest",
    )
    issued_at: str | None = Field(
        default=None,
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
        description="When this issue was signed (UTC); null until signed",
    )
    regions: dict[Region, RegionTable]
    global_: RegionTable = Field(alias="global")
    patterns: list[Pattern] = Field(default_factory=list)
    checklist: list[ChecklistEntry] = Field(default_factory=list)
    narrative: list[str] = Field(default_factory=list, description="Paragraphs")
    methodology: Methodology
    signature: dict[str, JsonValue] | None = None

    def to_json(self) -> str:
        """JSON with the wire names (``from``, ``global``)."""
        return self.model_dump_json(by_alias=True)

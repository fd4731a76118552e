"""The generalised case sealed inside a ``dief.case`` envelope (payload schema 1).

A :class:`CaseRecord` is what the node publishes: no day, no exact quantity, no
``submitted_by``, a per-cycle contributor pseudonym and an owner tag instead of any State
identity. Aggregators validate many thousands per second, so this model keeps to types
and patterns pydantic-core checks natively (one small Python check on related regions).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from dief.catalogue import INDICATOR_ID_PATTERN, load_catalogue
from dief.periods import CspCycle, Month
from dief.vocab import (
    ActionTaken,
    CaseKind,
    CaseStatus,
    Confidence,
    DetectionSource,
    EndUserType,
    ItemCategory,
    Method,
    QuantityBand,
    Region,
    Tlp,
    TransferStage,
    TransportMode,
)
from dief.wire._case import (
    MAX_INDICATORS,
    MAX_ITEMS,
    MAX_REVISION,
    SUMMARY_MAX_CHARS,
    CaseInput,
)
from dief.wire._errors import CaseValidationError, problems_from_pydantic

__all__ = [
    "CASE_SCHEMA_VERSION",
    "CaseRecord",
    "RecordItem",
    "generalise",
]

CASE_SCHEMA_VERSION = 1

_UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_HEX32_PATTERN = r"^[0-9a-f]{32}$"
_MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
_CYCLE_PATTERN = r"^CSP[1-9][0-9]{0,3}$"


class RecordItem(BaseModel):
    """An item as shared: its category and quantity band."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Record item")

    category: ItemCategory
    band: QuantityBand


class CaseRecord(BaseModel):
    """The generalised case as the node publishes it (sealed, type ``dief.case``, schema 1).

    ``related`` is true on the copies sent to the topics of ``related_regions``: those
    aggregators are told about the case but must not count it. ``contributor`` is stable
    within ``cycle`` and unlinkable across cycles; ``owner_tag`` must match on every
    later revision of ``case_id``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, title="DIEF case record v1")

    case_id: str = Field(pattern=_UUID_PATTERN, description="Lower-case hyphenated UUID")
    revision: int = Field(ge=1, le=MAX_REVISION, strict=True)
    status: CaseStatus
    kind: CaseKind
    confidence: Confidence
    region: Region = Field(description="Primary region: the only one that counts the case")
    related_regions: list[Region] = Field(max_length=len(Region) - 1)
    detected_month: str = Field(pattern=_MONTH_PATTERN, description="YYYY-MM")
    items: list[RecordItem] = Field(min_length=1, max_length=MAX_ITEMS)
    transfer_stage: TransferStage
    methods: list[Method] = Field(max_length=len(Method))
    transport_modes: list[TransportMode] = Field(max_length=len(TransportMode))
    end_user_type: EndUserType
    risk_indicators: list[Annotated[str, StringConstraints(pattern=INDICATOR_ID_PATTERN)]] = Field(
        max_length=MAX_INDICATORS
    )
    detection_source: DetectionSource
    actions_taken: list[ActionTaken] = Field(max_length=len(ActionTaken))
    tlp: Tlp
    summary: str | None = Field(
        default=None, max_length=SUMMARY_MAX_CHARS, description="Already screened"
    )
    cycle: str = Field(pattern=_CYCLE_PATTERN, description="CSP cycle of detected_month")
    contributor: str = Field(pattern=_HEX32_PATTERN, description="Per-cycle node pseudonym")
    owner_tag: str = Field(pattern=_HEX32_PATTERN, description="Proves ownership of case_id")
    related: bool = Field(
        default=False, description="Copy for a related region's topic: not counted"
    )
    catalogue_version: str = Field(min_length=1, max_length=32)

    @field_validator("related_regions")
    @classmethod
    def _not_own_region(cls, value: list[Region], info: ValidationInfo) -> list[Region]:
        if info.data.get("region") in value:
            raise PydanticCustomError("invalid_value", "must not contain the record's region")
        return value

    @property
    def month(self) -> Month:
        return Month.parse(self.detected_month)

    @property
    def counted(self) -> bool:
        """Whether this record changes its region's aggregates (not a related copy)."""
        return not self.related

    def as_related_copy(self) -> CaseRecord:
        """The copy for the topics of the related regions (``related=True``)."""
        return self.model_copy(update={"related": True})

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON, the plaintext that gets sealed."""
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> CaseRecord:
        """Parse and validate; :class:`CaseValidationError` with code ``invalid_record``."""
        try:
            return cls.model_validate_json(data)
        except PydanticValidationError as exc:
            problems = problems_from_pydantic(exc)
        summary = "; ".join(p.message for p in problems[:5])
        raise CaseValidationError(
            f"invalid case record: {summary}", code="invalid_record", errors=problems
        )


def generalise(
    case: CaseInput,
    *,
    case_id: UUID | str,
    revision: int,
    contributor: str,
    owner_tag: str,
    cycle: CspCycle | str,
    catalogue_version: str | None = None,
    related: bool = False,
) -> CaseRecord:
    """Build the record a node publishes: the date to its month, quantities to bands.

    The caller chooses ``case_id`` (``case.case_id`` or a new one) and ``revision``, and
    derives ``contributor`` and ``owner_tag`` from the node secret for ``cycle``, which
    must be the cycle of the detection month (``case.detected_month.cycle()``): a
    ``CspCycle`` is checked, a plain string is trusted. ``case.summary`` must already
    have passed screening. ``submitted_by`` is dropped.
    """
    month = case.detected_month
    if isinstance(cycle, CspCycle) and not cycle.contains(month):
        raise ValueError(f"cycle {cycle} does not contain the detection month {month}")
    return CaseRecord(
        case_id=str(UUID(str(case_id))),
        revision=revision,
        status=case.status,
        kind=case.kind,
        confidence=case.confidence,
        region=case.region,
        related_regions=list(case.related_regions),
        detected_month=str(month),
        items=[RecordItem(category=item.category, band=item.band) for item in case.items],
        transfer_stage=case.transfer_stage,
        methods=list(case.methods),
        transport_modes=list(case.transport_modes),
        end_user_type=case.end_user_type,
        risk_indicators=list(case.risk_indicators),
        detection_source=case.detection_source,
        actions_taken=list(case.actions_taken),
        tlp=case.tlp,
        summary=case.summary,
        cycle=str(cycle),
        contributor=contributor,
        owner_tag=owner_tag,
        related=related,
        catalogue_version=catalogue_version or load_catalogue().version,
    )

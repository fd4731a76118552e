"""The practitioner's case input (DESIGN §5 ⚑) as a pydantic model.

Required: ``confidence``, ``region``, ``detected``, ``items`` (at least one),
``transfer_stage``, ``detection_source``. Everything else has a default a practitioner
would expect: ``status=active``, ``kind=case``, ``end_user_type=unknown``,
``transfer_type=unknown``, ``tlp=amber`` (the DIEF is a closed forum: amber lets the
regional meeting read the lessons, nothing wider), every list empty, ``summary``,
``verification``, ``reassessment`` and item subcategories absent. ``case_id`` is required
only to withdraw. The Working Group's fields (``transfer_type``, ``maritime``,
``actor_roles``, ``verification``, ``reassessment``, ``items[].subcategory``) and their
rules are described in docs/case-model.md.

The "today" used to refuse future detection dates comes from the validation context
(``CaseInput.model_validate(data, context={"today": date(...)})``, or the ``today=``
argument of :func:`dief.wire.parse_case`); without it the system date is used.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from dief.catalogue import INDICATOR_ID_PATTERN, load_catalogue
from dief.periods import Month
from dief.vocab import (
    ActionTaken,
    CaseKind,
    CaseStatus,
    Confidence,
    DetectionSource,
    EndUserType,
    ItemCategory,
    ItemSubcategory,
    MaritimeFeature,
    Method,
    QuantityBand,
    Region,
    Tlp,
    TransferStage,
    TransferType,
    TransportMode,
)
from dief.wire._details import (
    MARITIME_NEEDS_SEA,
    MAX_ACTORS,
    SUBCATEGORY_FITS,
    ActorInput,
    ReassessmentInput,
    VerificationInput,
    check_maritime,
    check_subcategory,
)

__all__ = [
    "EARLIEST_DETECTED",
    "MAX_INDICATORS",
    "MAX_ITEMS",
    "MAX_REVISION",
    "SUMMARY_MAX_CHARS",
    "CaseInput",
    "ItemInput",
    "suggest",
]

SUMMARY_MAX_CHARS = 2000
#: The largest revision number: what every database's 32-bit integer column holds.
MAX_REVISION = 2**31 - 1
#: Bounds on the lists of a case (the schema bounds every list and string, DESIGN §3).
MAX_ITEMS = 50
MAX_INDICATORS = 100
EARLIEST_DETECTED = Month(2014, 12)
"""The month the ATT entered into force; earlier detections are refused (``bad_date``)."""

_DETECTED_RE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
_DETECTED_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?$"
_DATEISH_RE = re.compile(r"^[0-9-]{1,12}$")
_ID_LIKE_RE = re.compile(r"^[A-Za-z]{2,3}-?[0-9]{1,3}$")
_BANDS = ", ".join(b.value for b in QuantityBand if b is not QuantityBand.UNKNOWN)
_STATE_CODE_PATTERN = r"^[A-Z][A-Z0-9-]{1,15}$"

_T = TypeVar("_T")


def suggest(value: str, allowed: list[str]) -> str | None:
    """The allowed value *value* most likely meant (case-insensitive, close spelling)."""
    lowered = {a.lower(): a for a in allowed}
    if value.lower() in lowered:
        return lowered[value.lower()]
    close = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.75)
    return lowered[close[0]] if close else None


def _dedupe(values: list[_T]) -> list[_T]:
    return list(dict.fromkeys(values))


def _parse_quantity(value: object) -> int | QuantityBand:
    """An exact count ≥ 1, ``"unknown"``, or a band string such as ``"11-100"``."""
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        if value >= 1:
            return value
    elif isinstance(value, float):
        if value.is_integer() and value >= 1:
            return int(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.isdigit() and int(text) >= 1:
            return int(text)
        try:
            return QuantityBand(text)
        except ValueError:
            pass
    raise PydanticCustomError(
        "invalid_quantity",
        f"expected a whole number of at least 1, 'unknown', or a band ({_BANDS})",
    )


Quantity = Annotated[
    int | QuantityBand,
    PlainValidator(_parse_quantity),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "enum": [b.value for b in QuantityBand]},
                {"type": "string", "pattern": "^[1-9][0-9]*$"},
            ],
            "description": "Exact count (banded before sharing), 'unknown', or a band",
            "default": "unknown",
        }
    ),
]


def _check_indicator(value: object) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("wrong_type", "expected a catalogue id as text")
    value = value.strip()
    catalogue = load_catalogue()
    if value in catalogue:
        return value
    guess = suggest(value, list(catalogue.ids))
    shown = f"{value!r}" if _ID_LIKE_RE.match(value) else "the value"
    hint = f" (did you mean {guess!r}?)" if guess else ""
    raise PydanticCustomError(
        "unknown_indicator",
        f"{shown} is not an id in the risk-indicator catalogue (version "
        f"{catalogue.version}; ids look like DOC-01){hint}",
    )


IndicatorId = Annotated[
    str,
    PlainValidator(_check_indicator),
    WithJsonSchema({"type": "string", "pattern": INDICATOR_ID_PATTERN}),
]


def _today(info: ValidationInfo) -> date:
    context = info.context
    if isinstance(context, Mapping):
        today = context.get("today")
        if isinstance(today, date):
            return today.date() if isinstance(today, datetime) else today
    return date.today()  # noqa: DTZ011  the node's local calendar date, by design (the node's date refuses future detection dates)


def _bad_date(message: str) -> PydanticCustomError:
    return PydanticCustomError("bad_date", message)


class ItemInput(BaseModel):
    """One kind of item in the case: an ATT category, how many (``unknown`` if omitted) and,
    where the Working Group asks for it, a subcategory that fits the category."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, title="Item", json_schema_extra=SUBCATEGORY_FITS
    )

    category: ItemCategory = Field(description="ATT Art. 2(1), 3, 4 category")
    quantity: Quantity = QuantityBand.UNKNOWN
    subcategory: ItemSubcategory | None = Field(
        default=None,
        description="Converted or reactivated firearms, uncrewed systems; must fit the "
        "category (docs/case-model.md)",
    )

    @field_validator("subcategory")
    @classmethod
    def _fits(cls, value: ItemSubcategory | None, info: ValidationInfo) -> ItemSubcategory | None:
        return check_subcategory(value, info.data.get("category"))

    @property
    def band(self) -> QuantityBand:
        """The quantity band shared with the aggregator."""
        if isinstance(self.quantity, QuantityBand):
            return self.quantity
        return QuantityBand.of(self.quantity)


class CaseInput(BaseModel):
    """A diversion case as a practitioner submits it (DESIGN §5 ⚑).

    Unknown fields are refused. Multi-valued lists are de-duplicated keeping first-seen
    order. ``quantity`` may be an exact number (banded before anything leaves the node),
    ``"unknown"``, or already a band such as ``"11-100"`` when only an estimate exists.
    ``submitted_by`` is for batch input (``dief run``) only and never leaves the node.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        title="DIEF case input",
        json_schema_extra=MARITIME_NEEDS_SEA,
    )

    case_id: UUID | None = Field(
        default=None, description="Generated when absent; stable across revisions"
    )
    revision: int | None = Field(
        default=None, ge=1, le=MAX_REVISION, strict=True, description="Next revision when absent"
    )
    status: CaseStatus = Field(
        default=CaseStatus.ACTIVE, description="withdrawn removes the case from every aggregate"
    )
    kind: CaseKind = Field(
        default=CaseKind.CASE, description="alert = time-sensitive early warning"
    )
    confidence: Confidence
    region: Region = Field(
        description="Where the diversion happened or was detected, not the reporting State's"
    )
    related_regions: list[Region] = Field(
        default_factory=list,
        max_length=len(Region) - 1,
        description="Other regions on the route: told, not counted",
    )
    detected: str = Field(
        description="YYYY-MM or YYYY-MM-DD, generalised to the month",
        json_schema_extra={"pattern": _DETECTED_PATTERN},
    )
    items: list[ItemInput] = Field(min_length=1, max_length=MAX_ITEMS)
    transfer_stage: TransferStage
    transfer_type: TransferType = Field(
        default=TransferType.UNKNOWN, description="The kind of transfer the items were in"
    )
    methods: list[Method] = Field(default_factory=list, max_length=len(Method))
    transport_modes: list[TransportMode] = Field(
        default_factory=list, max_length=len(TransportMode)
    )
    maritime: list[MaritimeFeature] = Field(
        default_factory=list,
        max_length=len(MaritimeFeature),
        description="What happened on the sea leg (needs 'sea' in transport_modes); never a "
        "vessel, IMO number or port",
    )
    actor_roles: list[ActorInput] = Field(
        default_factory=list,
        max_length=MAX_ACTORS,
        description="Actors involved besides exporter and end user, and whether registered",
    )
    end_user_type: EndUserType = Field(
        default=EndUserType.UNKNOWN, description="Actual (not declared) end user"
    )
    risk_indicators: list[IndicatorId] = Field(
        default_factory=list, max_length=MAX_INDICATORS, description="Risk-indicator catalogue ids"
    )
    detection_source: DetectionSource
    actions_taken: list[ActionTaken] = Field(default_factory=list, max_length=len(ActionTaken))
    verification: VerificationInput | None = Field(
        default=None, description="End-use or post-shipment check and its outcome"
    )
    reassessment: ReassessmentInput | None = Field(
        default=None, description="Article 7(7) reassessment of a granted authorization"
    )
    tlp: Tlp = Field(default=Tlp.AMBER, description="TLP 2.0; red counts in its region only")
    summary: str | None = Field(
        default=None,
        max_length=SUMMARY_MAX_CHARS,
        description="Lessons learned; screened for attributing text before sealing",
    )
    submitted_by: str | None = Field(
        default=None,
        pattern=_STATE_CODE_PATTERN,
        description="Batch input only: State code of the simulated node; never leaves it",
    )

    @field_validator("detected", mode="before")
    @classmethod
    def _check_detected(cls, value: object, info: ValidationInfo) -> str:
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            day: date | None = value
            month = Month.of(value)
        elif isinstance(value, str):
            text = value.strip()
            match = _DETECTED_RE.match(text)
            if match is None:
                shown = f"{text!r} is not" if _DATEISH_RE.match(text) else "expected"
                raise _bad_date(f"{shown} a date as YYYY-MM or YYYY-MM-DD")
            year, mon, dom = match.groups()
            try:
                day = date(int(year), int(mon), int(dom)) if dom else None
                month = Month(int(year), int(mon))
            except ValueError:
                raise _bad_date(f"{text!r} is not a valid calendar date") from None
        else:
            raise _bad_date("expected a date as YYYY-MM or YYYY-MM-DD")
        today = _today(info)
        if (day is not None and day > today) or month > Month.of(today):
            raise _bad_date(f"{value!s} is in the future (today is {today.isoformat()})")
        if month < EARLIEST_DETECTED:
            raise _bad_date(
                f"{value!s} is before {EARLIEST_DETECTED}, when the Arms Trade Treaty "
                "entered into force"
            )
        return day.isoformat() if day is not None else str(month)

    @field_validator(
        "related_regions",
        "methods",
        "transport_modes",
        "maritime",
        "risk_indicators",
        "actions_taken",
        mode="before",
    )
    @classmethod
    def _scalar_to_list(cls, value: object) -> object:
        # A YAML author writing ``methods: theft_or_loss`` means a one-element list.
        return [value] if isinstance(value, str) else value

    @field_validator("related_regions")
    @classmethod
    def _check_related(cls, value: list[Region], info: ValidationInfo) -> list[Region]:
        value = _dedupe(value)
        region = info.data.get("region")
        if region is not None and region in value:
            raise PydanticCustomError(
                "invalid_value",
                f"must not contain the case's own region {region.value}; list only the "
                "other regions on the route",
            )
        return value

    @field_validator(
        "methods", "transport_modes", "risk_indicators", "actions_taken", "actor_roles"
    )
    @classmethod
    def _dedupe_lists(cls, value: list[Any]) -> list[Any]:
        return _dedupe(value)

    @field_validator("maritime")
    @classmethod
    def _needs_sea(
        cls, value: list[MaritimeFeature], info: ValidationInfo
    ) -> list[MaritimeFeature]:
        return check_maritime(_dedupe(value), info.data.get("transport_modes"))

    @field_validator("summary")
    @classmethod
    def _blank_summary(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _withdrawal_needs_id(self) -> CaseInput:
        if self.status is CaseStatus.WITHDRAWN and self.case_id is None:
            raise PydanticCustomError(
                "missing_case_id", "a withdrawal must name the case_id it withdraws"
            )
        return self

    @property
    def detected_month(self) -> Month:
        """The detection month (the only date precision that leaves the node)."""
        return Month.parse(self.detected[:7])

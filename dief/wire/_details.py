"""The Working Group's details of a case (issue #14; docs/case-model.md): the actors
involved, the end-use or post-shipment verification and the Article 7(7) reassessment, as
given (``*Input``) and as shared in the case record schema 3 (``Record*``), with the
cross-field rules both check.

The rules are enforced twice on purpose: the node refuses a case that breaks them, and the
aggregator re-validates every record (DESIGN §5 counting ⚑), so a node with a bug, or a
hostile one signing a record by hand, cannot count an outcome for a check that was never
made. The record's rules are single comparisons in field validators, run only where the
field is present: cheap at thousands of records a second.

Every field is a controlled vocabulary or a boolean: no free text, so no vessel name, IMO
number, port or company can travel in them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from dief.vocab import (
    ITEM_SUBCATEGORY_CATEGORIES,
    ActorRole,
    ItemCategory,
    ItemSubcategory,
    MaritimeFeature,
    ReassessmentOutcome,
    Registration,
    TransportMode,
    VerificationCheck,
    VerificationOutcome,
)

if TYPE_CHECKING:
    from collections.abc import Collection
    from enum import StrEnum

__all__ = [
    "CHECKS_WITH_OUTCOME",
    "MARITIME_NEEDS_SEA",
    "MAX_ACTORS",
    "SUBCATEGORY_FITS",
    "ActorInput",
    "ReassessmentInput",
    "RecordActor",
    "RecordReassessment",
    "RecordVerification",
    "VerificationInput",
    "check_maritime",
    "check_subcategory",
]

#: The most actor entries a case may list: every (role, registration) pair once.
MAX_ACTORS = len(ActorRole) * len(Registration)
#: The checks that can have found something (``none`` has no outcome).
CHECKS_WITH_OUTCOME = frozenset({VerificationCheck.DOCUMENTARY, VerificationCheck.ON_SITE})

_CHECKS_TEXT = " or ".join(sorted(c.value for c in CHECKS_WITH_OUTCOME))


def _values(members: Collection[StrEnum]) -> list[JsonValue]:
    """The sorted wire values of *members*, as a JSON Schema ``enum``."""
    return [m.value for m in sorted(members)]


# The same rules in the JSON Schemas (DESIGN §9: what the validator refuses, the schema
# refuses), as ``if``/``then`` conditions on the object that holds both fields.

MARITIME_NEEDS_SEA: dict[str, JsonValue] = {
    "allOf": [
        {
            "if": {"properties": {"maritime": {"minItems": 1}}, "required": ["maritime"]},
            "then": {
                "properties": {"transport_modes": {"contains": {"const": TransportMode.SEA.value}}},
                "required": ["transport_modes"],
            },
        }
    ]
}
"""Maritime details only with 'sea' among the transport modes (case input and record)."""

SUBCATEGORY_FITS: dict[str, JsonValue] = {
    "allOf": [
        {
            "if": {
                "properties": {"subcategory": {"const": sub.value}},
                "required": ["subcategory"],
            },
            "then": {"properties": {"category": {"enum": _values(categories)}}},
        }
        for sub, categories in ITEM_SUBCATEGORY_CATEGORIES.items()
    ]
}
"""An item's subcategory fits its category (input item and record item)."""


def _no_outcome_when(name: str, value: JsonValue) -> dict[str, JsonValue]:
    return {
        "allOf": [
            {
                "if": {"properties": {name: value}, "required": [name]},
                "then": {"properties": {"outcome": {"type": "null"}}},
            }
        ]
    }


_VERIFICATION_SCHEMA = _no_outcome_when("check", {"not": {"enum": _values(CHECKS_WITH_OUTCOME)}})
_REASSESSMENT_SCHEMA = _no_outcome_when("reassessed", {"const": False})


def _invalid(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid_value", message)


def check_maritime(
    maritime: list[MaritimeFeature], modes: Collection[TransportMode] | None
) -> list[MaritimeFeature]:
    """*maritime*, if the case has a sea leg (*modes* None: the transport modes were
    refused already, so nothing more is said)."""
    if maritime and modes is not None and TransportMode.SEA not in modes:
        raise _invalid(
            "maritime details describe a sea leg, and the case has none: add 'sea' to "
            "transport_modes"
        )
    return maritime


def check_subcategory(
    subcategory: ItemSubcategory | None, category: ItemCategory | None
) -> ItemSubcategory | None:
    """*subcategory*, if it qualifies an item of *category* (None: refused already)."""
    if subcategory is None or category is None:
        return subcategory
    allowed = ITEM_SUBCATEGORY_CATEGORIES[subcategory]
    if category not in allowed:
        raise _invalid(
            f"{subcategory.value} qualifies only items of category "
            f"{', '.join(sorted(c.value for c in allowed))}, not {category.value}"
        )
    return subcategory


def _check_verification(
    outcome: VerificationOutcome | None, info: ValidationInfo
) -> VerificationOutcome | None:
    check = info.data.get("check")
    if outcome is not None and check is not None and check not in CHECKS_WITH_OUTCOME:
        raise _invalid(
            f"an outcome is given only when the check is {_CHECKS_TEXT} (a check of "
            f"{check.value} found nothing)"
        )
    return outcome


def _check_reassessment(
    outcome: ReassessmentOutcome | None, info: ValidationInfo
) -> ReassessmentOutcome | None:
    if outcome is not None and info.data.get("reassessed") is False:
        raise _invalid(
            "an outcome is given only when reassessed is true (leave it out while a "
            "reassessment is pending)"
        )
    return outcome


_ROLE = "Role of an actor involved besides exporter and end user"
_REGISTERED = "Whether the actor was registered or licensed for its role, where known"
_CHECK = "End-use or post-shipment check carried out"
_VERIFICATION_OUTCOME = f"What the check found (only for {_CHECKS_TEXT}; absent: pending)"
_REASSESSED = "Whether the granted authorization was reassessed under ATT Article 7(7)"
_REASSESSMENT_OUTCOME = "The reassessment's outcome (only when reassessed; absent: pending)"


class ActorInput(BaseModel):
    """An actor involved: its role and whether it was registered (``unknown`` if omitted)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Actor")

    role: ActorRole = Field(description=_ROLE)
    registered: Registration = Field(default=Registration.UNKNOWN, description=_REGISTERED)


class VerificationInput(BaseModel):
    """The end-use or post-shipment check carried out, and its outcome when known."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, title="Verification", json_schema_extra=_VERIFICATION_SCHEMA
    )

    check: VerificationCheck = Field(description=_CHECK)
    outcome: VerificationOutcome | None = Field(default=None, description=_VERIFICATION_OUTCOME)

    _outcome = field_validator("outcome")(_check_verification)


class ReassessmentInput(BaseModel):
    """Whether a granted authorization was reassessed (ATT Art. 7(7)), and the outcome."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, title="Reassessment", json_schema_extra=_REASSESSMENT_SCHEMA
    )

    reassessed: bool = Field(strict=True, description=_REASSESSED)
    outcome: ReassessmentOutcome | None = Field(default=None, description=_REASSESSMENT_OUTCOME)

    _outcome = field_validator("outcome")(_check_reassessment)


class RecordActor(BaseModel):
    """An actor as shared: both fields always present."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Record actor")

    role: ActorRole = Field(description=_ROLE)
    registered: Registration = Field(description=_REGISTERED)


class RecordVerification(BaseModel):
    """A verification as shared: ``outcome`` always present (null while pending or for a
    check of ``none``)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Record verification",
        json_schema_extra=_VERIFICATION_SCHEMA,
    )

    check: VerificationCheck = Field(description=_CHECK)
    outcome: VerificationOutcome | None = Field(description=_VERIFICATION_OUTCOME)

    _outcome = field_validator("outcome")(_check_verification)


class RecordReassessment(BaseModel):
    """A reassessment as shared: ``outcome`` always present (null when not reassessed or
    pending)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Record reassessment",
        json_schema_extra=_REASSESSMENT_SCHEMA,
    )

    reassessed: bool = Field(strict=True, description=_REASSESSED)
    outcome: ReassessmentOutcome | None = Field(description=_REASSESSMENT_OUTCOME)

    _outcome = field_validator("outcome")(_check_reassessment)

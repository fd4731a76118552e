"""The generalised case sealed inside a ``dief.case`` envelope (payload schema 3).

A :class:`CaseRecord` is what the node publishes: no day, no exact quantity, no
``submitted_by``; a case id bound to its region and cycle and signed by its owner key; a
contributor pseudonym for (cycle, region) with the issuer's blind token (DESIGN §5 ⚑).
Schema 3 adds the Working Group's fields (docs/case-model.md), every one always present:
``transfer_type``, ``maritime``, ``actor_roles``, ``verification``, ``reassessment`` and
each item's ``subcategory`` (null when none). Schema 2 existed only inside the unreleased
round that introduced schema 3, so no reader accepts it (``unsupported_version``).

Aggregators validate many thousands per second, so this model keeps to types and patterns
pydantic-core checks natively, with small Python checks for the cross-field rules (related
regions; maritime needs a sea leg; an item's subcategory fits its category; outcomes only
where they mean something), each a comparison or two, run only where the field is there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, TypeVar
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from dief.catalogue import INDICATOR_ID_PATTERN, load_catalogue
from dief.periods import CspCycle, Month
from dief.seams import ContributorCredential
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
from dief.wire._case import (
    MAX_INDICATORS,
    MAX_ITEMS,
    MAX_REVISION,
    SUMMARY_MAX_CHARS,
    CaseInput,
)
from dief.wire._details import (
    MARITIME_NEEDS_SEA,
    MAX_ACTORS,
    SUBCATEGORY_FITS,
    RecordActor,
    RecordReassessment,
    RecordVerification,
    check_maritime,
    check_subcategory,
)
from dief.wire._errors import CaseValidationError, problems_from_pydantic
from dief.wire._ownership import b64url, owner_message, unb64url

if TYPE_CHECKING:
    from enum import StrEnum

__all__ = [
    "CASE_SCHEMA_VERSION",
    "MAX_TOKEN_BYTES",
    "CaseRecord",
    "RecordItem",
    "UnsignedRecord",
    "generalise",
]

CASE_SCHEMA_VERSION = 3

#: The longest contributor token a record may carry: the 32-byte RFC 9474 message prefix and
#: an RSA signature of up to 4,096 bits (issuer keys are 3,072 bits, 2,048 in simulations).
MAX_TOKEN_BYTES = 32 + 512

_UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
#: A version-8 UUID (RFC 9562), as the node derives case ids.
_CASE_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
_HEX32_PATTERN = r"^[0-9a-f]{32}$"
_MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
_CYCLE_PATTERN = r"^CSP[1-9][0-9]{0,3}$"
#: Canonical unpadded base64url of exactly 32 and 64 bytes (the unused low bits are zero).
_KEY32_PATTERN = r"^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$"
_SIG64_PATTERN = r"^[A-Za-z0-9_-]{85}[AQgw]$"
_B64URL_PATTERN = r"^[A-Za-z0-9_-]+$"
_CATALOGUE_VERSION_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,31}$"
#: No control characters but tab and line breaks: a lesson's JSON form is then at most four
#: bytes per character, which bounds the padded size of a record with a lesson.
_SUMMARY_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
#: The record's lists hold each value once (what the JSON Schema says of them).
_UNIQUE: dict[str, JsonValue] = {"uniqueItems": True}
_H = TypeVar("_H", bound=Hashable)


class RecordItem(BaseModel):
    """An item as shared: its category, quantity band and subcategory (null when none)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, title="Record item", json_schema_extra=SUBCATEGORY_FITS
    )

    category: ItemCategory
    band: QuantityBand
    subcategory: ItemSubcategory | None = Field(description="Must fit the category")

    @field_validator("subcategory")
    @classmethod
    def _fits(cls, value: ItemSubcategory | None, info: ValidationInfo) -> ItemSubcategory | None:
        return value if value is None else check_subcategory(value, info.data.get("category"))


class CaseRecord(BaseModel):
    """The generalised case as the node publishes it (sealed, type ``dief.case``, schema 3).

    ``case_id`` derives from ``owner_key``, ``region`` and ``cycle``; ``owner_sig`` signs
    the record (with ``envelope_id``, the id of the envelope it travels in); ``contributor``
    is the node's pseudonym for (``cycle``, ``region``) and ``contributor_token`` the
    issuer's blind signature over it (see :mod:`dief.wire._ownership`). The case goes to
    its own region only; ``related_regions`` are told through route tables.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="DIEF case record v3",
        json_schema_extra=MARITIME_NEEDS_SEA,
    )

    case_id: str = Field(
        pattern=_CASE_ID_PATTERN,
        description="Version-8 UUID derived from owner_key, region and cycle",
    )
    revision: int = Field(ge=1, le=MAX_REVISION, strict=True)
    status: CaseStatus
    kind: CaseKind
    confidence: Confidence
    region: Region = Field(description="The region that counts the case (its topic's)")
    related_regions: list[Region] = Field(max_length=len(Region) - 1, json_schema_extra=_UNIQUE)
    detected_month: str = Field(pattern=_MONTH_PATTERN, description="YYYY-MM")
    items: list[RecordItem] = Field(min_length=1, max_length=MAX_ITEMS)
    transfer_stage: TransferStage
    transfer_type: TransferType
    methods: list[Method] = Field(max_length=len(Method), json_schema_extra=_UNIQUE)
    transport_modes: list[TransportMode] = Field(
        max_length=len(TransportMode), json_schema_extra=_UNIQUE
    )
    maritime: list[MaritimeFeature] = Field(
        max_length=len(MaritimeFeature),
        description="Only with 'sea' in transport_modes",
        json_schema_extra=_UNIQUE,
    )
    actor_roles: list[RecordActor] = Field(max_length=MAX_ACTORS, json_schema_extra=_UNIQUE)
    end_user_type: EndUserType
    risk_indicators: list[Annotated[str, StringConstraints(pattern=INDICATOR_ID_PATTERN)]] = Field(
        max_length=MAX_INDICATORS, json_schema_extra=_UNIQUE
    )
    detection_source: DetectionSource
    actions_taken: list[ActionTaken] = Field(max_length=len(ActionTaken), json_schema_extra=_UNIQUE)
    verification: RecordVerification | None
    reassessment: RecordReassessment | None
    tlp: Tlp
    summary: str | None = Field(
        default=None,
        max_length=SUMMARY_MAX_CHARS,
        pattern=_SUMMARY_PATTERN,
        description="Already screened; no control characters but tab and line breaks",
    )
    cycle: str = Field(pattern=_CYCLE_PATTERN, description="CSP cycle of detected_month")
    contributor: str = Field(
        pattern=_HEX32_PATTERN, description="The node's pseudonym for (cycle, region)"
    )
    contributor_token: str = Field(
        pattern=_B64URL_PATTERN,
        max_length=(MAX_TOKEN_BYTES * 4 + 2) // 3,
        description="base64url of the RFC 9474 token (message prefix and signature) over "
        "the contributor, by the issuer key of (cycle, region)",
    )
    catalogue_version: str = Field(pattern=_CATALOGUE_VERSION_PATTERN)
    envelope_id: str = Field(
        pattern=_UUID_PATTERN, description="The id of the envelope this record is sealed in"
    )
    owner_key: str = Field(
        pattern=_KEY32_PATTERN, description="base64url of the raw Ed25519 owner public key"
    )
    owner_sig: str = Field(
        pattern=_SIG64_PATTERN,
        description="base64url Ed25519 signature over b'dief/v2/owner\\x00' and the JCS "
        "canonical JSON of the record without owner_sig",
    )

    @field_validator(
        "related_regions",
        "methods",
        "transport_modes",
        "maritime",
        "actor_roles",
        "risk_indicators",
        "actions_taken",
    )
    @classmethod
    def _distinct(cls, value: list[_H]) -> list[_H]:
        # A node lists each value once (its input is de-duplicated); the padded sizes are
        # computed for records that do.
        if len(set(value)) != len(value):
            raise PydanticCustomError("invalid_value", "lists a value more than once")
        return value

    @field_validator("related_regions")
    @classmethod
    def _not_own_region(cls, value: list[Region], info: ValidationInfo) -> list[Region]:
        if info.data.get("region") in value:
            raise PydanticCustomError("invalid_value", "must not contain the record's region")
        return value

    @field_validator("maritime")
    @classmethod
    def _needs_sea(
        cls, value: list[MaritimeFeature], info: ValidationInfo
    ) -> list[MaritimeFeature]:
        return check_maritime(value, info.data.get("transport_modes")) if value else value

    @property
    def month(self) -> Month:
        return Month.parse(self.detected_month)

    @property
    def credential(self) -> ContributorCredential:
        """The record's contributor and token, as the aggregator's credential check takes
        them."""
        return ContributorCredential(
            self.cycle, str(self.region), self.contributor, unb64url(self.contributor_token)
        )

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON, the plaintext that gets sealed (before padding)."""
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> CaseRecord:
        """Parse and validate; :class:`CaseValidationError` with code ``invalid_record``."""
        try:
            return cls.model_validate_json(data)
        except PydanticValidationError as exc:
            problems = problems_from_pydantic(exc, CaseRecord)
        summary = "; ".join(p.message for p in problems[:5])
        raise CaseValidationError(
            f"invalid case record: {summary}", code="invalid_record", errors=problems
        )


@dataclass(frozen=True, slots=True)
class UnsignedRecord:
    """A generalised case before its credential, envelope id and owner signature: what a
    node holds while it waits for the contributor token of (``cycle``, ``region``)."""

    fields: Mapping[str, object] = field(repr=False)
    """The record's JSON fields but ``contributor``, ``contributor_token``,
    ``envelope_id`` and ``owner_sig``."""

    @property
    def case_id(self) -> str:
        return str(self.fields["case_id"])

    @property
    def region(self) -> str:
        return str(self.fields["region"])

    @property
    def cycle(self) -> str:
        return str(self.fields["cycle"])

    @property
    def revision(self) -> int:
        return int(str(self.fields["revision"]))

    @property
    def urgent(self) -> bool:
        """An alert (the relay sends it without a random delay)."""
        return self.fields["kind"] == str(CaseKind.ALERT)

    def to_json(self) -> bytes:
        """The fields as compact JSON (what a held case is stored as)."""
        return json.dumps(dict(self.fields), separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: bytes) -> UnsignedRecord:
        return cls(json.loads(data))

    def sign(
        self,
        credential: ContributorCredential,
        envelope_id: str,
        sign: Callable[[bytes], bytes],
    ) -> CaseRecord:
        """The record, with *credential* (of this record's cycle and region), *envelope_id*
        and the owner signature made by *sign* (the owner private key's). Raises
        :class:`CaseValidationError` (``invalid_record``) if the result is not a valid
        record."""
        if (credential.cycle, credential.region) != (self.cycle, self.region):
            raise ValueError("the credential is not for the record's cycle and region")
        body = {
            **self.fields,
            "contributor": credential.contributor,
            "contributor_token": b64url(credential.token),
            "envelope_id": envelope_id,
        }
        body["owner_sig"] = b64url(sign(owner_message(body)))
        try:
            return CaseRecord.model_validate(body)
        except PydanticValidationError as exc:
            problems = problems_from_pydantic(exc, CaseRecord)
        summary = "; ".join(p.message for p in problems[:5])
        raise CaseValidationError(
            f"invalid case record: {summary}", code="invalid_record", errors=problems
        )


def generalise(  # noqa: PLR0913  a public keyword signature, used outside dief/wire
    case: CaseInput,
    *,
    case_id: UUID | str,
    revision: int,
    owner_key: bytes,
    cycle: CspCycle | str,
    catalogue_version: str | None = None,
) -> UnsignedRecord:
    """Build the record a node publishes, before its credential and signature: the date to
    its month, quantities to bands.

    The caller derives *owner_key* (raw Ed25519 public key) and *case_id* from the node
    secret and the case index, for *cycle*, which must be the cycle of the detection month
    (``case.detected_month.cycle()``): a ``CspCycle`` is checked, a plain string is
    trusted. ``case.summary`` must already have passed screening. ``submitted_by`` and the
    practitioner's own ``case_id`` are dropped.
    """
    month = case.detected_month
    if isinstance(cycle, CspCycle) and not cycle.contains(month):
        raise ValueError(f"cycle {cycle} does not contain the detection month {month}")
    return UnsignedRecord(
        {
            "case_id": str(UUID(str(case_id))),
            "revision": revision,
            "status": str(case.status),
            "kind": str(case.kind),
            "confidence": str(case.confidence),
            "region": str(case.region),
            "related_regions": [str(r) for r in case.related_regions],
            "detected_month": str(month),
            "items": [
                {
                    "category": str(item.category),
                    "band": str(item.band),
                    "subcategory": _str_or_none(item.subcategory),
                }
                for item in case.items
            ],
            "transfer_stage": str(case.transfer_stage),
            "transfer_type": str(case.transfer_type),
            "methods": [str(m) for m in case.methods],
            "transport_modes": [str(m) for m in case.transport_modes],
            "maritime": [str(m) for m in case.maritime],
            "actor_roles": [
                {"role": str(a.role), "registered": str(a.registered)} for a in case.actor_roles
            ],
            "end_user_type": str(case.end_user_type),
            "risk_indicators": list(case.risk_indicators),
            "detection_source": str(case.detection_source),
            "actions_taken": [str(a) for a in case.actions_taken],
            "verification": _verification(case),
            "reassessment": _reassessment(case),
            "tlp": str(case.tlp),
            "summary": case.summary,
            "cycle": str(cycle),
            "catalogue_version": catalogue_version or load_catalogue().version,
            "owner_key": b64url(owner_key),
        }
    )


def _str_or_none(value: StrEnum | None) -> str | None:
    return None if value is None else str(value)


def _verification(case: CaseInput) -> dict[str, str | None] | None:
    given = case.verification
    if given is None:
        return None
    return {"check": str(given.check), "outcome": _str_or_none(given.outcome)}


def _reassessment(case: CaseInput) -> dict[str, bool | str | None] | None:
    given = case.reassessment
    if given is None:
        return None
    return {"reassessed": given.reassessed, "outcome": _str_or_none(given.outcome)}

"""The sealed digest payload (envelope type ``dief.digest``, schema 1) and its signature.

The payload is what a regional aggregator seals to the Secretariat on ``dief.digests``::

    {"region": "AFR", "period": "CSP12", "version": 2, "issued_at": "2026-09-01T10:00:00Z",
     "digest": {<the meeting digest, DESIGN §7 shape, k = k_meeting>},
     "csp_cells": [{"period", "dimension", "value", "cycle", "count", "contributors"}, ...],
     "signature": {"alg": "MLDSA65+Ed25519", "kid": ..., "mldsa65": ..., "ed25519": ...}}

``csp_cells`` are the period's cells without TLP:RED cases and **without suppression**, one
row per (dimension, value, contributor cycle), exactly as :meth:`CaseStore.cell_rows`
answers: the Secretariat applies ``k_csp`` and secondary suppression itself, across all
regions. They never leave the envelope sealed to the Secretariat.

``summary_row`` (a CSP cycle's digest only) is what the region's joint pattern requires of
its row of the cycle's summary (DESIGN §7, "one system"; :class:`SummaryRow`): the cells
the Secretariat must suppress, and the relations between them the region's meeting knows,
which the Secretariat checks its own suppressions against; and which of its row cells the
region's route tables of the cycle published to which region (``routed``, as its store
recorded them: :func:`~dief.routes.routed_row_cells`), which the Secretariat takes as
known to that region's meeting.

The signature is the region signing key's (ML-DSA-65 and Ed25519, context
:data:`CONTEXT_DIGEST`) over the RFC 8785 (JCS) canonical JSON of the payload object without
its ``signature`` member (DESIGN §7 ⚑: numbers as JCS writes them, ``1.0`` is ``1``, so a
verifier in any language reproduces the bytes). A receiver verifies over the JSON it
received (parsed strictly, a repeated key refused; ``signature`` removed; JCS), not over its
own model of it, so fields it does not know cannot slip past the signature.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Annotated

import pydantic
import rfc8785
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from dief.aggregator.store import CaseStore, CellRow
from dief.crypto import CONTEXT_DIGEST, Signature, SigningKey, VerifyKey, canonical_json, verify
from dief.digests._region import RegionDigests
from dief.disclosure import RowRequirement
from dief.exceptions import ConfigurationError, SignatureError, ValidationError
from dief.periods import DEFAULT_CYCLE_START_MONTH, parse_period
from dief.routes import routed_row_cells
from dief.vocab import Region
from dief.wire import Digest, Lesson, loads_strict, unsigned_document

if TYPE_CHECKING:
    from dief.catalogue import Catalogue
    from dief.digests._lessons import CaseLesson

__all__ = [
    "DIGEST_SCHEMA",
    "CspCell",
    "DigestPayload",
    "KeysFor",
    "RoutedCell",
    "RowCell",
    "RowTerm",
    "SummaryRow",
    "build_payload",
    "content_hash",
    "parse_payload",
    "payload_bytes",
    "sign_payload",
    "signing_bytes",
]

#: Payload schema version of envelope type ``dief.digest``.
DIGEST_SCHEMA = 1

_PERIOD = r"^([0-9]{4}-(0[1-9]|1[0-2])|[0-9]{4}-Q[1-4]|CSP[1-9][0-9]{0,3}(-H[12])?)$"
_CYCLE = r"^CSP[1-9][0-9]{0,3}$"
_NAME = r"^[a-z_]{1,32}$"

#: The verify keys trusted for a region's digests (e.g. ``keyring.verify_keys`` bound).
KeysFor = Callable[[Region], Iterable[VerifyKey]]

#: The greatest count or version a digest may state: what the Secretariat's integer columns
#: hold (a larger one verified and then failed the whole batch in its database).
MAX_COUNT = 2**31 - 1
Count = Annotated[int, Field(ge=1, le=MAX_COUNT)]
#: A dimension value: no control character (PostgreSQL's text refuses NUL outright)
_VALUE = r"^[^\x00-\x1f\x7f]{1,64}$"
#: A ``data_version`` token (``notes``, an extra key the Secretariat keeps in a 64-character
#: column): printable ASCII
_TOKEN = re.compile(r"[!-~]{1,64}")


class CspCell(BaseModel):
    """One stored cell of the digest's period for one contributor cycle (TLP:RED excluded)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="CSP-scope cell row")

    period: str = Field(pattern=_PERIOD)
    dimension: str = Field(pattern=_NAME, description="A dimension, or _total")
    value: str = Field(pattern=_VALUE)
    cycle: str = Field(pattern=_CYCLE, description="Contributor-pseudonym cycle")
    count: Count
    contributors: Count

    @model_validator(mode="after")
    def _consistent(self) -> CspCell:
        if self.contributors > self.count:
            raise ValueError("contributors cannot exceed count")
        return self

    @classmethod
    def of(cls, row: CellRow) -> CspCell:
        return cls(
            period=row.period,
            dimension=row.dimension,
            value=row.value,
            cycle=row.cycle,
            count=row.count,
            contributors=row.contributors,
        )

    def row(self) -> CellRow:
        return CellRow(
            self.period, self.dimension, self.value, self.cycle, self.count, self.contributors
        )


class RowCell(BaseModel):
    """A cell of the region's row of a CSP summary (``_total``/``_all`` is its total)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Summary row cell")

    dimension: str = Field(pattern=_NAME, description="A dimension, or _total")
    value: str = Field(pattern=_VALUE)


class RowTerm(RowCell):
    """A cell of a relation, with its integer coefficient."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Summary row relation term")

    coefficient: int = Field(description="Non-zero integer coefficient")

    @field_validator("coefficient")
    @classmethod
    def _nonzero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("a coefficient is non-zero")
        return value


class RowBound(RowCell):
    """A row cell the summary must hide, with the bounds the region's documents give its
    meeting of it (docs/digests.md, "What a meeting knows of its row": not sent yet)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Summary row cell bounds")

    least: int = Field(ge=1, description="The least count the region's meeting can read")
    most: int | None = Field(
        ge=0, description="The greatest count the region's meeting can read; null: none"
    )


class RoutedCell(RowCell):
    """A row cell that a route table of the cycle to *region* publishes (it bounds the row
    cell from below for that region's meeting)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Summary row routed cell")

    region: Region = Field(description="The receiving region of the route table")


class SummaryRow(BaseModel):
    """What the region's joint pattern requires of its row of the cycle's CSP summary
    (DESIGN §7, "who computes the joint pattern"): the cells the summary must suppress,
    those of them the region's meeting can compute anyway, and the linear relations
    between the others that the region's documents give its meeting; and which row cells
    its route tables of the cycle publish to which region (``routed``: left out when none,
    as older payloads have it); and the row cells its meeting would compute if the summary
    hid them (``pinned``: left out when none); and the bounds its documents give its
    meeting of the hidden cells, where tighter than "at least 1" (``bounds``: left out
    when none)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Summary row requirement")

    suppressed: list[RowCell] = Field(default_factory=list)
    known: list[RowCell] = Field(default_factory=list)
    relations: list[list[RowTerm]] = Field(default_factory=list)
    routed: list[RoutedCell] = Field(
        default_factory=list,
        exclude_if=lambda value: not value,
        description="Row cells a route table of the cycle publishes, with the receiving "
        "region (whose meeting the Secretariat takes to know them); no counts",
    )
    pinned: list[RowCell] = Field(
        default_factory=list,
        exclude_if=lambda value: not value,
        description="Row cells the summary may publish that the region's meeting would "
        "compute if the summary hid them (its cycle digest publishes them at k_csp): the "
        "Secretariat hides them only where no other cell is left; no counts",
    )

    bounds: list[RowBound] = Field(
        default_factory=list,
        exclude_if=lambda value: not value,
        description="Suppressed row cells with the least and greatest count the region's "
        "meeting can read off its own documents: the Secretariat checks its sums across "
        "regions against them",
    )

    @classmethod
    def of(cls, need: RowRequirement) -> SummaryRow:
        def cells(keys: Iterable[tuple[str, str]]) -> list[RowCell]:
            return [RowCell(dimension=d, value=v) for d, v in sorted(keys)]

        return cls(
            suppressed=cells(need.hidden),
            known=cells(need.known),
            relations=[
                [RowTerm(dimension=d, value=v, coefficient=c) for (d, v), c in relation]
                for relation in need.relations
            ],
            routed=[
                RoutedCell(region=Region(r), dimension=d, value=v)
                for r, (d, v) in sorted(need.routed)
            ],
            pinned=cells(need.pinned),
            bounds=[
                RowBound(dimension=d, value=v, least=least, most=most)
                for (d, v), least, most in sorted(need.bounds, key=itemgetter(0))
            ],
        )

    def requirement(self, cycle: str) -> RowRequirement:
        return RowRequirement(
            cycle,
            frozenset((c.dimension, c.value) for c in self.suppressed),
            frozenset((c.dimension, c.value) for c in self.known),
            tuple(
                tuple(((t.dimension, t.value), t.coefficient) for t in relation)
                for relation in self.relations
            ),
            frozenset((c.region.value, (c.dimension, c.value)) for c in self.routed),
            frozenset((c.dimension, c.value) for c in self.pinned),
            tuple(
                sorted(
                    (((b.dimension, b.value), b.least, b.most) for b in self.bounds),
                    key=itemgetter(0),
                )
            ),
        )


class DigestPayload(BaseModel):
    """The plaintext of a ``dief.digest`` envelope (schema 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="DIEF sealed digest payload")

    region: Region
    period: str = Field(pattern=_PERIOD)
    version: int = Field(ge=1, le=MAX_COUNT, description="1, then one more for every re-issue")
    issued_at: AwareDatetime = Field(description="When issued, to the hour (UTC)")
    digest: Digest = Field(description="The meeting digest (k = k_meeting; TLP:RED counted)")
    csp_cells: list[CspCell] = Field(
        description="The period's cells without TLP:RED, unsuppressed, per contributor cycle"
    )
    summary_row: SummaryRow | None = Field(
        default=None,
        description="A CSP cycle's digest: what the region's joint pattern requires of its "
        "row of the cycle's summary (the Secretariat suppresses at least these cells); "
        "null for months and quarters",
    )
    signature: Signature | None = None

    @field_validator("issued_at")
    @classmethod
    def _coarse(cls, value: datetime) -> datetime:
        try:
            value = value.astimezone(UTC)
        except OverflowError:  # year 1 or 9999 with an offset: pydantic passes it on unwrapped
            raise ValueError("issued_at is out of range") from None
        if (value.minute, value.second, value.microsecond) != (0, 0, 0):
            raise ValueError("issued_at is coarsened to the hour")
        return value

    @field_validator("digest")
    @classmethod
    def _data_version(cls, value: Digest) -> Digest:
        token = (value.notes.model_extra or {}).get("data_version")
        if token is not None and not (isinstance(token, str) and _TOKEN.fullmatch(token)):
            # the type names the field (the refusal lists locations and types only)
            raise PydanticCustomError(
                "invalid_notes_data_version", "data_version is 1 to 64 printable characters"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DigestPayload:
        if self.digest.region != self.region or self.digest.period != self.period:
            raise ValueError("the digest is not of the payload's region and period")
        if any(cell.period != self.period for cell in self.csp_cells):
            raise ValueError("a csp_cells row is not of the payload's period")
        keys = {(c.dimension, c.value, c.cycle) for c in self.csp_cells}
        if len(keys) != len(self.csp_cells):
            raise ValueError("csp_cells repeats a (dimension, value, cycle)")
        return self

    def rows(self) -> list[CellRow]:
        return [cell.row() for cell in self.csp_cells]


def _jcs(value: object) -> bytes:
    """RFC 8785 canonical JSON; :class:`SignatureError` when *value* has none."""
    try:
        return rfc8785.dumps(value)  # type: ignore[arg-type]  # parsed JSON; checked by dumps
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise SignatureError("the digest payload has no canonical JSON form") from exc


def signing_bytes(payload: DigestPayload) -> bytes:
    """JCS of *payload* without ``signature``: what the region key signs."""
    return _jcs(unsigned_document(payload))


def payload_bytes(payload: DigestPayload) -> bytes:
    """The wire form (JCS, with ``signature``): the bytes that get sealed."""
    data = unsigned_document(payload)
    if payload.signature is not None:
        data["signature"] = payload.signature.model_dump()
    return _jcs(data)


def content_hash(payload: DigestPayload) -> str:
    """SHA-256 (hex) of the digest, cells and summary-row requirement only: equal for an
    unchanged re-issue."""
    data = unsigned_document(payload)
    content = {"digest": data["digest"], "csp_cells": data["csp_cells"]}
    if data.get("summary_row") is not None:
        content["summary_row"] = data["summary_row"]
    return hashlib.sha256(canonical_json(content)).hexdigest()


def sign_payload(payload: DigestPayload, key: SigningKey) -> DigestPayload:
    """*payload* with its ``signature`` (any previous one replaced)."""
    unsigned = payload.model_copy(update={"signature": None})
    signature = key.sign(signing_bytes(unsigned), context=CONTEXT_DIGEST)
    return payload.model_copy(update={"signature": signature})


def _problems(exc: pydantic.ValidationError) -> str:
    # Locations and error types only, never the input.
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['type']}"
        for err in exc.errors(include_input=False, include_url=False)
    ]
    return "; ".join(parts[:10])


def parse_payload(data: bytes, keys_for: KeysFor) -> DigestPayload:
    """Parse and verify an opened digest payload.

    The signature is checked first, over the JSON as received, with the keys of the region
    the payload names; only a verified document is validated into the model.

    :raises ValidationError: code ``invalid_payload`` — not a JSON object naming a region,
        or not the shape.
    :raises SignatureError: code ``unsigned`` or ``bad_signature`` — not signed by one of
        ``keys_for(region)``.
    """
    try:
        document = loads_strict(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValidationError("digest payload is not JSON", code="invalid_payload") from exc
    if not isinstance(document, dict):
        raise ValidationError("digest payload is not a JSON object", code="invalid_payload")
    try:
        region = Region(str(document.get("region")))
    except ValueError:
        raise ValidationError(
            "digest payload names no known region", code="invalid_payload"
        ) from None
    where = f"digest of {region} {str(document.get('period'))[:8]!r}"
    raw_signature = document.pop("signature", None)
    if raw_signature is None:
        raise SignatureError(f"{where} is unsigned", code="unsigned")
    if not isinstance(raw_signature, dict):
        raise SignatureError(f"{where}: malformed signature object")
    signature = Signature.from_mapping(raw_signature)
    try:
        verify(list(keys_for(region)), _jcs(document), signature, context=CONTEXT_DIGEST)
    except SignatureError as exc:
        raise SignatureError(
            f"{where}: {exc.message} (trusted: the {region} region signing keys)"
        ) from exc
    try:
        return DigestPayload.model_validate({**document, "signature": signature})
    except pydantic.ValidationError as exc:
        raise ValidationError(
            f"{where} does not have the dief.digest schema 1 shape: {_problems(exc)}",
            code="invalid_payload",
        ) from exc


async def build_payload(  # noqa: PLR0913  public keyword signature, used by _publish and the Secretariat's tests
    store: CaseStore,
    region: Region | str,
    period: str,
    *,
    version: int,
    issued_at: datetime,
    catalogue: Catalogue,
    k_meeting: int = 2,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
    lessons: Sequence[Lesson | CaseLesson] | None = (),
    source: RegionDigests | None = None,
) -> DigestPayload:
    """The unsigned payload of *region*'s digest for *period* from the aggregator's store.

    *source* is the region's cells and suppression pattern, read once for several digests
    (:meth:`RegionDigests.load` with the same ``k_meeting`` and ``start_month``, covering
    *period*); read here when not given, keeping what the region's published issues
    suppressed (nothing is recorded: :func:`publish_digests` records what it sends).
    """
    code = Region(region)
    canonical = str(parse_period(period, start_month=start_month))
    if source is None:
        source = await RegionDigests.load(
            store,
            code,
            k=k_meeting,
            start_month=start_month,
            periods=[canonical],
            earlier=await store.published_suppressions(code.value),
        )
    elif (source.region, source.k, source.start_month) != (code, k_meeting, start_month):
        raise ConfigurationError("the region's cells were read for another region or settings")
    digest = source.digest(canonical, catalogue=catalogue, lessons=lessons)
    rows = await store.cell_rows(code.value, [canonical], include_red=False)
    cells = sorted(
        (CspCell.of(row) for row in rows if row.count > 0),
        key=lambda c: (c.dimension, c.value, c.cycle),
    )
    need = source.pattern.rows.get(canonical)
    if need is not None:  # a cycle: which row cells its route tables published, and where
        need = replace(need, routed=await routed_row_cells(store, code.value, canonical))
    return DigestPayload(
        region=code,
        period=canonical,
        version=version,
        issued_at=issued_at,
        digest=digest,
        csp_cells=cells,
        summary_row=SummaryRow.of(need) if need is not None else None,
    )

"""A route table as published: built from protected cells, signed by the sending region.

The sealed payload (envelope type ``dief.route-table``, schema 1) is a :class:`RoutePayload`:
the :class:`~dief.wire.RouteTable` plus ``signature``, the sending region signing key's
(ML-DSA-65 and Ed25519, context :data:`CONTEXT_ROUTE_TABLE`) over the RFC 8785 canonical JSON
of the payload without ``signature`` (DESIGN §7 signatures). A receiver verifies over the
JSON it received, before validating it into the model, so fields it does not know cannot
slip past the signature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import pydantic

from dief.aggregator import TOTAL
from dief.crypto import Signature, SigningKey, VerifyKey, canonical_json, verify
from dief.exceptions import SignatureError, ValidationError
from dief.vocab import Dimension, Region
from dief.wire import ROUTE_DIMENSIONS, Cell, RouteTable, Totals, loads_strict, unsigned_document

if TYPE_CHECKING:
    from datetime import datetime

    from dief.disclosure import PeriodCells
    from dief.routes._tables import RouteProtection

__all__ = [
    "CONTEXT_ROUTE_TABLE",
    "RoutePayload",
    "VerifyKeysFor",
    "build_route_table",
    "parse_route_payload",
    "route_payload_bytes",
    "sign_route_table",
]

#: Signature context of route tables (``b"dief/v1/signature/dief.route-table\\x00" + JCS``).
CONTEXT_ROUTE_TABLE = "dief.route-table"

#: The verify keys trusted for a sending region's route tables.
VerifyKeysFor = Callable[[Region], Iterable[VerifyKey]]


class RoutePayload(RouteTable):
    """The plaintext of a ``dief.route-table`` envelope (schema 1): the table, signed."""

    model_config = pydantic.ConfigDict(
        extra="forbid", frozen=True, title="DIEF sealed route-table payload"
    )

    signature: Signature | None = None

    def table(self) -> RouteTable:
        """The table as the receiving region shows it (without the signature)."""
        return RouteTable.model_validate(unsigned_document(self))


def _notes(protection: RouteProtection, k: int) -> list[str]:
    if protection.withheld:
        return [
            (
                "Withheld: no count of this table can be published without letting a reader "
                "bound a cell the sending region suppresses in its own documents."
            ),
        ]
    listed = {cell for cell in protection.hidden if protection.lists(cell)}
    secondary = len((protection.secondary & listed) - {TOTAL})
    if protection.few:
        left_out = [
            (
                f"Fewer than {k} distinct contributors: no value of any dimension is listed "
                "(a listed value, even suppressed, would tell what their cases report)."
            )
        ]
    else:
        left_out = (
            [
                (
                    f"Not shown: {', '.join(sorted(protection.omitted))}. Listing it would either "
                    "have hidden the table's total or told more about a cell the sending region "
                    "suppresses than its own documents do."
                )
            ]
            if protection.omitted
            else []
        )
    return [
        (
            f"Cases of the sending region in this CSP cycle whose route passes through the "
            f"receiving region (latest revisions, active, not TLP:RED). Cells with fewer than "
            f"{k} distinct contributors are suppressed, and so is every cell the sending "
            "region suppresses in its own digest or CSP summary row, and further cells so "
            "that none of them can be recovered or bounded from this table."
        ),
        (
            f"{len(listed - {TOTAL})} cells are suppressed ({secondary} to protect "
            "others). Contributors are never listed; the counts are the sending region's, as "
            "given."
        ),
        *left_out,
    ]


def build_route_table(  # noqa: PLR0913  public keyword signature (dief.routes API, used by the aggregator and tests)
    sender: Region,
    receiver: Region,
    period: str,
    cells: PeriodCells,
    protection: RouteProtection,
    *,
    k: int,
    issued_at: datetime,
    data_version: str | None = None,
) -> RouteTable:
    """The unsigned table of *cells* (:func:`~dief.routes.route_cells`) under *protection*
    (:func:`~dief.routes.protect_route`), stating *data_version* (the sender's token of the
    cycle, ``CaseStore.data_versions``) where given."""
    notes = _notes(protection, k)
    if protection.withheld:
        return RouteTable(
            from_region=sender,
            to_region=receiver,
            period=period,
            k=k,
            issued_at=issued_at,
            withheld=True,
            data_version=data_version,
            totals=Totals(cases=None, contributors=None, withheld=True),
            dimensions={},
            notes=notes,
        )
    dimensions: dict[Dimension, list[Cell]] = {}
    for dimension in ROUTE_DIMENSIONS:
        if dimension.value in protection.omitted:
            continue
        listed = sorted(
            (cell, tally) for cell, tally in cells.items() if cell[0] == dimension.value
        )
        shown = [
            Cell(value=c[1], count=None, contributors=None, suppressed=True)
            if c in protection.hidden
            else Cell(value=c[1], count=t.count, contributors=t.contributors)
            for c, t in listed
        ]
        published = sorted((c for c in shown if not c.suppressed), key=lambda c: -(c.count or 0))
        dimensions[dimension] = [*published, *(c for c in shown if c.suppressed)]
    total = cells.get(TOTAL)
    suppressed = sum(c.suppressed for cs in dimensions.values() for c in cs)
    if total is None or TOTAL in protection.hidden:
        totals = Totals(cases=None, contributors=None, suppressed=suppressed, withheld=True)
    else:
        totals = Totals(cases=total.count, contributors=total.contributors, suppressed=suppressed)
    return RouteTable(
        from_region=sender,
        to_region=receiver,
        period=period,
        k=k,
        issued_at=issued_at,
        data_version=data_version,
        totals=totals,
        dimensions=dimensions,
        notes=notes,
    )


def sign_route_table(table: RouteTable, key: SigningKey) -> RoutePayload:
    """*table* signed with the sending region's *key*."""
    document = unsigned_document(table)
    signature = key.sign(canonical_json(document), context=CONTEXT_ROUTE_TABLE)
    return RoutePayload.model_validate({**document, "signature": signature})


def route_payload_bytes(payload: RoutePayload) -> bytes:
    """The wire form (canonical JSON, with ``signature``): the bytes that get sealed."""
    data = unsigned_document(payload)
    if payload.signature is not None:
        data["signature"] = payload.signature.model_dump()
    return canonical_json(data)


def _problems(exc: pydantic.ValidationError) -> str:
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['type']}"
        for err in exc.errors(include_input=False, include_url=False)
    ]
    return "; ".join(parts[:10])


def _document(data: bytes) -> dict[str, object]:
    try:
        document = loads_strict(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValidationError("route-table payload is not JSON", code="invalid_payload") from exc
    if not isinstance(document, dict):
        raise ValidationError("route-table payload is not a JSON object", code="invalid_payload")
    return document


def parse_route_payload(data: bytes, keys_for: VerifyKeysFor, *, receiver: Region) -> RoutePayload:
    """Parse and verify an opened route-table payload addressed to *receiver*.

    The signature is checked first, over the JSON as received, with the verify keys of the
    sending region the payload names; only a verified document is validated.

    :raises ValidationError: code ``invalid_payload`` — not JSON, no known sending region,
        not the shape, or not addressed to *receiver*.
    :raises SignatureError: code ``unsigned`` or ``bad_signature``.
    """
    document = _document(data)
    try:
        sender = Region(str(document.get("from_region")))
    except ValueError:
        raise ValidationError(
            "route-table payload names no known sending region", code="invalid_payload"
        ) from None
    where = f"route table from {sender}"
    raw_signature = document.pop("signature", None)
    if raw_signature is None:
        raise SignatureError(f"{where} is unsigned", code="unsigned")
    if not isinstance(raw_signature, dict):
        raise SignatureError(f"{where}: malformed signature object")
    signature = Signature.from_mapping(raw_signature)
    try:
        verify(
            list(keys_for(sender)), canonical_json(document), signature, context=CONTEXT_ROUTE_TABLE
        )
    except SignatureError as exc:
        raise SignatureError(
            f"{where}: {exc.message} (trusted: the {sender} region signing keys)"
        ) from exc
    try:
        payload = RoutePayload.model_validate({**document, "signature": signature})
    except pydantic.ValidationError as exc:
        raise ValidationError(
            f"{where} does not have the dief.route-table schema 1 shape: {_problems(exc)}",
            code="invalid_payload",
        ) from exc
    if payload.to_region is not receiver:
        raise ValidationError(f"{where} is addressed to another region", code="invalid_payload")
    return payload

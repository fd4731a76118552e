"""The sealed envelope's JSON Schema, as strict as the opener and the receivers (DESIGN §3 ⚑).

The model's schema says only "strings"; the opener and the services that read each topic
refuse more, and so does this schema:

- ``type`` is a payload type DIEF seals, and ``schema`` the one version of it receivers
  read (a case record: schema 3 only);
- ``region`` is a region code, or the constant ``credentials`` of the credential exchange;
- ``suite`` is one of the two suites, and each ``wrapped`` is exactly ``enc ‖ ct`` of that
  suite's HPKE (X-Wing: 1,120 + 48 bytes; X25519: 32 + 48);
- ``id`` is a canonical lower-case UUID; ``kid`` a key id; the nonce 12 bytes;
- the ciphertext is the padded plaintext and the 16-byte tag: a case record's one of its two
  fixed sizes, any other type's a power of two from 1,024 bytes.

Base64url is written without padding, and the opener reads only canonical text (the unused
bits of the last character zero); the padded form it also reads is a lenient reading the
schema does not describe. Distinct recipient kids are a by-nature difference (JSON Schema
cannot compare two members of two array items).
"""

from __future__ import annotations

from typing import cast

from pydantic import JsonValue

from dief.vocab import Region
from dief.wire._bulletin import TYPE_BULLETIN
from dief.wire._credentials import (
    CREDENTIAL_ENVELOPE_LABEL,
    CREDENTIAL_WIRE_VERSION,
    TYPE_CREDENTIAL_ANSWER,
    TYPE_CREDENTIAL_REQUEST,
)
from dief.wire._envelope import MAX_VALUE_BYTES, SUITE_HYBRID, SUITE_X25519, TYPE_CASE, TYPE_DIGEST
from dief.wire._padding import CASE_PADDED_SIZES
from dief.wire._record import CASE_SCHEMA_VERSION
from dief.wire._route import ROUTE_TABLE_SCHEMA, TYPE_ROUTE_TABLE
from dief.wire._schemas_outputs import b64url_exact

__all__ = [
    "CANONICAL_UUID_PATTERN",
    "ENVELOPE_SCHEMAS",
    "KID_PATTERN",
    "WRAPPED_BYTES",
    "tighten_envelope",
]

JsonObject = dict[str, JsonValue]

CANONICAL_UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
KID_PATTERN = "^[a-z2-7]{20}$"
_B64URL_SOME = "[A-Za-z0-9_-]+"

#: The payload schema version receivers read, per payload type.
ENVELOPE_SCHEMAS: dict[str, int] = {
    TYPE_CASE: CASE_SCHEMA_VERSION,
    TYPE_DIGEST: 1,
    TYPE_ROUTE_TABLE: ROUTE_TABLE_SCHEMA,
    TYPE_CREDENTIAL_REQUEST: CREDENTIAL_WIRE_VERSION,
    TYPE_CREDENTIAL_ANSWER: CREDENTIAL_WIRE_VERSION,
    TYPE_BULLETIN: 1,
}
_CREDENTIAL_TYPES = (TYPE_CREDENTIAL_REQUEST, TYPE_CREDENTIAL_ANSWER)

_DEK_BYTES = 32
_TAG_BYTES = 16
_NONCE_BYTES = 12
#: HPKE ``enc`` sizes: X-Wing's is the ML-KEM-768 ciphertext (1,088) then the X25519
#: ephemeral public key (32); DHKEM(X25519)'s the ephemeral public key.
_ENC_BYTES = {SUITE_HYBRID: 1088 + 32, SUITE_X25519: 32}
#: ``wrapped`` = enc ‖ AES-256-GCM(DEK) (32 bytes and the 16-byte tag), per suite.
WRAPPED_BYTES = {suite: enc + _DEK_BYTES + _TAG_BYTES for suite, enc in _ENC_BYTES.items()}
_MIN_PADDED = 1024


def _ciphertexts(sizes: list[int]) -> JsonObject:
    bodies = "|".join(b64url_exact(size + _TAG_BYTES) for size in sizes)
    return {"properties": {"ciphertext": {"pattern": f"^(?:{bodies})$"}}}


def _powers_of_two() -> list[int]:
    """Padded sizes of the power-of-two rule whose ciphertext fits in an envelope."""
    sizes, size = [], _MIN_PADDED
    while size < MAX_VALUE_BYTES * 3 // 4:
        sizes.append(size)
        size *= 2
    return sizes


def _when(name: str, value: str, then: JsonObject) -> JsonObject:
    return {"if": {"properties": {name: {"const": value}}, "required": [name]}, "then": then}


def _per_type() -> list[JsonValue]:
    rules: list[JsonValue] = []
    regions: JsonValue = [r.value for r in Region]
    for payload_type, version in ENVELOPE_SCHEMAS.items():
        region: JsonObject = (
            {"const": CREDENTIAL_ENVELOPE_LABEL}
            if payload_type in _CREDENTIAL_TYPES
            else {"enum": regions}
        )
        then: JsonObject = {"properties": {"schema": {"const": version}, "region": region}}
        rules.append(_when("type", payload_type, then))
    rules.append(_when("type", TYPE_CASE, _ciphertexts(list(CASE_PADDED_SIZES))))  # noqa: FURB113  one JSON Schema rule per step, built in the order the schema reads
    rules.append(
        {
            "if": {"properties": {"type": {"not": {"const": TYPE_CASE}}}},
            "then": _ciphertexts(_powers_of_two()),
        }
    )
    for suite, size in WRAPPED_BYTES.items():
        wrapped: JsonObject = {"pattern": f"^{b64url_exact(size)}$"}
        then = {"properties": {"recipients": {"items": {"properties": {"wrapped": wrapped}}}}}
        rules.append(_when("suite", suite, then))
    return rules


def tighten_envelope(schema: JsonObject) -> JsonObject:
    """*schema* (the model's) made as strict as the opener and the receivers."""
    properties = cast("JsonObject", schema["properties"])
    cast("JsonObject", properties["type"]).update(
        {"enum": list(ENVELOPE_SCHEMAS), "description": "Payload type"}
    )
    cast("JsonObject", properties["region"]).update(
        {
            "enum": [*(r.value for r in Region), CREDENTIAL_ENVELOPE_LABEL],
            "description": "The region the payload is sealed for (part of the HPKE info), "
            f"or {CREDENTIAL_ENVELOPE_LABEL!r} for the credential exchange",
        }
    )
    cast("JsonObject", properties["suite"])["enum"] = [SUITE_HYBRID, SUITE_X25519]
    cast("JsonObject", properties["id"]).update(
        {"pattern": CANONICAL_UUID_PATTERN, "description": "Canonical lower-case UUID (v4)"}
    )
    cast("JsonObject", properties["nonce"])["pattern"] = f"^{b64url_exact(_NONCE_BYTES)}$"
    cast("JsonObject", properties["ciphertext"])["pattern"] = f"^{_B64URL_SOME}$"
    recipient = cast("JsonObject", cast("JsonObject", schema["$defs"])["Recipient"])
    recipient_properties = cast("JsonObject", recipient["properties"])
    cast("JsonObject", recipient_properties["kid"])["pattern"] = KID_PATTERN
    cast("JsonObject", recipient_properties["wrapped"]).update(
        {
            "pattern": f"^{_B64URL_SOME}$",
            "description": "base64url of HPKE enc ‖ ct: single-shot base-mode Seal of the "
            "32-byte data key, aad empty, info b'dief/v1/dek/' + type + b'/' + region",
        }
    )
    cast("JsonObject", properties["recipients"])["uniqueItems"] = True
    cast("list[JsonValue]", schema.setdefault("allOf", [])).extend(_per_type())
    return schema

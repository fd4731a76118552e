"""The JSON Schema (draft 2020-12) of each published contract model, file by file.

Each schema is the pydantic model's validation schema, with the two places where the wire
is stricter than the model: the case input's risk indicators are the catalogue's ids, and
a sealed digest payload must carry its signature.
"""

from __future__ import annotations

from typing import cast

from pydantic import BaseModel
from pydantic import JsonValue as _JsonValue

from dief.catalogue import load_catalogue
from dief.digests import DigestPayload
from dief.wire import (
    CaseInput,
    CaseRecord,
    CredentialAnswer,
    CredentialRequest,
    Receipt,
    SealedReceipt,
)
from dief.wire._envelope import SealedEnvelope
from dief.wire._outputs import CspSummary, Digest

__all__ = ["SCHEMA_FILES", "JsonObject", "model_schemas", "ref"]

JsonObject = dict[str, _JsonValue]

_DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILES: dict[str, type[BaseModel]] = {
    "case-input.schema.json": CaseInput,
    "envelope.schema.json": SealedEnvelope,
    "case-record.schema.json": CaseRecord,
    "digest.schema.json": Digest,
    "digest-payload.schema.json": DigestPayload,
    "csp-summary.schema.json": CspSummary,
    "receipt.schema.json": SealedReceipt,
    "receipt-plaintext.schema.json": Receipt,
    "credential-request.schema.json": CredentialRequest,
    "credential-answer.schema.json": CredentialAnswer,
}


def ref(pointer: str) -> JsonObject:
    """A ``$ref`` to *pointer* (a schema file name or a JSON pointer)."""
    return {"$ref": pointer}


def _model_schema(name: str, model: type[BaseModel]) -> JsonObject:
    schema: JsonObject = model.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = _DRAFT
    schema["$id"] = name
    return schema


def _case_input_schema(name: str) -> JsonObject:
    schema = _model_schema(name, CaseInput)
    catalogue = load_catalogue()
    properties = cast(JsonObject, schema["properties"])
    indicators = cast(JsonObject, properties["risk_indicators"])
    indicators["items"] = {"enum": list(catalogue.ids), "type": "string"}
    indicators["description"] = (
        f"Risk-indicator catalogue ids (catalogue version {catalogue.version})"
    )
    return schema


def _digest_payload_schema(name: str) -> JsonObject:
    """The payload as sealed: the model allows an unsigned draft, the wire does not."""
    schema = _model_schema(name, DigestPayload)
    properties = cast(JsonObject, schema["properties"])
    properties["signature"] = {
        "$ref": "#/$defs/Signature",
        "description": "The region signing key's ML-DSA-65 and Ed25519 signatures (both "
        "required, context dief.digest) over the canonical JSON (sorted keys, no "
        "whitespace, UTF-8) of this object without its signature member",
    }
    required = cast(list[_JsonValue], schema["required"])
    required.append("signature")
    return schema


_SPECIAL = {CaseInput: _case_input_schema, DigestPayload: _digest_payload_schema}


def model_schemas() -> dict[str, JsonObject]:
    """Every contract model's schema: file name (of :data:`SCHEMA_FILES`) → schema."""
    out: dict[str, JsonObject] = {}
    for name, model in SCHEMA_FILES.items():
        special = _SPECIAL.get(model)
        out[name] = special(name) if special is not None else _model_schema(name, model)
    return out

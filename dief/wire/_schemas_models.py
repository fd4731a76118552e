"""The JSON Schema (draft 2020-12) of each published contract, file by file.

Each schema is the pydantic model's validation schema, made as strict as the code that reads
or writes it (DESIGN §9 ⚑: what the validator refuses, the schema refuses): the case input
by :mod:`dief.wire._schemas_case`, the envelope by :mod:`dief.wire._schemas_envelope`, the
digest, its sealed payload and the CSP summary by :mod:`dief.wire._schemas_outputs` (which
also gives the run's files, ``run.json`` and the lines of ``accepted.jsonl`` and
``rejected.jsonl``, that have no pydantic model).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from pydantic import BaseModel
from pydantic import JsonValue as _JsonValue

from dief.digests import DigestPayload
from dief.wire import (
    CaseInput,
    CaseRecord,
    CredentialAnswer,
    CredentialRequest,
    Receipt,
    SealedReceipt,
)
from dief.wire._bulletin import BulletinGroupKeyRelease, SignedBulletinBatch
from dief.wire._directory import ForumDirectoryDocument, NodeRegistration
from dief.wire._envelope import SealedEnvelope
from dief.wire._outputs import CspSummary, Digest
from dief.wire._schemas_case import tighten_case_input
from dief.wire._schemas_envelope import tighten_envelope
from dief.wire._schemas_outputs import (
    ACCEPTED_LINE,
    REJECTED_LINE,
    RUN_SUMMARY,
    published_summary,
    run_file_schema,
    signed_document,
    tighten_outputs,
)

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["RUN_FILES", "SCHEMA_FILES", "JsonObject", "model_schemas", "ref"]

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
    "directory.schema.json": ForumDirectoryDocument,
    "registration.schema.json": NodeRegistration,
    "bulletin-batch.schema.json": SignedBulletinBatch,
    "bulletin-group-key.schema.json": BulletinGroupKeyRelease,
}
#: The run's output files without a pydantic model: ``run.json`` and one line of
#: ``accepted.jsonl`` and of ``rejected.jsonl``.
RUN_FILES = (RUN_SUMMARY, ACCEPTED_LINE, REJECTED_LINE)


def ref(pointer: str) -> JsonObject:
    """A ``$ref`` to *pointer* (a schema file name or a JSON pointer)."""
    return {"$ref": pointer}


def _model_schema(model: type[BaseModel]) -> JsonObject:
    schema: JsonObject = model.model_json_schema(by_alias=True, mode="validation")
    return schema


def _digest_payload_schema(schema: JsonObject) -> JsonObject:
    """The payload as sealed: the model allows an unsigned draft, the wire does not."""
    tighten_outputs(schema)
    properties = cast("JsonObject", schema["properties"])
    properties["signature"] = {
        "$ref": "#/$defs/Signature",
        "description": "The region signing key's ML-DSA-65 and Ed25519 signatures (both "
        "required, context dief.digest) over the RFC 8785 (JCS) canonical JSON of this "
        "object without its signature member",
    }
    required = cast("list[_JsonValue]", schema["required"])
    required.append("signature")
    return schema


_TIGHTEN: dict[type[BaseModel], Callable[[JsonObject], JsonObject]] = {
    CaseInput: tighten_case_input,
    SealedEnvelope: tighten_envelope,
    Digest: tighten_outputs,
    DigestPayload: _digest_payload_schema,
    CspSummary: published_summary,
    ForumDirectoryDocument: signed_document,
    NodeRegistration: signed_document,
}


def _stamped(name: str, schema: JsonObject) -> JsonObject:
    schema["$schema"] = _DRAFT
    schema["$id"] = name
    return schema


def model_schemas() -> dict[str, JsonObject]:
    """Every contract's schema: file name (of :data:`SCHEMA_FILES` and :data:`RUN_FILES`)
    → schema."""
    out: dict[str, JsonObject] = {}
    for name, model in SCHEMA_FILES.items():
        schema = _model_schema(model)
        tighten = _TIGHTEN.get(model)
        out[name] = _stamped(name, tighten(schema) if tighten is not None else schema)
    for name in RUN_FILES:
        out[name] = _stamped(name, run_file_schema(name))
    return out

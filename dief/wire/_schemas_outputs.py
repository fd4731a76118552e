"""The published outputs' JSON Schemas, as strict as the code (DESIGN §7 ⚑, §9 ⚑).

The pydantic models of the outputs accept drafts (an unsigned summary, a cell without its
trend); what is *published* always carries every ⚑ field, and the models' cross-field rules
(a suppressed cell hides its numbers, withheld totals theirs) are stated here as
``if``/``then`` conditions, since pydantic writes only the types. Applied by definition name
(``$defs``), so the digest, the digest payload and the summary share the same rules:

- a cell: ``value``, ``count``, ``contributors``, ``suppressed`` present; suppressed ⇒
  ``count``, ``contributors``, ``share`` and ``change`` null; not suppressed ⇒ ``count``
  and ``contributors`` integers; a digest's cells also carry ``previous``, ``change`` and
  ``trend`` (``DigestCell``);
- totals: ``cases``, ``contributors``, ``suppressed`` present; withheld ⇒ both null;
- a checklist entry: ``id``, ``question``, ``count``, ``prevalence``, ``trend`` present;
  suppressed ⇒ ``count`` null; ``count`` null ⇒ ``prevalence`` null;
- a digest: ``checklist``, ``lessons`` and ``notes`` present;
- a published CSP summary: ``issue``, ``issued_at``, ``patterns``, ``checklist``,
  ``narrative`` and ``signature`` present, ``issued_at`` a time and ``signature`` the
  composite signature's exact shape (:func:`signature_schema`).

``contributors ≤ count`` compares two numbers of one object, which JSON Schema cannot: it
is listed among the by-nature differences in docs/contracts.md.

Also the schemas of the run's files that have no pydantic model: ``run.json``
(:class:`dief.pipeline.RunSummary`), and one line of ``accepted.jsonl`` and
``rejected.jsonl``.
"""

from __future__ import annotations

from typing import cast, get_type_hints

from pydantic import JsonValue

from dief.crypto import Signature

__all__ = [
    "ACCEPTED_LINE",
    "REJECTED_LINE",
    "RUN_SUMMARY",
    "b64url_exact",
    "published_summary",
    "run_file_schema",
    "signature_schema",
    "signed_document",
    "tighten_outputs",
]

JsonObject = dict[str, JsonValue]

#: FIPS 204 ML-DSA-65 signature and RFC 8032 Ed25519 signature lengths in bytes.
MLDSA65_SIGNATURE_BYTES = 3309
ED25519_SIGNATURE_BYTES = 64

_B64 = "[A-Za-z0-9_-]"
#: The last character of canonical base64url after 1 or 2 bytes past a multiple of 3 (4 or
#: 2 bits of it unused, and zero).
_LAST = {1: "[AQgw]", 2: "[AEIMQUYcgkosw048]"}

_CANONICAL_UUID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_CASE_ID = "^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
_CODE = "^[a-z][a-z0-9_]*$"
_UTC_SECOND = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"

RUN_SUMMARY = "run.schema.json"
ACCEPTED_LINE = "accepted-line.schema.json"
REJECTED_LINE = "rejected-line.schema.json"


def b64url_exact(size: int) -> str:
    """The body (no anchors) of a pattern matching the canonical unpadded base64url text of
    exactly *size* bytes (the unused low bits of the last character zero)."""
    full, rest = divmod(size, 3)
    body = f"{_B64}{{{4 * full}}}"
    if rest:
        body += f"{_B64}{{{rest}}}{_LAST[rest]}"
    return body


def signature_schema() -> JsonObject:
    """The composite signature (ML-DSA-65 and Ed25519, both required) in its exact shape."""
    schema: JsonObject = Signature.model_json_schema(mode="validation")
    properties = cast("JsonObject", schema["properties"])
    mldsa = cast("JsonObject", properties["mldsa65"])
    mldsa["pattern"] = f"^{b64url_exact(MLDSA65_SIGNATURE_BYTES)}$"
    mldsa["description"] = "base64url (unpadded) ML-DSA-65 signature, 3,309 bytes"
    ed = cast("JsonObject", properties["ed25519"])
    ed["pattern"] = f"^{b64url_exact(ED25519_SIGNATURE_BYTES)}$"
    ed["description"] = "base64url (unpadded) Ed25519 signature, 64 bytes"
    schema["description"] = (
        "Both signatures over b'dief/v1/signature/' + context + 0x00 + the RFC 8785 (JCS) "
        "canonical JSON of the document without its signature member; kid names the verify "
        "key (ML-DSA-65 public key then Ed25519 public key) in the signed directory"
    )
    return schema


def _require(definition: JsonObject, *names: str) -> None:
    required = cast("list[JsonValue]", definition.setdefault("required", []))
    for name in names:
        if name not in required:
            required.append(name)


def _rule(definition: JsonObject, rule: JsonObject) -> None:
    cast("list[JsonValue]", definition.setdefault("allOf", [])).append(rule)


def _nulls(*names: str) -> JsonObject:
    return {"properties": {name: {"type": "null"} for name in names}}


def _flag(name: str) -> JsonObject:
    return {"properties": {name: {"const": True}}, "required": [name]}


def _cell(cell: JsonObject) -> None:
    _require(cell, "value", "count", "contributors", "suppressed")
    _rule(
        cell,
        {
            "if": _flag("suppressed"),
            "then": _nulls("count", "contributors", "share", "change"),
            "else": {
                "properties": {"count": {"type": "integer"}, "contributors": {"type": "integer"}}
            },
        },
    )


def _totals(totals: JsonObject) -> None:
    _require(totals, "cases", "contributors", "suppressed")
    _rule(totals, {"if": _flag("withheld"), "then": _nulls("cases", "contributors")})


def _checklist_entry(entry: JsonObject) -> None:
    _require(entry, "id", "question", "count", "prevalence", "trend")
    _rule(entry, {"if": _flag("suppressed"), "then": _nulls("count")})
    _rule(
        entry,
        {"if": {"properties": {"count": {"type": "null"}}}, "then": _nulls("prevalence")},
    )


def _digest(defs: JsonObject, digest: JsonObject) -> None:
    _require(digest, "checklist", "lessons", "notes")
    defs["DigestCell"] = {
        "description": "A digest's cell: also its previous-period count, change and trend",
        "allOf": [{"$ref": "#/$defs/Cell"}],
        "required": ["previous", "change", "trend"],
    }
    properties = cast("JsonObject", digest["properties"])
    dimensions = cast("JsonObject", properties["dimensions"])
    cast("JsonObject", dimensions["additionalProperties"])["items"] = {"$ref": "#/$defs/DigestCell"}


_BY_NAME = {"Cell": _cell, "Totals": _totals, "ChecklistEntry": _checklist_entry}


def tighten_outputs(schema: JsonObject) -> JsonObject:
    """*schema* with the published outputs' rules on every definition it holds (and on
    itself, when it is a digest)."""
    defs = cast("JsonObject", schema.setdefault("$defs", {}))
    for name, tighten in _BY_NAME.items():
        if name in defs:
            tighten(cast("JsonObject", defs[name]))
    if "Digest" in defs:
        _digest(defs, cast("JsonObject", defs["Digest"]))
    if schema.get("title") == "DIEF regional trend digest":
        _digest(defs, schema)
    if "Signature" in defs:
        defs["Signature"] = signature_schema()
    return schema


def published_summary(schema: JsonObject) -> JsonObject:
    """The CSP summary as published (on ``csp.reporting`` and in ``summary/<CYCLE>.json``):
    numbered, stamped and signed."""
    tighten_outputs(schema)
    defs = cast("JsonObject", schema["$defs"])
    defs["Signature"] = signature_schema()
    properties = cast("JsonObject", schema["properties"])
    properties["signature"] = {
        "$ref": "#/$defs/Signature",
        "description": "The Secretariat signing key's signatures (context dief.csp-summary)",
    }
    properties["issued_at"] = {
        "type": "string",
        "pattern": _UTC_SECOND,
        "description": "When this issue was signed (UTC, to the second)",
    }
    _require(schema, "issue", "issued_at", "patterns", "checklist", "narrative", "signature")
    return schema


def signed_document(schema: JsonObject) -> JsonObject:
    """*schema* of a signed document (the directory, a registration file) with every
    ``signature`` member, its own and its definitions', required and of the exact shape."""
    defs = cast("JsonObject", schema.setdefault("$defs", {}))
    defs["Signature"] = signature_schema()
    for definition in [schema, *(cast("JsonObject", d) for d in defs.values())]:
        properties = cast("JsonObject", definition.get("properties", {}))
        if "signature" in properties and definition is not defs["Signature"]:
            properties["signature"] = {"$ref": "#/$defs/Signature"}
            _require(definition, "signature")
    return schema


def _no_extra(schema: JsonObject) -> JsonObject:
    schema["additionalProperties"] = False
    return schema


def _run_summary_schema() -> JsonObject:
    """``run.json`` from :class:`dief.pipeline.RunSummary`'s fields: every count an
    integer ≥ 0, ``timings`` seconds by step."""
    from dief.pipeline import RunSummary  # noqa: PLC0415  dief.pipeline imports dief.wire: imported when first used

    properties: JsonObject = {}
    required: list[JsonValue] = [str(key) for key in sorted(RunSummary.__required_keys__)]
    for key, hint in get_type_hints(RunSummary).items():
        if hint is int:
            properties[key] = {"type": "integer", "minimum": 0}
        elif key == "timings":
            properties[key] = {
                "type": "object",
                "additionalProperties": {"type": "number", "minimum": 0},
                "description": "Seconds per step of the run, and the total",
            }
        else:  # pragma: no cover - a new kind of field needs its schema written here
            raise TypeError(f"RunSummary.{key}: no schema for {hint!r}")
    return _no_extra(
        {
            "title": "run.json",
            "type": "object",
            "description": "Counts of input lines (read, accepted, rejected) and of records "
            "(published, applied, dead_lettered), and the step timings",
            "properties": properties,
            "required": required,
        }
    )


def run_file_schema(name: str) -> JsonObject:
    """The schema of ``run.json`` or of one line of ``accepted.jsonl`` / ``rejected.jsonl``
    (*name* one of :data:`RUN_SUMMARY`, :data:`ACCEPTED_LINE`, :data:`REJECTED_LINE`)."""
    if name == RUN_SUMMARY:
        return _run_summary_schema()
    line: JsonObject = {"type": "integer", "minimum": 1, "description": "1-based input line"}
    if name == ACCEPTED_LINE:
        return _no_extra(
            {
                "title": "accepted.jsonl line",
                "type": "object",
                "description": "An accepted input line and the case id its node derived (what "
                "a practitioner keeps to revise or withdraw the case)",
                "properties": {
                    "line": line,
                    "case_id": {"type": "string", "pattern": _CASE_ID},
                    "revision": {"type": "integer", "minimum": 1},
                },
                "required": ["line", "case_id", "revision"],
            }
        )
    return _no_extra(
        {
            "title": "rejected.jsonl line",
            "type": "object",
            "description": "A refused input line; never the refused text",
            "properties": {
                "line": line,
                "case_id": {
                    "anyOf": [{"type": "string", "pattern": _CANONICAL_UUID}, {"type": "null"}],
                    "description": "The case_id the line gave (canonical form), else null",
                },
                "reason": {
                    "type": "string",
                    "pattern": _CODE,
                    "description": "Machine-readable reason code (docs/contracts.md)",
                },
                "message": {
                    "type": "string",
                    "description": "What is wrong and where; never the refused text",
                },
            },
            "required": ["line", "case_id", "reason", "message"],
        }
    )

"""Generate the published contracts in ``schemas/`` from the code (DESIGN §9 ⚑).

JSON Schema (draft 2020-12) for the case input, the sealed envelope, the case record, the
digest, the signed digest payload sealed on ``dief.digests``, the CSP summary, the
receipt (sealed and in clear) and the contributor-credential request and answer, plus an
AsyncAPI 3.0 document of the topics. Output is
deterministic (sorted keys, two-space indent, trailing newline) so a test can detect drift
between the committed files and the code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import cast

from pydantic import BaseModel
from pydantic import JsonValue as _JsonValue

from dief.catalogue import load_catalogue
from dief.digests import DIGEST_SCHEMA, DigestPayload
from dief.seams import DLQ_HEADERS
from dief.vocab import Region
from dief.wire import (
    CASE_SCHEMA_VERSION,
    CREDENTIAL_ENVELOPE_LABEL,
    RECEIPT_PLAINTEXT_BYTES,
    ROUTE_TABLE_SCHEMA,
    TYPE_CASE,
    TYPE_CREDENTIAL_ANSWER,
    TYPE_CREDENTIAL_REQUEST,
    TYPE_ROUTE_TABLE,
    CaseInput,
    CaseRecord,
    CredentialAnswer,
    CredentialRequest,
    Receipt,
    SealedReceipt,
)
from dief.wire._envelope import SUITE_HYBRID, SUITE_X25519, TYPE_DIGEST, SealedEnvelope
from dief.wire._outputs import CspSummary, Digest

__all__ = [
    "ASYNCAPI_FILE",
    "SCHEMA_FILES",
    "asyncapi_document",
    "check_schemas",
    "dumps",
    "export_schemas",
    "generate_schemas",
]

JsonObject = dict[str, _JsonValue]

_DRAFT = "https://json-schema.org/draft/2020-12/schema"
ASYNCAPI_FILE = "asyncapi.json"
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
CASE_PARTITIONS = 3


def dumps(document: Mapping[str, object]) -> str:
    """Canonical text of a generated file."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


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


def generate_schemas() -> dict[str, str]:
    """Every file of ``schemas/``: file name → text."""
    out: dict[str, str] = {}
    for name, model in SCHEMA_FILES.items():
        special = _SPECIAL.get(model)
        schema = special(name) if special is not None else _model_schema(name, model)
        out[name] = dumps(schema)
    out[ASYNCAPI_FILE] = dumps(asyncapi_document())
    return out


def export_schemas(out_dir: str | Path) -> list[Path]:
    """Write every schema file into *out_dir* (created if needed); return the paths."""
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, text in sorted(generate_schemas().items()):
        path = directory / name
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def check_schemas(directory: str | Path) -> list[str]:
    """Names of files in *directory* that are missing or differ from the generated ones."""
    base = Path(directory)
    stale: list[str] = []
    for name, text in sorted(generate_schemas().items()):
        path = base / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


# --------------------------------------------------------------------------- AsyncAPI


def _ref(pointer: str) -> JsonObject:
    return {"$ref": pointer}


def _kafka_key(description: str, schema: JsonObject | None = None) -> JsonObject:
    key: JsonObject = {"type": "string", "description": description}
    if schema:
        key.update(schema)
    return {"kafka": {"key": key, "bindingVersion": "0.5.0"}}


#: What each dead-letter header carries (UTF-8 text); the names come from the aggregator.
_DLQ_HEADER_SCHEMAS: dict[str, JsonObject] = {
    "dief-reason": {
        "description": "Machine-readable reason code, e.g. malformed, unsupported_version, "
        "unknown_suite, no_recipient_key, authentication_failed, oversized, wrong_type, "
        "wrong_region, bad_padding, invalid_payload, key_mismatch, ownership, bad_credential; "
        "for a digest the "
        "Secretariat refused also unsigned, bad_signature, version_conflict",
        "pattern": "^[a-z][a-z0-9_]*$",
    },
    "dief-detail": {
        "description": "What is wrong and where, for operators; never payload text, key "
        "material or anything naming a sender",
    },
    "dief-source-topic": {
        "description": "The topic the record was consumed from: the region's cases topic "
        "(the aggregator), or dief.digests (the Secretariat)",
        "pattern": "^(dief\\.[a-z]+\\.cases|dief\\.digests)$",
    },
    "dief-source-partition": {
        "description": "Partition of the original record (decimal)",
        "pattern": "^[0-9]+$",
    },
    "dief-source-offset": {
        "description": "Offset of the original record (decimal)",
        "pattern": "^[0-9]+$",
    },
}


def _dlq_headers() -> JsonObject:
    properties: JsonObject = {}
    for name in DLQ_HEADERS:
        properties[name] = {"type": "string", **_DLQ_HEADER_SCHEMAS.get(name, {})}
    return {
        "type": "object",
        "description": "Reason and origin of a dead letter, as UTF-8 Kafka headers. Nothing "
        "in them identifies the sender.",
        "properties": properties,
        "required": list(DLQ_HEADERS),
        "additionalProperties": False,
    }


def _messages() -> JsonObject:
    region_codes: list[_JsonValue] = [r.value for r in Region]
    envelope = _ref("envelope.schema.json")
    return {
        "SealedCase": {
            "name": "SealedCase",
            "title": "Sealed diversion case",
            "summary": f"Sealed envelope v1, type {TYPE_CASE}, payload schema "
            f"{CASE_SCHEMA_VERSION}, encrypted to the region's key.",
            "description": "The plaintext sealed inside is a case record "
            "(case-record.schema.json), padded with spaces to one of two fixed sizes; "
            "a case goes to its own region only. Record timestamps are coarsened "
            "to the hour and headers carry nothing that identifies the sender.",
            "contentType": "application/json",
            "payload": envelope,
            "x-dief-plaintext": _ref("case-record.schema.json"),
            "bindings": _kafka_key(
                "case_id (UUID): every revision of a case lands in one partition",
                {"format": "uuid"},
            ),
        },
        "DeadLetter": {
            "name": "DeadLetter",
            "title": "Dead-lettered record",
            "summary": "The original record value and key, unchanged, with the reason in headers.",
            "description": "Written by the regional aggregator when a case record cannot be "
            "opened or validated, and by the Secretariat when it refuses a digest that claims "
            "this region (it cannot be opened, is not signed by the region's key, or reuses "
            "a version number with other content). Never dropped, never blocks the partition.",
            "contentType": "application/json",
            "headers": _dlq_headers(),
            "payload": {
                "description": "The original record value as received (normally a sealed "
                "envelope, but possibly malformed bytes)."
            },
            "bindings": _kafka_key("The original record key"),
        },
        "SealedDigest": {
            "name": "SealedDigest",
            "title": "Sealed regional trend digest",
            "summary": f"Sealed envelope v1, type {TYPE_DIGEST}, payload schema "
            f"{DIGEST_SCHEMA}, encrypted to the Secretariat's key.",
            "description": "The plaintext sealed inside is a signed digest payload "
            "(digest-payload.schema.json): region, period, version (1, then one more for "
            "every re-issue of the same region and period), issue hour, the meeting digest "
            "(digest.schema.json), the period's unsuppressed cells without TLP:RED cases for "
            "the Secretariat's own disclosure control, and the region's signature "
            "(ML-DSA-65 and Ed25519, context dief.digest) over the canonical JSON of the "
            "payload without its signature member. The Secretariat keeps the highest "
            "version of each region and period.",
            "contentType": "application/json",
            "payload": envelope,
            "x-dief-plaintext": _ref("digest-payload.schema.json"),
            "bindings": _kafka_key("Region code", {"enum": region_codes}),
        },
        "SealedReceipt": _receipt_message(),
        **_credential_messages(),
        "SignedDirectory": _directory_message(),
        "SealedRouteTable": _route_table_message(),
        "CspSummary": {
            "name": "CspSummary",
            "title": "Signed CSP summary",
            "summary": "Public-safe, disclosure-controlled summary of one CSP cycle.",
            "contentType": "application/json",
            "payload": _ref("csp-summary.schema.json"),
            "bindings": _kafka_key("CSP cycle, e.g. CSP12", {"pattern": "^CSP[1-9][0-9]*$"}),
        },
    }


def _receipt_message() -> JsonObject:
    return {
        "name": "SealedReceipt",
        "title": "Sealed receipt",
        "summary": "What a regional aggregator did with one record it opened: applied, "
        "duplicate, stale, or dead-lettered with its reason.",
        "description": "Encrypted with AES-256-GCM under the record's receipt key, "
        "HKDF-SHA256 (RFC 5869) of the record's data key with an empty salt and info "
        "dief/v1/receipt, 32 bytes: only the posting node and the aggregator know it. "
        "Associated data: the receipt id (the record key). The plaintext "
        f"(receipt-plaintext.schema.json) is compact JSON padded with spaces to "
        f"{RECEIPT_PLAINTEXT_BYTES} bytes, so every receipt value has the same length. Sent "
        "after the batch's database transaction committed and before its offsets are "
        "committed (at least once: a redelivered batch sends its receipts again). A record "
        "that could not be opened (or is refused at the envelope stage) gets none. No "
        "headers; timestamps coarsened to the hour.",
        "contentType": "application/json",
        "payload": _ref("receipt.schema.json"),
        "x-dief-plaintext": _ref("receipt-plaintext.schema.json"),
        "bindings": _kafka_key(
            'Receipt id: hex SHA-256 of "dief/v1/receipt-id/" + the envelope id',
            {"pattern": "^[0-9a-f]{64}$"},
        ),
    }


def _credential_messages() -> JsonObject:
    """A node's contributor-credential request and the issuer's answer (DESIGN §5)."""
    common = (
        f"The envelope's region field is the constant {CREDENTIAL_ENVELOPE_LABEL!r} (never "
        "the cycle or region asked for); the payload is padded with spaces to the next power "
        "of two from 1,024 bytes, so every request (and every answer) of an issuer key size "
        "looks the same. No headers that identify the sender; timestamps coarsened to the hour."
    )
    key = _kafka_key(
        "The request hash: hex SHA-256 of the label dief/credential-request/v1 and a zero "
        "byte, then the canonical JSON (RFC 8785) of the request without its signature",
        {"pattern": "^[0-9a-f]{64}$"},
    )
    return {
        "SealedCredentialRequest": {
            "name": "SealedCredentialRequest",
            "title": "Sealed contributor-credential request",
            "summary": f"Sealed envelope v1, type {TYPE_CREDENTIAL_REQUEST}, payload schema 1, "
            "encrypted to the Secretariat's KEM key.",
            "description": "The plaintext (credential-request.schema.json) asks the "
            "credential issuer to blind-sign (RFC 9474 RSABSSA-SHA384-PSS-Randomized) the "
            "node's contributor message for one (cycle, region) under that pair's issuer "
            "key; signed with the node's registration key (context dief.credential-request). "
            "The issuer signs one blinded message per registration and issuer key, the "
            "identical one again (a lost answer), and refuses another. " + common,
            "contentType": "application/json",
            "payload": _ref("envelope.schema.json"),
            "x-dief-plaintext": _ref("credential-request.schema.json"),
            "bindings": key,
        },
        "SealedCredentialAnswer": {
            "name": "SealedCredentialAnswer",
            "title": "Sealed contributor-credential answer",
            "summary": f"Sealed envelope v1, type {TYPE_CREDENTIAL_ANSWER}, payload schema 1, "
            "encrypted to the node KEM key named in the signed request.",
            "description": "The plaintext (credential-answer.schema.json) is the blind "
            "signature; the node unblinds it and keeps the token only if it verifies under "
            "the directory's issuer key of the pair. Keyed by the hash of the request it "
            "answers, so a node opens only the answers to its own requests. " + common,
            "contentType": "application/json",
            "payload": _ref("envelope.schema.json"),
            "x-dief-plaintext": _ref("credential-answer.schema.json"),
            "bindings": key,
        },
    }


def _directory_message() -> JsonObject:
    return {
        "name": "SignedDirectory",
        "title": "Signed forum directory",
        "summary": "Every public key of the forum with its role, region, status and "
        "validity, and the forum parameters (DESIGN §4), in clear and signed.",
        "description": "Format dief-directory/1: version, issued_at, expires, parameters, "
        "the root's certificate of the online directory-signing key, the keys (region KEM "
        "keys also signed by their region, one issuer key per (cycle, region) with the "
        "tokens it signed, node KEM keys unnamed) and the signature of the directory key. "
        "Readers accept only a directory that verifies under the pinned root fingerprint, "
        "is not older than the one they hold and has not expired.",
        "contentType": "application/json",
        "payload": {"type": "object", "description": "The signed directory document"},
        "bindings": _kafka_key(
            "current (the latest version) or v<version> (every version, kept by compaction)",
            {"pattern": "^(current|v[1-9][0-9]*)$"},
        ),
    }


def _route_table_message() -> JsonObject:
    return {
        "name": "SealedRouteTable",
        "title": "Sealed route table",
        "summary": f"Sealed envelope v1, type {TYPE_ROUTE_TABLE}, payload schema "
        f"{ROUTE_TABLE_SCHEMA}, encrypted to the receiving region's aggregator.",
        "description": "Counts of the sending region's cases of one closed CSP cycle whose "
        "route passes through the receiving region (DESIGN §5), protected jointly with the "
        "sender's digests and signed by the sending region (context dief.route-table). "
        "Every aggregator reads the whole topic and opens only what is sealed to it. TLP "
        "red cases are in no route table.",
        "contentType": "application/json",
        "payload": _ref("envelope.schema.json"),
        "bindings": _kafka_key(
            "<from>-><to>/<period>, e.g. AFR->EEG/CSP12",
            {"pattern": "^[A-Z]+->[A-Z]+/CSP[1-9][0-9]*$"},
        ),
    }


def _operation(action: str, title: str, channel: str, message: str) -> JsonObject:
    """An operation that sends or receives *message* of channel *channel* (by name)."""
    return {
        "action": action,
        "title": title,
        "channel": _ref(f"#/channels/{channel}"),
        "messages": [_ref(f"#/channels/{channel}/messages/{message}")],
    }


def _region_channel_names(region: Region) -> tuple[str, str]:
    """The names of *region*'s cases and dead-letter channels."""
    code = region.topic_code
    return f"{code}Cases", f"{code}Dlq"


def _region_channels(region: Region) -> JsonObject:
    """*region*'s cases topic and its aggregator's dead-letter topic."""
    code = region.topic_code
    cases, dlq = _region_channel_names(region)
    return {
        cases: {
            "address": f"dief.{code}.cases",
            "title": f"Cases for the {region.title}",
            "description": f"Sealed cases whose region is {region.value}, or that list it "
            "among related regions. Readable only by that region's aggregator.",
            "messages": {"SealedCase": _ref("#/components/messages/SealedCase")},
            "bindings": {"kafka": {"partitions": CASE_PARTITIONS, "bindingVersion": "0.5.0"}},
        },
        dlq: {
            "address": f"dief.{code}.dlq",
            "title": f"Dead letters of the {region.title} aggregator",
            "messages": {"DeadLetter": _ref("#/components/messages/DeadLetter")},
        },
    }


def _region_operations(region: Region) -> JsonObject:
    """Posting, aggregating and dead-lettering *region*'s cases, and refusing its digests."""
    cases, dlq = _region_channel_names(region)
    name = region.value.title()
    return {
        f"publish{name}Case": _operation(
            "send", f"A national node posts a case to {region.value}", cases, "SealedCase"
        ),
        f"aggregate{name}Cases": _operation(
            "receive", f"The {region.value} aggregator applies cases", cases, "SealedCase"
        ),
        f"deadLetter{name}": _operation(
            "send",
            f"The {region.value} aggregator dead-letters a bad record",
            dlq,
            "DeadLetter",
        ),
        f"refuseDigest{name}": _operation(
            "send",
            f"The Secretariat dead-letters a refused digest claiming {region.value}",
            dlq,
            "DeadLetter",
        ),
    }


def _channels() -> JsonObject:
    """Every channel: each region's cases and dead letters, then digests and CSP reporting."""
    channels: JsonObject = {}
    for region in Region:
        channels.update(_region_channels(region))
    channels["digests"] = {
        "address": "dief.digests",
        "title": "Regional trend digests",
        "messages": {"SealedDigest": _ref("#/components/messages/SealedDigest")},
    }
    channels["cspReporting"] = {
        "address": "csp.reporting",
        "title": "CSP reporting",
        "messages": {"CspSummary": _ref("#/components/messages/CspSummary")},
    }
    channels["receipts"] = {
        "address": "dief.receipts",
        "title": "Receipts",
        "description": "Every aggregator's receipts. Every node reads all of it without a "
        "consumer group and opens only its own (the receipt ids it keeps).",
        "messages": {"SealedReceipt": _ref("#/components/messages/SealedReceipt")},
    }
    channels.update(_exchange_channels())
    return channels


def _exchange_channels() -> JsonObject:
    """The directory, route tables and the credential exchange."""
    return {
        "directory": {
            "address": "dief.directory",
            "title": "Forum directory",
            "description": "Compacted: the latest version under current and every version "
            "under its own key, so the history stays readable. Everyone reads it.",
            "messages": {"SignedDirectory": _ref("#/components/messages/SignedDirectory")},
        },
        "routes": {
            "address": "dief.routes",
            "title": "Route tables between regions",
            "messages": {"SealedRouteTable": _ref("#/components/messages/SealedRouteTable")},
        },
        "credentialRequests": {
            "address": "dief.credentials.requests",
            "title": "Contributor-credential requests",
            "description": "Every node writes; only the Secretariat's credential issuer "
            "reads (consumer group dief-issuer).",
            "messages": {
                "SealedCredentialRequest": _ref("#/components/messages/SealedCredentialRequest")
            },
        },
        "credentialAnswers": {
            "address": "dief.credentials.answers",
            "title": "Contributor-credential answers",
            "description": "The issuer writes; every node reads all of it without a consumer "
            "group and opens only the answers keyed by its own requests' hashes.",
            "messages": {
                "SealedCredentialAnswer": _ref("#/components/messages/SealedCredentialAnswer")
            },
        },
    }


def _operations() -> JsonObject:
    """Every operation: each region's, then publishing and reading digests and summaries."""
    operations: JsonObject = {}
    for region in Region:
        operations.update(_region_operations(region))
    operations["publishDigest"] = _operation(
        "send", "An aggregator publishes its digest", "digests", "SealedDigest"
    )
    operations["compileCycle"] = _operation(
        "receive", "The Secretariat reads the digests", "digests", "SealedDigest"
    )
    operations["publishCspSummary"] = _operation(
        "send", "The Secretariat publishes the CSP summary", "cspReporting", "CspSummary"
    )
    operations["publishReceipt"] = _operation(
        "send", "An aggregator says what it did with a record", "receipts", "SealedReceipt"
    )
    operations["readReceipts"] = _operation(
        "receive", "A national node reads its records' receipts", "receipts", "SealedReceipt"
    )
    operations.update(_exchange_operations())
    return operations


def _exchange_operations() -> JsonObject:
    """Publishing and following the directory, route tables and credentials."""
    return {
        "publishDirectory": _operation(
            "send", "The Secretariat publishes a directory version", "directory", "SignedDirectory"
        ),
        "followDirectory": _operation(
            "receive", "Every party follows the directory", "directory", "SignedDirectory"
        ),
        "publishRouteTable": _operation(
            "send", "An aggregator tells a region on the route", "routes", "SealedRouteTable"
        ),
        "readRouteTables": _operation(
            "receive", "An aggregator reads the tables sealed to it", "routes", "SealedRouteTable"
        ),
        "requestCredential": _operation(
            "send",
            "A national node asks for a contributor token",
            "credentialRequests",
            "SealedCredentialRequest",
        ),
        "issueCredentials": _operation(
            "receive",
            "The credential issuer reads the requests",
            "credentialRequests",
            "SealedCredentialRequest",
        ),
        "answerCredential": _operation(
            "send",
            "The credential issuer answers a request",
            "credentialAnswers",
            "SealedCredentialAnswer",
        ),
        "readCredentialAnswers": _operation(
            "receive",
            "A national node reads the answers to its requests",
            "credentialAnswers",
            "SealedCredentialAnswer",
        ),
    }


def _info() -> JsonObject:
    """Title, version (the case schema's) and description of the API."""
    return {
        "title": "DIEF Exchange",
        "version": f"{CASE_SCHEMA_VERSION}.0.0",
        "description": "Non-attributed exchange of diversion cases for the Arms Trade "
        "Treaty's Diversion Information Exchange Forum: national nodes post sealed "
        "cases per ATT regional group, regional aggregators publish sealed trend "
        "digests, the Secretariat publishes signed CSP summaries. "
        f"Envelope suites: {SUITE_HYBRID} (default), {SUITE_X25519}.",
        "license": {"name": "Apache-2.0"},
    }


def _servers() -> JsonObject:
    """The embedded broker of the CLI and the production cluster."""
    return {
        "embedded": {
            "host": "127.0.0.1:9092",
            "protocol": "kafka",
            "description": "Embedded Tansu broker started by the CLI on a free local "
            "port (the port shown is an example).",
        },
        "production": {
            "host": "kafka-1:9093",
            "protocol": "kafka-secure",
            "description": "Apache Kafka (KRaft, three brokers), SASL/SCRAM over TLS, "
            "prefix ACLs per region (dief.<region>.).",
            "security": [_ref("#/components/securitySchemes/scram")],
        },
    }


def asyncapi_document() -> JsonObject:
    """The AsyncAPI 3.0 description of every DIEF topic (DESIGN §2 ⚑)."""
    return {
        "asyncapi": "3.0.0",
        "info": _info(),
        "defaultContentType": "application/json",
        "servers": _servers(),
        "channels": _channels(),
        "operations": _operations(),
        "components": {
            "messages": _messages(),
            "securitySchemes": {
                "scram": {
                    "type": "scramSha512",
                    "description": "SASL/SCRAM-SHA-512 over TLS",
                }
            },
        },
    }

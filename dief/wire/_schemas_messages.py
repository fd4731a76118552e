"""The AsyncAPI messages of the DIEF topics: what each record is, its key and headers.

The envelope, plaintext and receipt payloads refer to the JSON Schema files of
:mod:`dief.wire._schemas_models` by file name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.digests import DIGEST_SCHEMA
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
)
from dief.wire._bulletin import TYPE_BULLETIN, TYPE_BULLETIN_GROUP_KEY
from dief.wire._envelope import TYPE_DIGEST
from dief.wire._schemas_models import JsonObject, ref

if TYPE_CHECKING:
    from pydantic import JsonValue as _JsonValue

__all__ = ["SECRETARIAT_REASONS", "dead_letter_reasons", "messages"]


def _kafka_key(description: str, schema: JsonObject | None = None) -> JsonObject:
    key: JsonObject = {"type": "string", "description": description}
    if schema:
        key.update(schema)
    return {"kafka": {"key": key, "bindingVersion": "0.5.0"}}


#: The headers the Python services' Kafka client (FastStream) adds to what it publishes:
#: neither says anything about the sender. Other implementations need not send them.
_CLIENT_HEADERS: dict[str, JsonObject] = {
    "content-type": {
        "type": "string",
        "description": "Added by the publishing client (FastStream): empty for raw bytes",
    },
    "correlation_id": {
        "type": "string",
        "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        "description": "Added by the publishing client (FastStream): a random UUID per record",
    },
}


def _client_headers() -> JsonObject:
    """Headers of a record published by a Python service: at most the client's own two."""
    return {
        "type": "object",
        "description": "Only what the publishing client adds (content-type, correlation_id); "
        "nothing that identifies a sender. Consumers must not rely on them.",
        "properties": dict(_CLIENT_HEADERS),
        "additionalProperties": False,
    }


#: Records that carry no header at all (case records, receipts).
_NO_HEADERS: JsonObject = {
    "type": "object",
    "description": "No headers: the record carries none",
    "maxProperties": 0,
}


#: What each dead-letter header carries (UTF-8 text); the names come from the aggregator.
_DLQ_HEADER_SCHEMAS: dict[str, JsonObject] = {
    "dief-reason": {
        "description": "Machine-readable reason code, e.g. malformed, unsupported_version, "
        "unknown_suite, no_recipient_key, authentication_failed, oversized, wrong_type, "
        "wrong_region, bad_padding, invalid_payload, key_mismatch, ownership, bad_credential, "
        "database_refused; for a digest the "
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


def dead_letter_reasons() -> list[_JsonValue]:
    """Every reason code a dead letter can carry: the aggregator's (its check order), then
    the Secretariat's own for a refused digest."""
    from dief.aggregator import REASONS  # noqa: PLC0415  dief.aggregator imports dief.wire: imported when first used

    reasons: list[_JsonValue] = list(REASONS)
    reasons += [r for r in SECRETARIAT_REASONS if r not in reasons]
    return reasons


#: What the Secretariat dead-letters a digest for, beyond the envelope and shape reasons it
#: shares with the aggregator (``dief.secretariat``).
SECRETARIAT_REASONS = ("unsigned", "bad_signature", "version_conflict")


def _dlq_headers() -> JsonObject:
    properties: JsonObject = {}
    for name in DLQ_HEADERS:
        properties[name] = {"type": "string", **_DLQ_HEADER_SCHEMAS.get(name, {})}
    reason = properties["dief-reason"]
    if isinstance(reason, dict):
        reason.pop("pattern", None)
        reason["enum"] = dead_letter_reasons()
    properties.update(_CLIENT_HEADERS)
    return {
        "type": "object",
        "description": "Reason and origin of a dead letter, as UTF-8 Kafka headers, and the "
        "two the publishing client adds (content-type, correlation_id). Nothing in them "
        "identifies the sender.",
        "properties": properties,
        "required": list(DLQ_HEADERS),
        "additionalProperties": False,
    }


def messages() -> JsonObject:
    region_codes: list[_JsonValue] = [r.value for r in Region]
    envelope = ref("envelope.schema.json")
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
            "headers": _NO_HEADERS,
            "payload": envelope,
            "x-dief-plaintext": ref("case-record.schema.json"),
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
            "bindings": _kafka_key(
                "The original record key, or null when the record had none",
                {"type": ["string", "null"]},
            ),
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
            "headers": _client_headers(),
            "payload": envelope,
            "x-dief-plaintext": ref("digest-payload.schema.json"),
            "bindings": _kafka_key("Region code", {"enum": region_codes}),
        },
        "SealedReceipt": _receipt_message(),
        **_credential_messages(),
        "SignedDirectory": _directory_message(),
        "SealedRouteTable": _route_table_message(),
        **_bulletin_messages(),
        "CspSummary": {
            "name": "CspSummary",
            "title": "Signed CSP summary",
            "summary": "Public-safe, disclosure-controlled summary of one CSP cycle.",
            "contentType": "application/json",
            "headers": _client_headers(),
            "payload": ref("csp-summary.schema.json"),
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
        "headers": _NO_HEADERS,
        "payload": ref("receipt.schema.json"),
        "x-dief-plaintext": ref("receipt-plaintext.schema.json"),
        "bindings": _kafka_key(
            'Receipt id: hex SHA-256 of "dief/v1/receipt-id/" + the envelope id',
            {"pattern": "^[0-9a-f]{64}$"},
        ),
    }


def _bulletin_messages() -> JsonObject:
    """A region's signed bulletin batch and a directory version's bulletin group key
    (DESIGN §13)."""
    return {
        "SealedBulletinBatch": {
            "name": "SealedBulletinBatch",
            "title": "Sealed bulletin batch",
            "summary": f"Sealed envelope v1, type {TYPE_BULLETIN}, payload schema 1, "
            "encrypted to the bulletin group key of the current directory version.",
            "description": "Generalised facts of applied alerts at TLP clear or green (and, "
            "by forum setting, any case at those levels), and retractions, signed by the "
            "region's signing key (context dief.bulletin). Never a contributor, pseudonym, "
            "owner key or case id. Every node reads the whole topic. The plaintext "
            "(bulletin-batch.schema.json) is {batch, signature}: the signature is over the "
            "canonical JSON of batch, by the signing key the directory lists for the "
            "envelope's region, which must equal batch.region; anything else is ignored.",
            "contentType": "application/json",
            "headers": _client_headers(),
            "payload": ref("envelope.schema.json"),
            "x-dief-plaintext": ref("bulletin-batch.schema.json"),
            "bindings": _kafka_key("A random id (32 hex digits)", {"pattern": "^[0-9a-f]{32}$"}),
        },
        "BulletinGroupKeyRelease": {
            "name": "BulletinGroupKeyRelease",
            "title": "Bulletin group key release",
            "summary": "One directory version's bulletin group key: its public part, and its "
            "private part sealed to each registered node's KEM key (envelope type "
            f"{TYPE_BULLETIN_GROUP_KEY}), signed by the directory signer.",
            "description": "Made once per directory version by the Secretariat and kept: a "
            "re-publication is the same document. Each copy is an envelope whose region "
            'field is directory-v<version> and whose plaintext is {"k": <base64url of '
            "the 32-byte group private key: the X-Wing seed, or the X25519 key>}; the key "
            "opened must have group_kid. A node removed "
            "from a version has no copy in it.",
            "contentType": "application/json",
            "headers": _client_headers(),
            "payload": ref("bulletin-group-key.schema.json"),
            "bindings": _kafka_key(
                "group-key/v<directory version>", {"pattern": "^group-key/v[1-9][0-9]*$"}
            ),
        },
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
            "headers": _client_headers(),
            "payload": ref("envelope.schema.json"),
            "x-dief-plaintext": ref("credential-request.schema.json"),
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
            "headers": _client_headers(),
            "payload": ref("envelope.schema.json"),
            "x-dief-plaintext": ref("credential-answer.schema.json"),
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
        "headers": _client_headers(),
        "payload": ref("directory.schema.json"),
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
        "headers": _client_headers(),
        "payload": ref("envelope.schema.json"),
        "bindings": _kafka_key(
            "<from>-><to>/<period>, e.g. AFR->EEG/CSP12",
            {"pattern": "^[A-Z]+->[A-Z]+/CSP[1-9][0-9]*$"},
        ),
    }

"""Signing and verifying CSP summaries (DESIGN §7 ⚑ ``signature``).

The Secretariat signing key (ML-DSA-65 and Ed25519, context :data:`CONTEXT_CSP_SUMMARY`)
signs the canonical JSON (:func:`dief.crypto.canonical_json`: sorted keys, no whitespace,
UTF-8) of the summary object **without** its ``signature`` member, wire names (``from``,
``global``). The signature goes into ``signature`` as
``{"alg": "MLDSA65+Ed25519", "kid", "mldsa65", "ed25519"}``.

Anyone can verify a summary file however it was formatted: parse it, drop ``signature``,
serialise canonically, and check both signatures with the Secretariat's public signing key
named by ``kid`` (from a keyring or an exported public directory).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pydantic

from dief.crypto import (
    CONTEXT_CSP_SUMMARY,
    Signature,
    SigningKey,
    VerifyKey,
    canonical_json,
    verify,
)
from dief.exceptions import SignatureError
from dief.wire import CspSummary, unsigned_document

__all__ = [
    "VerifiedSummary",
    "sign_summary",
    "summary_content_hash",
    "summary_signing_bytes",
    "verify_summary",
]


def summary_signing_bytes(summary: CspSummary) -> bytes:
    """The bytes the Secretariat key signs: canonical JSON without ``signature``."""
    return canonical_json(unsigned_document(summary))


def summary_content_hash(summary: CspSummary) -> str:
    """SHA-256 (hex) of :func:`summary_signing_bytes`: equal for an unchanged summary."""
    return hashlib.sha256(summary_signing_bytes(summary)).hexdigest()


def sign_summary(summary: CspSummary, key: SigningKey) -> CspSummary:
    """*summary* with its ``signature`` (any previous one replaced)."""
    signature = key.sign(summary_signing_bytes(summary), context=CONTEXT_CSP_SUMMARY)
    return summary.model_copy(update={"signature": signature.model_dump()})


@dataclass(frozen=True, slots=True)
class VerifiedSummary:
    """What :func:`verify_summary` found: the summary and the key id that signed it."""

    summary: CspSummary
    kid: str


def verify_summary(
    document: bytes | str | Mapping[str, object],
    keys: VerifyKey | Mapping[str, VerifyKey] | Iterable[VerifyKey],
) -> VerifiedSummary:
    """Verify a signed summary (JSON text or parsed object) against *keys*.

    :raises SignatureError: with the reason — not JSON, no signature, malformed signature,
        unknown key, a signature that does not verify, or not a CSP summary.
    """
    if isinstance(document, Mapping):
        data = dict(document)
    else:
        try:
            parsed = json.loads(document)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SignatureError("the summary is not JSON", code="malformed") from exc
        if not isinstance(parsed, dict):
            raise SignatureError("the summary is not a JSON object", code="malformed")
        data = parsed
    raw_signature = data.pop("signature", None)
    if raw_signature is None:
        raise SignatureError("the summary is not signed (no signature)", code="unsigned")
    if not isinstance(raw_signature, Mapping):
        raise SignatureError("the summary's signature is not an object", code="malformed")
    signature = Signature.from_mapping(raw_signature)
    key = verify(keys, canonical_json(data), signature, context=CONTEXT_CSP_SUMMARY)
    try:
        summary = CspSummary.model_validate({**data, "signature": signature.model_dump()})
    except pydantic.ValidationError as exc:
        raise SignatureError(
            "the signature verifies but the document is not a CSP summary", code="malformed"
        ) from exc
    return VerifiedSummary(summary, key.kid)

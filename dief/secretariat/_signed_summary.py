"""Signing and verifying CSP summaries (DESIGN §7 ⚑ ``signature``, ``issue``, ``issued_at``).

The Secretariat signing key (ML-DSA-65 and Ed25519, context :data:`CONTEXT_CSP_SUMMARY`)
signs the RFC 8785 (JCS) canonical JSON of the summary object **without** its ``signature``
member, wire names (``from``, ``global``): numbers as JCS writes them (``1.0`` is ``1``),
keys sorted by UTF-16 code units, so a verifier in any language reproduces the bytes. The
signature goes into ``signature`` as ``{"alg": "MLDSA65+Ed25519", "kid", "mldsa65",
"ed25519"}``. ``issue`` numbers the issues of a cycle and ``issued_at`` says when the issue
was signed; both are signed.

Anyone can verify a summary file however it was formatted: parse it strictly (a repeated
key refuses the document: two parsers must never read two documents under one signature),
drop ``signature``, serialise with JCS, and check both signatures with the Secretariat's
public signing key named by ``kid`` (from the signed directory). A verifier that holds an
issue of the cycle refuses any issue that is not newer (``held_issue``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import pydantic
import rfc8785

from dief.crypto import CONTEXT_CSP_SUMMARY, Signature, SigningKey, VerifyKey, verify
from dief.exceptions import SignatureError
from dief.wire import CspSummary, loads_strict, unsigned_document

__all__ = [
    "VerifiedSummary",
    "next_issue",
    "sign_summary",
    "summary_content_hash",
    "summary_signing_bytes",
    "verify_summary",
]

#: Summary members that say which issue a document is, not what it reports.
_ISSUE_FIELDS = ("issue", "issued_at")


def jcs(value: object) -> bytes:
    """RFC 8785 canonical JSON of *value*.

    :raises SignatureError: (``malformed``) *value* has no JCS form (an integer beyond
        2**53, a NaN, a key that is not a string).
    """
    try:
        return rfc8785.dumps(value)  # type: ignore[arg-type]  # parsed JSON; checked by dumps
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise SignatureError("the document has no canonical JSON form", code="malformed") from exc


def summary_signing_bytes(summary: CspSummary) -> bytes:
    """The bytes the Secretariat key signs: JCS of the summary without ``signature``."""
    return jcs(unsigned_document(summary))


def summary_content_hash(summary: CspSummary) -> str:
    """SHA-256 (hex) of what the summary reports (JCS, without ``signature``, ``issue`` and
    ``issued_at``): equal for an unchanged summary, whichever issue carries it."""
    data = unsigned_document(summary)
    for name in _ISSUE_FIELDS:
        data.pop(name, None)
    return hashlib.sha256(jcs(data)).hexdigest()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign_summary(
    summary: CspSummary,
    key: SigningKey,
    *,
    issue: int | None = None,
    issued_at: datetime | None = None,
) -> CspSummary:
    """*summary* with its ``signature`` (any previous one replaced), numbered *issue*
    (default: the summary's own, 1 when new; see :func:`next_issue`) and stamped
    *issued_at* (default: now, UTC, to the second)."""
    number = summary.issue if issue is None else issue
    if type(number) is not int or number < 1:
        raise ValueError("an issue number is an integer >= 1")
    stamped = summary.model_copy(
        update={
            "issue": number,
            "issued_at": _stamp(issued_at or datetime.now(UTC)),
            "signature": None,
        }
    )
    signature = key.sign(summary_signing_bytes(stamped), context=CONTEXT_CSP_SUMMARY)
    return stamped.model_copy(update={"signature": signature.model_dump()})


def next_issue(held: str | bytes | CspSummary | None) -> int:
    """The issue number after the summary of the cycle published last (*held*: its JSON
    text or model; ``None``: no issue yet, so 1)."""
    if held is None:
        return 1
    if isinstance(held, CspSummary):
        return held.issue + 1
    try:
        document = loads_strict(held)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SignatureError("the summary held is not JSON", code="malformed") from exc
    issue = document.get("issue", 1) if isinstance(document, dict) else 1
    return (issue if type(issue) is int and issue >= 1 else 1) + 1


@dataclass(frozen=True, slots=True)
class VerifiedSummary:
    """What :func:`verify_summary` found: the summary and the key id that signed it."""

    summary: CspSummary
    kid: str


def _parse(document: bytes | str | Mapping[str, object]) -> dict[str, object]:
    if isinstance(document, Mapping):
        return dict(document)
    try:
        parsed = loads_strict(document)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise SignatureError(
            "the summary is not strict JSON (a repeated key is refused)", code="malformed"
        ) from exc
    if not isinstance(parsed, dict):
        raise SignatureError("the summary is not a JSON object", code="malformed")
    return parsed


def verify_summary(
    document: bytes | str | Mapping[str, object],
    keys: VerifyKey | Mapping[str, VerifyKey] | Iterable[VerifyKey],
    *,
    held_issue: int | None = None,
) -> VerifiedSummary:
    """Verify a signed summary (JSON text or parsed object) against *keys*; with
    *held_issue* (the newest issue of the cycle the caller holds), only a newer issue.

    :raises SignatureError: with the reason — not strict JSON (``malformed``, a repeated
        key included), no signature (``unsigned``), malformed signature, unknown key, a
        signature that does not verify, not a CSP summary, or an issue not newer than
        *held_issue* (``replayed``).
    """
    data = _parse(document)
    raw_signature = data.pop("signature", None)
    if raw_signature is None:
        raise SignatureError("the summary is not signed (no signature)", code="unsigned")
    if not isinstance(raw_signature, Mapping):
        raise SignatureError("the summary's signature is not an object", code="malformed")
    signature = Signature.from_mapping(raw_signature)
    key = verify(keys, jcs(data), signature, context=CONTEXT_CSP_SUMMARY)
    try:
        summary = CspSummary.model_validate({**data, "signature": signature.model_dump()})
    except pydantic.ValidationError as exc:
        raise SignatureError(
            "the signature verifies but the document is not a CSP summary", code="malformed"
        ) from exc
    if held_issue is not None and summary.issue <= held_issue:
        raise SignatureError(
            f"issue {summary.issue} of {summary.cycle} is not newer than issue {held_issue} "
            "held: an older issue replayed",
            code="replayed",
        )
    return VerifiedSummary(summary, key.kid)

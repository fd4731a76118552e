"""Signed statements about keys: endorsements, certificates, registrations (DESIGN §4).

Every signature here is a composite ML-DSA-65 + Ed25519 signature (:func:`dief.crypto.sign_json`)
over the JCS canonical JSON of a document without its ``signature`` member, under a context
of its own. A key's **statement** is ``{"format": "dief-key-statement/1", "role", "region",
"cycle", "kid", "alg", "public", "by"}``: it names the endorsement kind, so a signature made
as a predecessor never counts as a recovery signature or the reverse.
"""

from __future__ import annotations

import hashlib
from typing import TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from dief.crypto import Signature, SigningKey, VerifyKey, b64url_decode, sign_json, verify_json
from dief.exceptions import ConfigurationError, DirectoryError, SignatureError
from dief.wire import (
    CONTEXT_KEY_ENDORSEMENT,
    DirectoryKey,
    Endorsement,
    EndorsementKind,
    loads_strict,
    unsigned_document,
)

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "endorse",
    "endorsement_signature",
    "key_statement",
    "normalise_fingerprint",
    "parse_strict",
    "root_fingerprint",
    "sign_document",
    "signature_of",
    "verify_document",
    "verify_endorsement",
    "verify_key_of",
]

#: A directory (or any file of this module) larger than this is refused unread.
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
_M = TypeVar("_M", bound=BaseModel)
_SHA256_HEX_DIGITS = 64


def parse_strict(raw: bytes | str, model: type[_M], *, what: str) -> _M:
    """Parse *raw* as strict JSON (duplicate keys, NaN and Infinity refused) into *model*."""
    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DirectoryError(
            f"the {what} is larger than {MAX_DOCUMENT_BYTES} bytes", code="malformed"
        )
    try:
        document = loads_strict(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DirectoryError(
            f"the {what} is not strict UTF-8 JSON (duplicate keys are refused)", code="malformed"
        ) from exc
    try:
        return model.model_validate(document)
    except PydanticValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"]) if exc.errors() else ""
        raise DirectoryError(
            f"the {what} is not a valid {model.__name__} (at {where or 'top level'})",
            code="malformed",
        ) from exc


def root_fingerprint(root: VerifyKey | bytes) -> str:
    """The root's fingerprint: lower-case hex SHA-256 of its public bytes (64 characters)."""
    public = root.public_bytes() if isinstance(root, VerifyKey) else bytes(root)
    return hashlib.sha256(public).hexdigest()


def normalise_fingerprint(text: str) -> str:
    """*text* as 64 lower-case hex digits (``sha256:`` prefix, colons and spaces dropped)."""
    value = text.strip().lower().removeprefix("sha256:").replace(":", "").replace(" ", "")
    if len(value) != _SHA256_HEX_DIGITS or any(c not in "0123456789abcdef" for c in value):
        raise ConfigurationError("a root fingerprint is 64 hex digits (SHA-256)")
    return value


def signature_of(document: BaseModel, *, what: str) -> Signature:
    """The document's ``signature`` member as a :class:`Signature`; unsigned is refused."""
    raw = getattr(document, "signature", None)
    if raw is None:
        raise DirectoryError(f"the {what} is not signed", code="unsigned")
    try:
        return Signature.from_mapping(raw)
    except SignatureError as exc:
        raise DirectoryError(f"the {what} has a malformed signature", code="bad_signature") from exc


def sign_document(document: _M, key: SigningKey, *, context: str) -> _M:
    """*document* with its ``signature`` member set by *key* over the rest."""
    signature = sign_json(key, unsigned_document(document), context=context)
    return document.model_copy(update={"signature": signature.model_dump()})


def verify_document(document: BaseModel, key: VerifyKey, *, context: str, what: str) -> None:
    """Raise :class:`DirectoryError` unless *document* is signed by *key* under *context*."""
    signature = signature_of(document, what=what)
    try:
        verify_json(key, unsigned_document(document), signature, context=context)
    except SignatureError as exc:
        raise DirectoryError(f"the {what} signature does not verify", code="bad_signature") from exc


def verify_key_of(public_b64: str, *, what: str) -> VerifyKey:
    try:
        return VerifyKey(b64url_decode(public_b64))
    except (ValueError, ConfigurationError) as exc:
        raise DirectoryError(f"the {what} is not a valid signing key", code="malformed") from exc


def key_statement(key: DirectoryKey, by: EndorsementKind) -> dict[str, object]:
    return {
        "format": "dief-key-statement/1",
        "role": key.role.value,
        "region": key.region,
        "cycle": key.cycle,
        "kid": key.kid,
        "alg": key.alg,
        "public": key.public,
        "by": by.value,
    }


def endorse(key: DirectoryKey, signer: SigningKey, by: EndorsementKind) -> DirectoryKey:
    """*key* with an endorsement of kind *by* by *signer* (replacing one by the same key)."""
    signature = sign_json(signer, key_statement(key, by), context=CONTEXT_KEY_ENDORSEMENT)
    kept = tuple(
        e for e in key.endorsements if not (e.by is by and e.signature.get("kid") == signer.kid)
    )
    added = Endorsement(by=by, signature=signature.model_dump())
    return key.model_copy(update={"endorsements": (*kept, added)})


def endorsement_signature(endorsement: Endorsement) -> Signature | None:
    try:
        return Signature.from_mapping(endorsement.signature)
    except SignatureError:
        return None


def verify_endorsement(key: DirectoryKey, endorsement: Endorsement, signer: VerifyKey) -> bool:
    """Whether *endorsement* of *key* verifies under *signer*."""
    signature = endorsement_signature(endorsement)
    if signature is None or signature.kid != signer.kid:
        return False
    try:
        verify_json(
            signer,
            key_statement(key, endorsement.by),
            signature,
            context=CONTEXT_KEY_ENDORSEMENT,
        )
    except SignatureError:
        return False
    return True

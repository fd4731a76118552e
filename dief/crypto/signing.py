r"""Detached composite signatures: ML-DSA-65 *and* Ed25519 (DESIGN §4).

Both algorithms sign the same to-be-signed bytes::

    tbs = b"dief/v1/signature/" + context + b"\x00" + payload

where *payload* is the caller's canonical bytes (use :func:`dief.crypto.canonical_json` for
JSON documents, without their own ``signature`` field) and *context* names what is signed
(``dief.digest``, ``dief.csp-summary``...), so a signature over one kind of document never
verifies as another. ML-DSA-65 is FIPS 204 "pure" mode with an empty context string;
Ed25519 is RFC 8032 pure Ed25519. :func:`verify` fails with
:class:`dief.exceptions.SignatureError` unless **both** verify (hybrid: safe while either
algorithm stands).

The signature value serialises to JSON as::

    {"alg": "MLDSA65+Ed25519", "kid": "<key id>", "mldsa65": "<base64url>",
     "ed25519": "<base64url>"}

``kid`` is the key id (:func:`dief.crypto.key_id`) of the verify key's public bytes: the raw
ML-DSA-65 public key (1,952 bytes) followed by the raw Ed25519 public key (32 bytes).
Signing keys store as 64 private bytes: the ML-DSA-65 seed (32) then the Ed25519 key (32).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from dief.crypto._encoding import b64url_decode, b64url_encode, canonical_json
from dief.crypto.keys import key_id
from dief.exceptions import ConfigurationError, SignatureError

__all__ = [
    "CONTEXT_CSP_SUMMARY",
    "CONTEXT_DIGEST",
    "DEFAULT_CONTEXT",
    "SIGNATURE_ALG",
    "Signature",
    "SigningKey",
    "VerifyKey",
    "sign",
    "sign_json",
    "verify",
    "verify_json",
]

SIGNATURE_ALG = "MLDSA65+Ed25519"
DEFAULT_CONTEXT = "dief"
CONTEXT_DIGEST = "dief.digest"
CONTEXT_CSP_SUMMARY = "dief.csp-summary"

_MLDSA65_PUBLIC_LEN = 1952
_ED25519_LEN = 32
_MLDSA_SEED_LEN = 32
_B64URL = r"^[A-Za-z0-9_-]*={0,2}$"


def _tbs(payload: bytes, context: str) -> bytes:
    if not context or not context.isascii() or "\x00" in context:
        raise ConfigurationError("signature context must be non-empty ASCII without NUL")
    return b"dief/v1/signature/" + context.encode("ascii") + b"\x00" + bytes(payload)


class Signature(BaseModel):
    """A detached ML-DSA-65 + Ed25519 signature (JSON-serialisable, frozen)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="DIEF composite signature")

    alg: Literal["MLDSA65+Ed25519"] = Field(description="Both signatures are required")
    kid: str = Field(
        pattern=r"^[a-z2-7]{20}$",
        description="Key id of the verify key (ML-DSA-65 public + Ed25519 public)",
    )
    mldsa65: str = Field(pattern=_B64URL, description="base64url ML-DSA-65 signature")
    ed25519: str = Field(pattern=_B64URL, description="base64url Ed25519 signature")

    def to_json(self) -> str:
        """Canonical JSON text of the signature."""
        return canonical_json(self.model_dump()).decode("utf-8")

    @classmethod
    def from_json(cls, text: str | bytes) -> Signature:
        """Parse a signature; raise :class:`SignatureError` if it is not one."""
        try:
            return cls.model_validate_json(text)
        except PydanticValidationError as exc:
            raise SignatureError("malformed signature object") from exc

    @classmethod
    def from_mapping(cls, value: Mapping[str, object]) -> Signature:
        """Build from a parsed JSON object; raise :class:`SignatureError` if it is not one."""
        try:
            return cls.model_validate(dict(value))
        except PydanticValidationError as exc:
            raise SignatureError("malformed signature object") from exc


class VerifyKey:
    """Public half of a signing key pair. ``repr`` shows the key id only."""

    __slots__ = ("_ed", "_kid", "_mldsa", "_raw")

    def __init__(self, public_bytes: bytes) -> None:
        if len(public_bytes) != _MLDSA65_PUBLIC_LEN + _ED25519_LEN:
            raise ConfigurationError("signing public key has the wrong length")
        raw = bytes(public_bytes)
        try:
            self._mldsa = mldsa.MLDSA65PublicKey.from_public_bytes(raw[:_MLDSA65_PUBLIC_LEN])
            self._ed = ed25519.Ed25519PublicKey.from_public_bytes(raw[_MLDSA65_PUBLIC_LEN:])
        except ValueError as exc:
            raise ConfigurationError("invalid signing public key") from exc
        self._raw = raw
        self._kid = key_id(raw)

    @property
    def kid(self) -> str:
        """The key id: a hash of the composite public bytes."""
        return self._kid

    @property
    def alg(self) -> str:
        """The composite signature algorithm's name."""
        return SIGNATURE_ALG

    def public_bytes(self) -> bytes:
        """The raw composite public bytes (ML-DSA-65 then Ed25519); public, safe to publish."""
        return self._raw

    def verify(
        self, payload: bytes, signature: Signature, *, context: str = DEFAULT_CONTEXT
    ) -> None:
        """Raise :class:`SignatureError` unless both signatures over *payload* verify."""
        if signature.kid != self._kid:
            raise SignatureError(f"signature is by key {signature.kid!r}, not {self._kid!r}")
        tbs = _tbs(payload, context)
        try:
            self._mldsa.verify(b64url_decode(signature.mldsa65), tbs)
            self._ed.verify(b64url_decode(signature.ed25519), tbs)
        except (InvalidSignature, ValueError) as exc:
            raise SignatureError(f"signature by key {self._kid!r} does not verify") from exc

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VerifyKey):
            return NotImplemented
        return self._raw == other._raw

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return f"VerifyKey(kid={self._kid!r}, alg={SIGNATURE_ALG!r})"


class SigningKey:
    """Private signing key pair (ML-DSA-65 + Ed25519). ``repr`` shows the key id only."""

    __slots__ = ("_ed", "_mldsa", "_secret", "_verify")

    def __init__(self, secret_bytes: bytes) -> None:
        if len(secret_bytes) != _MLDSA_SEED_LEN + _ED25519_LEN:
            raise ConfigurationError("signing private key has the wrong length")
        secret = bytes(secret_bytes)
        try:
            self._mldsa = mldsa.MLDSA65PrivateKey.from_seed_bytes(secret[:_MLDSA_SEED_LEN])
            self._ed = ed25519.Ed25519PrivateKey.from_private_bytes(secret[_MLDSA_SEED_LEN:])
        except ValueError as exc:
            raise ConfigurationError("invalid signing private key") from exc
        self._secret = secret
        self._verify = VerifyKey(
            self._mldsa.public_key().public_bytes_raw() + self._ed.public_key().public_bytes_raw()
        )

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh random composite key."""
        return cls(
            mldsa.MLDSA65PrivateKey.generate().private_bytes_raw()
            + ed25519.Ed25519PrivateKey.generate().private_bytes_raw()
        )

    @property
    def kid(self) -> str:
        """The key id of the verify key."""
        return self._verify.kid

    @property
    def alg(self) -> str:
        """The composite signature algorithm's name."""
        return SIGNATURE_ALG

    @property
    def verify_key(self) -> VerifyKey:
        """The public half, safe to publish."""
        return self._verify

    def secret_bytes(self) -> bytes:
        """The 64 raw private bytes. Only for encrypted storage."""
        return self._secret

    def sign(self, payload: bytes, *, context: str = DEFAULT_CONTEXT) -> Signature:
        """Detached signature over *payload* (both algorithms)."""
        tbs = _tbs(payload, context)
        return Signature(
            alg=SIGNATURE_ALG,
            kid=self.kid,
            mldsa65=b64url_encode(self._mldsa.sign(tbs)),
            ed25519=b64url_encode(self._ed.sign(tbs)),
        )

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r}, alg={SIGNATURE_ALG!r})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("private keys cannot be pickled")


def sign(key: SigningKey, payload: bytes, *, context: str = DEFAULT_CONTEXT) -> Signature:
    """Sign canonical *payload* bytes with *key*."""
    return key.sign(payload, context=context)


def verify(
    keys: VerifyKey | Mapping[str, VerifyKey] | Iterable[VerifyKey],
    payload: bytes,
    signature: Signature,
    *,
    context: str = DEFAULT_CONTEXT,
) -> VerifyKey:
    """Verify *signature* over *payload* with the key named by its ``kid``; return that key.

    *keys* is one key, keys by kid, or any iterable of keys (e.g. all non-retired verify keys
    of a role). Raises :class:`SignatureError` if the kid is unknown or either signature fails.
    """
    if isinstance(keys, VerifyKey):
        by_kid = {keys.kid: keys}
    elif isinstance(keys, Mapping):
        by_kid = dict(keys)
    else:
        by_kid = {key.kid: key for key in keys}
    key = by_kid.get(signature.kid)
    if key is None:
        raise SignatureError(f"signature key {signature.kid!r} is not a trusted verify key")
    key.verify(payload, signature, context=context)
    return key


def sign_json(key: SigningKey, document: object, *, context: str = DEFAULT_CONTEXT) -> Signature:
    """Sign the canonical JSON of *document*."""
    return key.sign(canonical_json(document), context=context)


def verify_json(
    keys: VerifyKey | Mapping[str, VerifyKey] | Iterable[VerifyKey],
    document: object,
    signature: Signature,
    *,
    context: str = DEFAULT_CONTEXT,
) -> VerifyKey:
    """Verify a signature over the canonical JSON of *document*."""
    return verify(keys, canonical_json(document), signature, context=context)

"""Constants and value objects shared by the sealing and opening sides (see
:mod:`dief.crypto.envelope`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dief.exceptions import ConfigurationError
from dief.wire import TYPE_CASE, TYPE_DIGEST

__all__ = [
    "DEFAULT_CACHE_SIZE",
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_RECORDS",
    "DEFAULT_SCHEMAS",
    "RECEIPT_ID_LABEL",
    "RECEIPT_KEY_LABEL",
    "CacheInfo",
    "OpenedEnvelope",
    "SealedRecord",
    "check_schema",
    "hpke_info",
    "receipt_id",
    "receipt_key",
]

DEFAULT_SCHEMAS: Mapping[str, frozenset[int]] = {
    TYPE_CASE: frozenset({1}),
    TYPE_DIGEST: frozenset({1}),
}
"""Payload schema versions an :class:`Opener` accepts by default, per payload type."""

DEFAULT_MAX_RECORDS = 100_000
DEFAULT_MAX_AGE = 3600.0
DEFAULT_CACHE_SIZE = 1024

NONCE_LEN = 12
DEK_LEN = 32
TAG_LEN = 16
MAX_RECORDS_LIMIT = 2**32  # random 96-bit nonces: NIST SP 800-38D §8.3 bound per key
ENVELOPE_FIELDS = frozenset(
    {"v", "type", "schema", "id", "region", "suite", "recipients", "nonce", "ciphertext"}
)
RECIPIENT_FIELDS = frozenset({"kid", "wrapped"})


#: HKDF ``info`` of a record's receipt key (DESIGN §8 ⚑).
RECEIPT_KEY_LABEL = b"dief/v1/receipt"
#: What a receipt id hashes, before the envelope id.
RECEIPT_ID_LABEL = b"dief/v1/receipt-id/"


def receipt_key(dek: bytes) -> bytes:
    """The receipt key of a record sealed under *dek*: HKDF-SHA256 (RFC 5869) with the DEK
    as input keying material, an empty salt and ``info = b"dief/v1/receipt"``, 32 bytes.

    Only the sealing node and the aggregator that unwrapped the DEK can compute it. A
    sealer that reuses a DEK for several records gives them one receipt key.
    """
    if len(dek) != DEK_LEN:
        raise ConfigurationError(f"a data key is {DEK_LEN} bytes")
    return HKDF(algorithm=hashes.SHA256(), length=DEK_LEN, salt=b"", info=RECEIPT_KEY_LABEL).derive(
        dek
    )


def receipt_id(envelope_id: str) -> str:
    """A record's receipt id: hex SHA-256 of ``b"dief/v1/receipt-id/" + envelope id``
    (the key of its receipts on ``dief.receipts``)."""
    return hashlib.sha256(RECEIPT_ID_LABEL + envelope_id.encode("utf-8")).hexdigest()


def hpke_info(payload_type: str, region: str) -> bytes:
    """HPKE ``info`` for a data key: ``b"dief/v1/dek/" + type + b"/" + region``."""
    return b"dief/v1/dek/" + payload_type.encode("utf-8") + b"/" + region.encode("utf-8")


@dataclass(frozen=True, slots=True)
class OpenedEnvelope:
    """What :meth:`Opener.open` returns. ``repr`` leaves the payload out."""

    type: str
    schema: int
    id: str
    region: str
    suite: str
    kid: str
    """Key id of the held key that unwrapped the data key."""
    payload: bytes = field(repr=False)
    receipt_key: bytes = field(repr=False)
    """The record's receipt key (:func:`receipt_key` of the data key that opened it)."""


@dataclass(frozen=True, slots=True)
class SealedRecord:
    """What :meth:`Sealer.seal_with_receipt` returns: the envelope bytes, its id and the
    record's receipt key. ``repr`` leaves the value and the key out."""

    value: bytes = field(repr=False)
    envelope_id: str
    receipt_key: bytes = field(repr=False)

    @property
    def receipt_id(self) -> str:
        return receipt_id(self.envelope_id)


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """Opener DEK-cache statistics."""

    hits: int
    misses: int
    size: int
    maxsize: int


def check_schema(schema: int) -> None:
    if type(schema) is not int or schema < 1:
        raise ConfigurationError("payload schema version must be an integer >= 1")

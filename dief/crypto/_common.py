"""Constants and value objects shared by the sealing and opening sides (see
:mod:`dief.crypto.envelope`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dief.exceptions import ConfigurationError, PaddingError, ValidationError
from dief.wire import CASE_PADDED_SIZES, CASE_SCHEMA_VERSION, TYPE_CASE, TYPE_DIGEST

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

__all__ = [
    "DEFAULT_CACHE_SIZE",
    "DEFAULT_PADDED_SIZES",
    "DEFAULT_SCHEMAS",
    "MIN_PADDED_SIZE",
    "PADDING_BYTE",
    "RECEIPT_ID_LABEL",
    "RECEIPT_KEY_LABEL",
    "CacheInfo",
    "OpenedEnvelope",
    "PaddingRule",
    "SealedRecord",
    "check_schema",
    "hpke_info",
    "receipt_id",
    "receipt_key",
]

DEFAULT_SCHEMAS: Mapping[str, frozenset[int]] = {
    TYPE_CASE: frozenset({CASE_SCHEMA_VERSION}),
    TYPE_DIGEST: frozenset({1}),
}
"""Payload schema versions an :class:`Opener` accepts by default, per payload type. Case
records: schema 3 only. Schema 1 (before the trust model) and schema 2 (which existed only
inside the unreleased round that introduced schema 3; no deployed node sends it) are
refused before anything else, ``unsupported_version`` (docs/case-model.md)."""

DEFAULT_CACHE_SIZE = 1024
"""Unwrapped DEKs an :class:`Opener` keeps. Every record has its own DEK, so the cache only
helps when the same record is opened again (a redelivery, a replay, lessons re-read)."""

MIN_PADDED_SIZE = 1024
"""The smallest padded payload size of the power-of-two rule (DESIGN §3 ⚑)."""
PADDING_BYTE = b" "

DEFAULT_PADDED_SIZES: Mapping[str, frozenset[int]] = {
    TYPE_CASE: frozenset(CASE_PADDED_SIZES),
}
"""Allowed padded payload sizes per payload type, for sealers and openers by default: case
records have their two fixed sizes (:data:`dief.wire.CASE_PADDED_SIZES`, without and with a
lesson); a type not listed (digests, summaries, credential requests and answers, route
tables) pads to the next power of two from :data:`MIN_PADDED_SIZE` bytes."""

NONCE_LEN = 12
DEK_LEN = 32
TAG_LEN = 16
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

    Only the sealing node and the aggregator that unwrapped the DEK can compute it. Every
    record has its own DEK, so every record has its own receipt key.
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


def _power_of_two_size(length: int) -> int:
    """The next power of two from :data:`MIN_PADDED_SIZE` that holds *length* bytes."""
    return max(MIN_PADDED_SIZE, 1 << max(0, length - 1).bit_length())


@dataclass(frozen=True, slots=True)
class PaddingRule:
    """The padded sizes allowed for one payload type (DESIGN §3 ⚑): a fixed set, or, when
    ``sizes`` is ``None``, every power of two from :data:`MIN_PADDED_SIZE` bytes.

    The padding is trailing spaces (0x20). Payloads are JSON objects, so a payload ends at
    its last ``}``: every byte after the last ``}`` must be a space (a payload without any
    ``}`` is taken to end at its last byte that is not a space).
    """

    sizes: frozenset[int] | None = None

    @classmethod
    def of(cls, payload_type: str, sizes: Mapping[str, Collection[int]]) -> PaddingRule:
        """The rule of *payload_type* in *sizes* (the power-of-two rule when not listed)."""
        listed = sizes.get(payload_type)
        if listed is None:
            return cls()
        allowed = frozenset(listed)
        if not allowed or any(type(n) is not int or n < 1 for n in allowed):
            raise ConfigurationError(f"padded sizes of {payload_type} must be positive integers")
        return cls(allowed)

    def allows(self, length: int) -> bool:
        if self.sizes is not None:
            return length in self.sizes
        return length >= MIN_PADDED_SIZE and length & (length - 1) == 0

    def size_for(self, length: int) -> int:
        """The smallest allowed size that holds *length* bytes.

        :raises ValidationError: (``record_too_large``) no allowed size does.
        """
        if self.sizes is None:
            return _power_of_two_size(length)
        fitting = [n for n in self.sizes if n >= length]
        if not fitting:
            raise _too_large(length, max(self.sizes))
        return min(fitting)

    def check_pad_to(self, pad_to: int, length: int) -> int:
        """*pad_to*, checked: an allowed size that holds *length* bytes."""
        if type(pad_to) is not int or not self.allows(pad_to):
            raise ConfigurationError("pad_to is not a padded size receivers accept for this type")
        if length > pad_to:
            raise _too_large(length, pad_to)
        return pad_to

    def unpad(self, padded: bytes) -> bytes:
        """*padded* without its padding.

        :raises PaddingError: its length is not allowed, or a byte after the payload is not
            a space.
        """
        if not self.allows(len(padded)):
            raise PaddingError(f"payload of {len(padded)} bytes is not an allowed padded size")
        payload = padded.rstrip(PADDING_BYTE)
        end = payload.rfind(b"}")
        if end != -1 and end != len(payload) - 1:
            raise PaddingError("the payload is followed by bytes that are not spaces")
        return payload


def _too_large(length: int, limit: int) -> ValidationError:
    return ValidationError(
        f"the record is {length} bytes, larger than its padded size of {limit} bytes",
        code="record_too_large",
    )

"""Constants and value objects shared by the sealing and opening sides (see
:mod:`dief.crypto.envelope`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dief.exceptions import ConfigurationError
from dief.wire import TYPE_CASE, TYPE_DIGEST

__all__ = [
    "DEFAULT_CACHE_SIZE",
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_RECORDS",
    "DEFAULT_SCHEMAS",
    "CacheInfo",
    "OpenedEnvelope",
    "check_schema",
    "hpke_info",
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

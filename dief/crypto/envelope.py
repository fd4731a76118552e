"""Sealing and opening the sealed envelope v1 (DESIGN §3 ⚑).

Wire form (see :mod:`dief.wire`)::

    {"v": 1, "type": "dief.case", "schema": 3, "id": "<uuid4>", "region": "AFR",
     "suite": "MLKEM768X25519-HKDFSHA256-AES256GCM",
     "recipients": [{"kid": "...", "wrapped": "<base64url>"}, ...],
     "nonce": "<base64url, 12 bytes>", "ciphertext": "<base64url>"}

* content: AES-256-GCM under a random 256-bit data key (DEK), 12-byte random nonce;
  associated data = canonical JSON (:func:`dief.crypto.canonical_json`) of every field except
  ``ciphertext``, i.e. of the fields *as they appear on the wire*;
* DEK wrapping: RFC 9180 HPKE single-shot, ``info = b"dief/v1/dek/" + type + b"/" + region``;
* base64url: written without padding, read with or without (strict, canonical only).

Data keys (DESIGN §3 ⚑). Every :meth:`Sealer.seal` draws a fresh DEK and wraps it to each
recipient (HPKE base mode, single-shot): no two records share a ``wrapped`` value, a DEK or a
receipt key, so nothing in clear links two records beyond their type, region, suite,
``v`` and ``schema`` (a reused DEK put the same ``wrapped`` text on every record it sealed,
linking them for every reader of the topic). An :class:`Opener` keeps unwrapped DEKs in a
bounded LRU cache, which now only helps when the same record is opened again (a
redelivery, a dead-letter replay, lessons read again). The cache key is *every input of
the unwrap*, compared exactly — suite, recipient kid, the type and region that make the
HPKE ``info``, and the ``wrapped`` text — so a hit means the very same HPKE decryption
already succeeded and opening with a warm cache accepts exactly what opening with a cold
one accepts.

Padding (DESIGN §3 ⚑). The payload (compact UTF-8 JSON) is padded with trailing spaces
(0x20) before encryption: to the size the caller names (``pad_to``; the node names one of
the two case-record sizes, ``dief.wire.CASE_PADDED_SIZES``), or by default to the smallest
size the type allows — every power of two from 1,024 bytes for a type without fixed sizes
(:data:`DEFAULT_PADDED_SIZES`). A payload that does not fit is refused
(``ValidationError``, code ``record_too_large``). The opener checks, after AES-GCM, that the
plaintext's length is an allowed size for its type and that every byte after the payload's
closing ``}`` is a space (:class:`dief.exceptions.PaddingError`, ``bad_padding``), and
returns the payload without the padding. Signatures inside payloads never cover the
padding.

Opening checks, in order: size (before parsing); UTF-8 JSON object; ``v``; ``type`` and the
payload ``schema`` against the supported set (so a future envelope version or schema is
reported as such even if its shape changed); the rest of the shape; ``suite``; the
recipients against the held kids; base64; HPKE unwrap; the associated data (written field by
field, byte-identical to :func:`dief.crypto.canonical_json`; a lone surrogate, which has no
UTF-8 form, is malformed); AES-GCM; the padding. Each failure has its own
:class:`dief.exceptions.EnvelopeError` subclass.

Receipts (DESIGN §8 ⚑). Each record's receipt key is HKDF-SHA256 of its DEK (empty salt,
``info = b"dief/v1/receipt"``): :meth:`Sealer.seal_with_receipt` returns it with the
envelope, and :class:`OpenedEnvelope` carries it (derived once per unwrap and cached beside
the DEK, so a cache hit costs nothing more); every record has its own.

Neither class is thread-safe; use one per thread or event loop.
"""

from dief.crypto._common import (
    DEFAULT_CACHE_SIZE,
    DEFAULT_PADDED_SIZES,
    DEFAULT_SCHEMAS,
    MIN_PADDED_SIZE,
    CacheInfo,
    OpenedEnvelope,
    PaddingRule,
    SealedRecord,
    hpke_info,
    receipt_id,
    receipt_key,
)
from dief.crypto._opener import Opener
from dief.crypto._sealer import Sealer

__all__ = [
    "DEFAULT_CACHE_SIZE",
    "DEFAULT_PADDED_SIZES",
    "DEFAULT_SCHEMAS",
    "MIN_PADDED_SIZE",
    "CacheInfo",
    "OpenedEnvelope",
    "Opener",
    "PaddingRule",
    "SealedRecord",
    "Sealer",
    "hpke_info",
    "receipt_id",
    "receipt_key",
]

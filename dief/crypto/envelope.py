"""Sealing and opening the sealed envelope v1 (DESIGN §3 ⚑).

Wire form (see :mod:`dief.wire`)::

    {"v": 1, "type": "dief.case", "schema": 1, "id": "<uuid4>", "region": "AFR",
     "suite": "MLKEM768X25519-HKDFSHA256-AES256GCM",
     "recipients": [{"kid": "...", "wrapped": "<base64url>"}, ...],
     "nonce": "<base64url, 12 bytes>", "ciphertext": "<base64url>"}

* content: AES-256-GCM under a random 256-bit data key (DEK), 12-byte random nonce;
  associated data = canonical JSON (:func:`dief.crypto.canonical_json`) of every field except
  ``ciphertext``, i.e. of the fields *as they appear on the wire*;
* DEK wrapping: RFC 9180 HPKE single-shot, ``info = b"dief/v1/dek/" + type + b"/" + region``;
* base64url: written without padding, read with or without (strict, canonical only).

Reuse. A :class:`Sealer` keeps one DEK, and its wrapped forms, for up to ``max_records``
records or ``max_age`` seconds (whichever comes first), so a seal costs one AES-GCM plus
string joins. An :class:`Opener` keeps the unwrapped DEKs in a bounded LRU cache. The cache
key is *every input of the unwrap*, compared exactly — suite, recipient kid, the type and
region that make the HPKE ``info``, and the ``wrapped`` text — not ``wrapped`` alone: a hit
then means the very same HPKE decryption already succeeded, so opening with a warm cache
accepts exactly what opening with a cold one accepts. Keyed by ``wrapped`` alone, a sender
that knows a DEK (any sealer does) could re-use a wrapped DEK under a different recipient
kid, type or region and have it accepted only while the cache is warm. Everything else in
the header is bound by the AES-GCM associated data, cached DEK or not.

Opening checks, in order: size (before parsing); UTF-8 JSON object; ``v``; ``type`` and the
payload ``schema`` against the supported set (so a future envelope version or schema is
reported as such even if its shape changed); the rest of the shape; ``suite``; the
recipients against the held kids; base64; HPKE unwrap; the associated data (written field by
field, byte-identical to :func:`dief.crypto.canonical_json`; a lone surrogate, which has no
UTF-8 form, is malformed); AES-GCM. Each failure has its own
:class:`dief.exceptions.EnvelopeError` subclass.

Receipts (DESIGN §8 ⚑). Each record's receipt key is HKDF-SHA256 of its DEK (empty salt,
``info = b"dief/v1/receipt"``): :meth:`Sealer.seal_with_receipt` returns it with the
envelope, and :class:`OpenedEnvelope` carries it (derived once per unwrap and cached beside
the DEK, so a cache hit costs nothing more). While a sealer reuses a DEK, the records
sealed under it share one receipt key.

Neither class is thread-safe; use one per thread or event loop.
"""

from dief.crypto._common import (
    DEFAULT_CACHE_SIZE,
    DEFAULT_MAX_AGE,
    DEFAULT_MAX_RECORDS,
    DEFAULT_SCHEMAS,
    CacheInfo,
    OpenedEnvelope,
    SealedRecord,
    hpke_info,
    receipt_id,
    receipt_key,
)
from dief.crypto._opener import Opener
from dief.crypto._sealer import Sealer

__all__ = [
    "DEFAULT_CACHE_SIZE",
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_RECORDS",
    "DEFAULT_SCHEMAS",
    "CacheInfo",
    "OpenedEnvelope",
    "Opener",
    "SealedRecord",
    "Sealer",
    "hpke_info",
    "receipt_id",
    "receipt_key",
]

"""Cryptography core: sealed envelopes (DESIGN §3 ⚑), composite signatures and keys (§4).

Public surface:

* :class:`Sealer` / :class:`Opener` / :class:`OpenedEnvelope` / :class:`SealedRecord` —
  sealed envelope v1;
* :func:`receipt_key` / :func:`receipt_id` / :func:`seal_receipt` / :func:`open_receipt` —
  receipts (DESIGN §8 ⚑), keyed by a hash of the envelope id, sealed under a key derived
  from the record's data key;
* :class:`KemPublicKey` / :class:`KemPrivateKey` / :func:`key_id` — KEM keys and key ids;
* :class:`SigningKey` / :class:`VerifyKey` / :class:`Signature` / :func:`sign` /
  :func:`verify` — ML-DSA-65 + Ed25519 detached signatures;
* :class:`BlindRsaVariant` (the four RFC 9474 variants, e.g.
  :data:`RSABSSA_SHA384_PSS_RANDOMIZED`, with ``prepare``/``blind``/``blind_sign``/
  ``finalize``/``verify``) / :class:`BlindedMessage` — RSA blind signatures for contributor
  credentials (DESIGN §5);
* :func:`canonical_json`, :func:`b64url_encode`, :func:`b64url_decode` — shared encodings.

Keyrings (files, passphrases, rotation) live in :mod:`dief.keyring`; the envelope's JSON shape
and payload types in :mod:`dief.wire`; injectable time in :mod:`dief.seams`.
"""

from __future__ import annotations

from dief.crypto._blindrsa import (
    BLIND_RSA_VARIANTS,
    RSABSSA_SHA384_PSS_DETERMINISTIC,
    RSABSSA_SHA384_PSS_RANDOMIZED,
    RSABSSA_SHA384_PSSZERO_DETERMINISTIC,
    RSABSSA_SHA384_PSSZERO_RANDOMIZED,
    BlindedMessage,
    BlindRsaVariant,
)
from dief.crypto._encoding import b64url_decode, b64url_encode, canonical_json
from dief.crypto._receipt import RECEIPT_VALUE_BYTES, open_receipt, seal_receipt
from dief.crypto.envelope import (
    DEFAULT_CACHE_SIZE,
    DEFAULT_PADDED_SIZES,
    DEFAULT_SCHEMAS,
    MIN_PADDED_SIZE,
    CacheInfo,
    OpenedEnvelope,
    Opener,
    PaddingRule,
    SealedRecord,
    Sealer,
    hpke_info,
    receipt_id,
    receipt_key,
)
from dief.crypto.keys import SUITES, KemPrivateKey, KemPublicKey, key_id
from dief.crypto.signing import (
    CONTEXT_CSP_SUMMARY,
    CONTEXT_DIGEST,
    SIGNATURE_ALG,
    Signature,
    SigningKey,
    VerifyKey,
    sign,
    sign_json,
    verify,
    verify_json,
)

__all__ = [
    "BLIND_RSA_VARIANTS",
    "CONTEXT_CSP_SUMMARY",
    "CONTEXT_DIGEST",
    "DEFAULT_CACHE_SIZE",
    "DEFAULT_PADDED_SIZES",
    "DEFAULT_SCHEMAS",
    "MIN_PADDED_SIZE",
    "RECEIPT_VALUE_BYTES",
    "RSABSSA_SHA384_PSSZERO_DETERMINISTIC",
    "RSABSSA_SHA384_PSSZERO_RANDOMIZED",
    "RSABSSA_SHA384_PSS_DETERMINISTIC",
    "RSABSSA_SHA384_PSS_RANDOMIZED",
    "SIGNATURE_ALG",
    "SUITES",
    "BlindRsaVariant",
    "BlindedMessage",
    "CacheInfo",
    "KemPrivateKey",
    "KemPublicKey",
    "OpenedEnvelope",
    "Opener",
    "PaddingRule",
    "SealedRecord",
    "Sealer",
    "Signature",
    "SigningKey",
    "VerifyKey",
    "b64url_decode",
    "b64url_encode",
    "canonical_json",
    "hpke_info",
    "key_id",
    "open_receipt",
    "receipt_id",
    "receipt_key",
    "seal_receipt",
    "sign",
    "sign_json",
    "verify",
    "verify_json",
]

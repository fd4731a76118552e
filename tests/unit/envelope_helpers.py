"""Shared helpers for the crypto and keyring tests (no tests here; the clock is
:class:`dief.testing.FakeClock`).

* :func:`kem_key` / :func:`signing_key` — keys generated once per test process;
* :data:`FAST_KDF` — Argon2id parameters cheap enough for tests;
* :func:`reference_seal` — an independent, spec-only implementation of sealing (DESIGN §3),
  used to check interoperability (padding, AAD, info) and to play an insider who knows a DEK;
* :func:`pad_case` — a payload padded with spaces to a case record's size (DESIGN §3).
"""

from __future__ import annotations

import base64
import functools
import json
import os
import uuid

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dief.crypto import KemPrivateKey, KemPublicKey, SigningKey
from dief.keyring import KdfParams
from dief.wire import CASE_PADDED_SIZES, SUITE_HYBRID

FAST_KDF = KdfParams(iterations=1, lanes=1, memory_kib=8)

_HPKE = {
    "MLKEM768X25519-HKDFSHA256-AES256GCM": hpke.Suite(
        hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM
    ),
    "X25519-HKDFSHA256-AES256GCM": hpke.Suite(
        hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM
    ),
}


def kem_key(suite: str = SUITE_HYBRID, index: int = 0) -> KemPrivateKey:
    """The *index*-th KEM key of *suite*, generated once per process."""
    return _kem_key(suite, index)


@functools.cache
def _kem_key(suite: str, index: int) -> KemPrivateKey:
    return KemPrivateKey.generate(suite)


def signing_key(index: int = 0) -> SigningKey:
    """The *index*-th signing key, generated once per process."""
    return _signing_key(index)


@functools.cache
def _signing_key(index: int) -> SigningKey:
    return SigningKey.generate()


def b64(data: bytes, *, pad: bool = False) -> str:
    text = base64.urlsafe_b64encode(data).decode("ascii")
    return text if pad else text.rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def wrap(dek: bytes, key: KemPublicKey, payload_type: str, region: str) -> bytes:
    info = b"dief/v1/dek/" + payload_type.encode() + b"/" + region.encode()
    return _HPKE[key.suite].encrypt(dek, key.hpke_key, info=info)


def pad_case(payload: bytes, size: int = CASE_PADDED_SIZES[0]) -> bytes:
    """*payload* padded with trailing spaces to *size* (by default a case record's size
    without a lesson), as a sealer pads it."""
    return payload + b" " * (size - len(payload))


def unwrap(wrapped: bytes, key: KemPrivateKey, payload_type: str, region: str) -> bytes:
    info = b"dief/v1/dek/" + payload_type.encode() + b"/" + region.encode()
    return _HPKE[key.suite].decrypt(wrapped, key.hpke_key, info=info)


def reference_seal(
    payload: bytes,
    *,
    dek: bytes,
    recipients: list[dict[str, str]],
    payload_type: str = "dief.case",
    region: str = "AFR",
    schema: int = 1,
    suite: str = SUITE_HYBRID,
    pad: bool = False,
    record_id: str | None = None,
) -> bytes:
    """Seal straight from the DESIGN §3 text, with given DEK and wrapped recipients."""
    nonce = os.urandom(12)
    header: dict[str, object] = {
        "v": 1,
        "type": payload_type,
        "schema": schema,
        "id": record_id or str(uuid.uuid4()),
        "region": region,
        "suite": suite,
        "recipients": recipients,
        "nonce": b64(nonce, pad=pad),
    }
    ciphertext = AESGCM(dek).encrypt(nonce, payload, canonical(header))
    return json.dumps({**header, "ciphertext": b64(ciphertext, pad=pad)}).encode()

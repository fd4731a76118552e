"""KEM key pairs for wrapping data keys (DESIGN §3, §4) and the key id.

Two suites, named as in the envelope's ``suite`` field:

=========================================  ==========================  =====================
suite                                      public bytes (kid input)    private bytes (at rest)
=========================================  ==========================  =====================
``MLKEM768X25519-HKDFSHA256-AES256GCM``    ML-KEM-768 raw public       ML-KEM-768 seed (64)
                                           (1,184) + X25519 raw (32)   + X25519 raw (32)
``X25519-HKDFSHA256-AES256GCM``            X25519 raw public (32)      X25519 raw (32)
=========================================  ==========================  =====================

Key id: the first 20 characters of base32(SHA-256(public bytes)), lower case, no padding.

The hybrid suite is X-Wing (HPKE KEM 0x647A, draft-connolly-cfrg-xwing-kem). Its private
form here is the X-Wing *expanded* decapsulation key: an X-Wing 32-byte seed ``sk`` maps to
it as the draft's ``expandDecapsulationKey`` does, ``SHAKE256(sk, 96 bytes)`` = ML-KEM-768
seed ``d ‖ z`` (64, FIPS 203 ``KeyGen_internal``) ‖ X25519 private key (32)
(:meth:`KemPrivateKey.from_xwing_seed`). Keys generated here draw the 96 bytes directly (no
32-byte seed exists for them), which is equivalent for every use: the public key, the
decapsulation and the key id depend only on the 96 bytes. ``tests/unit/test_hpke_vectors.py``
checks both suites against published vectors (the X-Wing draft's, the HPKE PQ draft's and
RFC 9180's).

Objects here never show key bytes in ``repr``/``str``; the raw secret is only reachable
through :meth:`KemPrivateKey.secret_bytes`, which the keyring uses to store it encrypted.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn, TypeAlias

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from dief.exceptions import ConfigurationError, UnknownSuiteError
from dief.wire import SUITE_HYBRID, SUITE_X25519

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "SUITES",
    "KemPrivateKey",
    "KemPublicKey",
    "hpke_suite",
    "key_id",
]

_HpkePublic: TypeAlias = hpke.MLKEM768X25519PublicKey | x25519.X25519PublicKey
_HpkePrivate: TypeAlias = hpke.MLKEM768X25519PrivateKey | x25519.X25519PrivateKey

_MLKEM768_PUBLIC_LEN = 1184
_MLKEM768_SEED_LEN = 64
_X25519_LEN = 32
_XWING_SEED_LEN = 32


def key_id(public_bytes: bytes) -> str:
    """First 20 chars of base32(SHA-256(*public_bytes*)), lower case, no padding."""
    return base64.b32encode(hashlib.sha256(public_bytes).digest()).decode("ascii")[:20].lower()


@dataclass(frozen=True, slots=True)
class _SuiteSpec:
    name: str
    hpke: hpke.Suite
    public_len: int
    secret_len: int
    load_public: Callable[[bytes], _HpkePublic]
    load_private: Callable[[bytes], tuple[_HpkePrivate, bytes]]  # -> (key, public bytes)
    generate_secret: Callable[[], bytes]


def _hybrid_public(raw: bytes) -> _HpkePublic:
    return hpke.MLKEM768X25519PublicKey(
        mlkem.MLKEM768PublicKey.from_public_bytes(raw[:_MLKEM768_PUBLIC_LEN]),
        x25519.X25519PublicKey.from_public_bytes(raw[_MLKEM768_PUBLIC_LEN:]),
    )


def _hybrid_private(secret: bytes) -> tuple[_HpkePrivate, bytes]:
    kem = mlkem.MLKEM768PrivateKey.from_seed_bytes(secret[:_MLKEM768_SEED_LEN])
    dh = x25519.X25519PrivateKey.from_private_bytes(secret[_MLKEM768_SEED_LEN:])
    public = kem.public_key().public_bytes_raw() + dh.public_key().public_bytes_raw()
    return hpke.MLKEM768X25519PrivateKey(kem, dh), public


def _hybrid_generate() -> bytes:
    kem = mlkem.MLKEM768PrivateKey.generate()
    dh = x25519.X25519PrivateKey.generate()
    return kem.private_bytes_raw() + dh.private_bytes_raw()


def _x25519_private(secret: bytes) -> tuple[_HpkePrivate, bytes]:
    dh = x25519.X25519PrivateKey.from_private_bytes(secret)
    return dh, dh.public_key().public_bytes_raw()


SUITES: dict[str, _SuiteSpec] = {
    SUITE_HYBRID: _SuiteSpec(
        name=SUITE_HYBRID,
        hpke=hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
        public_len=_MLKEM768_PUBLIC_LEN + _X25519_LEN,
        secret_len=_MLKEM768_SEED_LEN + _X25519_LEN,
        load_public=_hybrid_public,
        load_private=_hybrid_private,
        generate_secret=_hybrid_generate,
    ),
    SUITE_X25519: _SuiteSpec(
        name=SUITE_X25519,
        hpke=hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
        public_len=_X25519_LEN,
        secret_len=_X25519_LEN,
        load_public=x25519.X25519PublicKey.from_public_bytes,
        load_private=_x25519_private,
        generate_secret=lambda: x25519.X25519PrivateKey.generate().private_bytes_raw(),
    ),
}
"""The KEM suites we implement, by envelope ``suite`` name."""


def _spec(suite: str) -> _SuiteSpec:
    try:
        return SUITES[suite]
    except KeyError:
        raise UnknownSuiteError(f"unknown KEM suite {suite!r}") from None


def hpke_suite(suite: str) -> hpke.Suite:
    """The :class:`hpke.Suite` for an envelope suite name (``UnknownSuiteError`` otherwise)."""
    return _spec(suite).hpke


class KemPublicKey:
    """A recipient's public KEM key: suite, key id and raw public bytes."""

    __slots__ = ("_hpke", "_kid", "_raw", "_suite")

    def __init__(self, suite: str, public_bytes: bytes) -> None:
        spec = _spec(suite)
        if len(public_bytes) != spec.public_len:
            raise ConfigurationError(
                f"{suite} public key must be {spec.public_len} bytes, got {len(public_bytes)}"
            )
        try:
            loaded = spec.load_public(bytes(public_bytes))
        except ValueError as exc:
            raise ConfigurationError(f"invalid {suite} public key") from exc
        self._suite = suite
        self._raw = bytes(public_bytes)
        self._kid = key_id(self._raw)
        self._hpke = loaded

    @property
    def suite(self) -> str:
        """The KEM suite's name (a key of :data:`SUITES`)."""
        return self._suite

    @property
    def kid(self) -> str:
        """The key id: a hash of the public bytes (:func:`key_id`)."""
        return self._kid

    def public_bytes(self) -> bytes:
        """Raw public bytes (the key id's input); public, safe to publish."""
        return self._raw

    @property
    def hpke_key(self) -> _HpkePublic:
        """The HPKE library's public key object."""
        return self._hpke

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KemPublicKey):
            return NotImplemented
        return self._suite == other._suite and self._raw == other._raw

    def __hash__(self) -> int:
        return hash((self._suite, self._raw))

    def __repr__(self) -> str:
        return f"KemPublicKey(kid={self._kid!r}, suite={self._suite!r})"


class KemPrivateKey:
    """A KEM private key. ``repr`` shows the key id and suite only."""

    __slots__ = ("_hpke", "_public", "_secret", "_suite")

    def __init__(self, suite: str, secret_bytes: bytes) -> None:
        spec = _spec(suite)
        if len(secret_bytes) != spec.secret_len:
            raise ConfigurationError(f"{suite} private key has the wrong length")
        try:
            loaded, public = spec.load_private(bytes(secret_bytes))
        except ValueError as exc:
            raise ConfigurationError(f"invalid {suite} private key") from exc
        self._suite = suite
        self._secret = bytes(secret_bytes)
        self._hpke = loaded
        self._public = KemPublicKey(suite, public)

    @classmethod
    def generate(cls, suite: str = SUITE_HYBRID) -> KemPrivateKey:
        """A fresh random key pair for *suite*."""
        return cls(suite, _spec(suite).generate_secret())

    @classmethod
    def from_xwing_seed(cls, seed: bytes) -> KemPrivateKey:
        """The hybrid (X-Wing) key whose 32-byte X-Wing private key is *seed*: its
        expanded form ``SHAKE256(seed, 96)`` (see the module docstring)."""
        if len(seed) != _XWING_SEED_LEN:
            raise ConfigurationError(f"an X-Wing seed is {_XWING_SEED_LEN} bytes")
        expanded = hashlib.shake_256(bytes(seed)).digest(_MLKEM768_SEED_LEN + _X25519_LEN)
        return cls(SUITE_HYBRID, expanded)

    @property
    def suite(self) -> str:
        """The KEM suite's name (a key of :data:`SUITES`)."""
        return self._suite

    @property
    def kid(self) -> str:
        """The key id of the public half."""
        return self._public.kid

    @property
    def public_key(self) -> KemPublicKey:
        """The public half, safe to publish."""
        return self._public

    @property
    def hpke_key(self) -> _HpkePrivate:
        """The HPKE library's private key object; never logged."""
        return self._hpke

    def secret_bytes(self) -> bytes:
        """The raw private key (see the module table). Only for encrypted storage."""
        return self._secret

    def __repr__(self) -> str:
        return f"KemPrivateKey(kid={self.kid!r}, suite={self._suite!r})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("private keys cannot be pickled")

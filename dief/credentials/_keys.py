"""Issuer keys: RSA key pairs of the Secretariat's credential issuer, one per (cycle, region)
(DESIGN §4, §5 ⚑).

An issuer key is 3,072-bit RSA (public exponent 65537); 2,048 bits only in simulations, by
an explicit ``simulation=True``. Its key id is :func:`dief.crypto.key_id` of the DER
SubjectPublicKeyInfo of the public key (:func:`issuer_key_id`). Nodes and aggregators check a
key from the directory with :func:`check_issuer_public_key` before using it.
"""

from __future__ import annotations

from typing import NoReturn

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dief.credentials._derive import check_pair
from dief.crypto import key_id
from dief.exceptions import ConfigurationError, CredentialError

__all__ = [
    "ISSUER_KEY_BITS",
    "PUBLIC_EXPONENT",
    "SIMULATION_KEY_BITS",
    "IssuerKey",
    "check_issuer_public_key",
    "issuer_key_id",
]

#: The size of an issuer key.
ISSUER_KEY_BITS = 3072
#: The smallest issuer key a simulation may use.
SIMULATION_KEY_BITS = 2048
PUBLIC_EXPONENT = 65537
_MAX_BITS = 8192


def _min_bits(*, simulation: bool) -> int:
    return SIMULATION_KEY_BITS if simulation else ISSUER_KEY_BITS


def issuer_key_id(public_key: rsa.RSAPublicKey) -> str:
    """The key id of an issuer public key: :func:`dief.crypto.key_id` of its DER
    SubjectPublicKeyInfo."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key_id(der)


def check_issuer_public_key(public_key: object, *, simulation: bool = False) -> rsa.RSAPublicKey:
    """*public_key* if it is an RSA key of an allowed size and exponent.

    :raises CredentialError: ``weak_key`` otherwise (under 3,072 bits, or under 2,048 in a
        simulation; over 8,192; an exponent other than 65537).
    """
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise CredentialError("an issuer key is an RSA key", code="weak_key")
    if not _min_bits(simulation=simulation) <= public_key.key_size <= _MAX_BITS:
        raise CredentialError(
            f"an issuer key of {public_key.key_size} bits is not allowed"
            + ("" if simulation else " (2048 only in simulations)"),
            code="weak_key",
        )
    if public_key.public_numbers().e != PUBLIC_EXPONENT:
        raise CredentialError("an issuer key's public exponent must be 65537", code="weak_key")
    return public_key


class IssuerKey:
    """The issuer's RSA private key for one (cycle, region). ``repr`` shows the key id, the
    pair and the size only."""

    __slots__ = ("_cycle", "_kid", "_private", "_public", "_region")

    def __init__(
        self, cycle: str, region: str, private_key: rsa.RSAPrivateKey, *, simulation: bool = False
    ) -> None:
        check_pair(cycle, region)
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ConfigurationError("an issuer key is an RSA private key")
        try:
            self._public = check_issuer_public_key(private_key.public_key(), simulation=simulation)
        except CredentialError as exc:
            raise ConfigurationError(exc.message) from exc
        self._cycle = cycle
        self._region = region
        self._private = private_key
        self._kid = issuer_key_id(self._public)

    @classmethod
    def generate(
        cls, cycle: str, region: str, *, bits: int = ISSUER_KEY_BITS, simulation: bool = False
    ) -> IssuerKey:
        """A fresh key pair of *bits* bits (3,072; 2,048 only with ``simulation=True``)."""
        if not _min_bits(simulation=simulation) <= bits <= _MAX_BITS:
            raise ConfigurationError(
                f"an issuer key of {bits} bits is not allowed (2048 only in simulations)"
            )
        check_pair(cycle, region)
        private = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=bits)
        return cls(cycle, region, private, simulation=simulation)

    @classmethod
    def from_secret_bytes(
        cls, cycle: str, region: str, secret: bytes, *, simulation: bool = False
    ) -> IssuerKey:
        """Load a key stored with :meth:`secret_bytes`."""
        try:
            private = serialization.load_der_private_key(bytes(secret), password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError("not an issuer private key") from exc
        if not isinstance(private, rsa.RSAPrivateKey):
            raise ConfigurationError("not an RSA private key")
        return cls(cycle, region, private, simulation=simulation)

    @property
    def cycle(self) -> str:
        return self._cycle

    @property
    def region(self) -> str:
        return self._region

    @property
    def kid(self) -> str:
        return self._kid

    @property
    def key_size(self) -> int:
        return self._public.key_size

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self._public

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        return self._private

    def public_der(self) -> bytes:
        """The DER SubjectPublicKeyInfo (what the directory publishes; the key id's input)."""
        return self._public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def secret_bytes(self) -> bytes:
        """The private key as unencrypted PKCS#8 DER. Only for encrypted storage."""
        return self._private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def __repr__(self) -> str:
        return (
            f"IssuerKey(kid={self._kid!r}, cycle={self._cycle!r}, region={self._region!r}, "
            f"bits={self.key_size})"
        )

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("private keys cannot be pickled")

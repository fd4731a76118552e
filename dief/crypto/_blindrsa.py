"""RSA blind signatures, RFC 9474 (RSABSSA), on ``cryptography``'s RSA keys.

No maintained Python library implements RFC 9474, so the protocol's steps are written here
with Python integers for the modular arithmetic; the final signature is a standard
RSASSA-PSS signature (SHA-384, MGF1-SHA-384) that ``cryptography`` verifies. The four
variants of RFC 9474 §5 are :class:`BlindRsaVariant` constants, each with the protocol's
steps as methods:

=================  ======================================================================
``prepare``        §4.1: the randomized variants put a 32-byte random (or given) prefix
                   before the message; the deterministic ones use the message itself
``blind``          §4.2: EMSA-PSS encoding with a random (or given) salt, then base blinding
                   ``m · r^e mod n`` with a random (or given) r; returns the blinded message
                   and ``inv = r^-1 mod n``
``blind_sign``     §4.3: RSASP1 with the private key (CRT), then the check that the result
                   verifies (``s^e mod n == m``) before anything is answered: a faulty
                   signature would reveal a factor of n
``finalize``       §4.4: unblind (``s = z · inv mod n``) and verify the result
``verify``         standard RSASSA-PSS verification by ``cryptography``
=================  ======================================================================

The private operation (RSASP1 with the CRT parameters) runs on GMP's constant-time
exponentiation (``gmpy2.powmod_sec``, ``mpz_powm_sec``): about 1 ms for a 2048-bit key
where Python integers take 9 ms and leak timing. The signer also blinds its input once more
with a fresh random ``u`` (``(m·u^e)^d · u^-1``), so nothing the requester chose reaches the
exponentiation as it is.

Errors are :class:`dief.exceptions.CredentialError` with a code (``bad_request``,
``bad_signature``, ``signing_failure``); messages never contain key material or inputs.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass, field
from typing import Final

import gmpy2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from dief.exceptions import CredentialError

__all__ = [
    "BLIND_RSA_VARIANTS",
    "PREFIX_LEN",
    "RSABSSA_SHA384_PSSZERO_DETERMINISTIC",
    "RSABSSA_SHA384_PSSZERO_RANDOMIZED",
    "RSABSSA_SHA384_PSS_DETERMINISTIC",
    "RSABSSA_SHA384_PSS_RANDOMIZED",
    "BlindRsaVariant",
    "BlindedMessage",
    "emsa_pss_encode",
    "modulus_len",
]

#: Length of the message prefix of the randomized variants (RFC 9474 §4.1).
PREFIX_LEN: Final = 32
_HASH_LEN: Final = 48  # SHA-384


def modulus_len(key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> int:
    """The length in bytes of *key*'s modulus (of every blinded message and signature)."""
    return (key.key_size + 7) // 8


def _bad(code: str, message: str) -> CredentialError:
    return CredentialError(message, code=code)


def _mgf1_sha384(seed: bytes, length: int) -> bytes:
    blocks = (length + _HASH_LEN - 1) // _HASH_LEN
    out = b"".join(
        hashlib.sha384(seed + counter.to_bytes(4, "big")).digest() for counter in range(blocks)
    )
    return out[:length]


def emsa_pss_encode(message: bytes, em_bits: int, salt: bytes) -> bytes:
    """EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with SHA-384 and MGF1-SHA-384 and the given salt."""
    em_len = (em_bits + 7) // 8
    if em_len < _HASH_LEN + len(salt) + 2:
        raise _bad("bad_request", "the RSA modulus is too short for EMSA-PSS with this salt")
    m_hash = hashlib.sha384(message).digest()
    h = hashlib.sha384(b"\x00" * 8 + m_hash + salt).digest()
    db = b"\x00" * (em_len - len(salt) - _HASH_LEN - 2) + b"\x01" + salt
    mask = _mgf1_sha384(h, em_len - _HASH_LEN - 1)
    masked = bytearray(a ^ b for a, b in zip(db, mask, strict=True))
    masked[0] &= 0xFF >> (8 * em_len - em_bits)
    return bytes(masked) + h + b"\xbc"


def _rsasp1(numbers: rsa.RSAPrivateNumbers, m: int) -> int:
    """RSASP1 (RFC 8017 §5.2.1) with the CRT parameters: ``m^d mod n`` (constant-time
    modular exponentiations)."""
    sp = int(gmpy2.powmod_sec(m % numbers.p, numbers.dmp1, numbers.p))
    sq = int(gmpy2.powmod_sec(m % numbers.q, numbers.dmq1, numbers.q))
    h = (numbers.iqmp * (sp - sq)) % numbers.p
    return sq + h * numbers.q


def _random_unit(n: int) -> int:
    """A uniformly random integer in [1, n) that is invertible modulo n."""
    while True:
        r = secrets.randbelow(n - 1) + 1
        if math.gcd(r, n) == 1:
            return r


@dataclass(frozen=True, slots=True)
class BlindedMessage:
    """What :meth:`BlindRsaVariant.blind` returns: the blinded message to send to the
    signer and ``inv`` (r^-1 mod n, the secret that unblinds), both of the modulus length.
    ``repr`` shows neither."""

    blinded_msg: bytes = field(repr=False)
    inv: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class BlindRsaVariant:
    """One RFC 9474 variant: SHA-384, MGF1-SHA-384, a salt of ``salt_length`` bytes (48 or
    0), with (randomized) or without a 32-byte message prefix."""

    name: str
    salt_length: int
    randomized: bool

    # -- §4.1 prepare ------------------------------------------------------------------------

    def prepare(self, msg: bytes, *, prefix: bytes | None = None) -> bytes:
        """The message to blind and sign: ``prefix ‖ msg`` for the randomized variants
        (*prefix* random unless given), ``msg`` for the deterministic ones."""
        if not self.randomized:
            if prefix is not None:
                raise _bad("bad_request", f"{self.name} takes no message prefix")
            return bytes(msg)
        if prefix is None:
            prefix = secrets.token_bytes(PREFIX_LEN)
        if len(prefix) != PREFIX_LEN:
            raise _bad("bad_request", f"the message prefix is {PREFIX_LEN} bytes")
        return bytes(prefix) + bytes(msg)

    # -- §4.2 blind --------------------------------------------------------------------------

    def blind(
        self,
        public_key: rsa.RSAPublicKey,
        input_msg: bytes,
        *,
        salt: bytes | None = None,
        r: int | None = None,
    ) -> BlindedMessage:
        """EMSA-PSS encode *input_msg* (with *salt*, random unless given) and blind it with
        *r* (random in [1, n) unless given; it must be invertible modulo n)."""
        numbers = public_key.public_numbers()
        n, e = numbers.n, numbers.e
        k = modulus_len(public_key)
        if salt is None:
            salt = secrets.token_bytes(self.salt_length)
        if len(salt) != self.salt_length:
            raise _bad("bad_request", f"{self.name} takes a salt of {self.salt_length} bytes")
        encoded = emsa_pss_encode(input_msg, public_key.key_size - 1, salt)
        m = int.from_bytes(encoded, "big")
        if math.gcd(m, n) != 1:
            raise _bad("bad_request", "the encoded message is not invertible modulo n")
        if r is None:
            r = _random_unit(n)
        if not 0 < r < n or math.gcd(r, n) != 1:
            raise _bad("bad_request", "the blinding factor is not an invertible element mod n")
        inv = pow(r, -1, n)
        z = (m * pow(r, e, n)) % n
        return BlindedMessage(z.to_bytes(k, "big"), inv.to_bytes(k, "big"))

    # -- §4.3 blind sign ---------------------------------------------------------------------

    def blind_sign(self, private_key: rsa.RSAPrivateKey, blinded_msg: bytes) -> bytes:  # noqa: PLR6301  a method of the RFC 9474 variant object, as its other steps
        """RSASP1 over *blinded_msg*, answered only once the result verifies (RFC 9474 §4.3).

        :raises CredentialError: ``bad_request`` for a message of the wrong length or not
            below n; ``signing_failure`` when the computed signature does not verify.
        """
        numbers = private_key.private_numbers()
        n, e = numbers.public_numbers.n, numbers.public_numbers.e
        k = modulus_len(private_key)
        if len(blinded_msg) != k:
            raise _bad("bad_request", f"a blinded message is {k} bytes for this key")
        m = int.from_bytes(blinded_msg, "big")
        if m >= n:
            raise _bad("bad_request", "the blinded message is not below the modulus")
        u = _random_unit(n)
        s = (_rsasp1(numbers, (m * pow(u, e, n)) % n) * pow(u, -1, n)) % n
        if pow(s, e, n) != m:
            raise _bad("signing_failure", "the blind signature failed its own check")
        return s.to_bytes(k, "big")

    # -- §4.4 finalize -----------------------------------------------------------------------

    def finalize(
        self, public_key: rsa.RSAPublicKey, input_msg: bytes, blind_sig: bytes, inv: bytes
    ) -> bytes:
        """Unblind *blind_sig* with *inv* and return the signature once it verifies.

        :raises CredentialError: ``bad_signature`` if it has the wrong length or does not
            verify (a tampered or wrong answer).
        """
        numbers = public_key.public_numbers()
        k = modulus_len(public_key)
        if len(blind_sig) != k or len(inv) != k:
            raise _bad("bad_signature", f"a blind signature is {k} bytes for this key")
        z = int.from_bytes(blind_sig, "big")
        s = (z * int.from_bytes(inv, "big")) % numbers.n
        sig = s.to_bytes(k, "big")
        self.verify(public_key, input_msg, sig)
        return sig

    # -- verify ------------------------------------------------------------------------------

    def verify(self, public_key: rsa.RSAPublicKey, input_msg: bytes, sig: bytes) -> None:
        """RSASSA-PSS verification of *sig* over *input_msg* by ``cryptography``.

        :raises CredentialError: ``bad_signature`` unless it verifies.
        """
        try:
            public_key.verify(sig, input_msg, self._padding(), hashes.SHA384())
        except (InvalidSignature, ValueError) as exc:
            raise _bad("bad_signature", f"the {self.name} signature does not verify") from exc

    def is_valid(self, public_key: rsa.RSAPublicKey, input_msg: bytes, sig: bytes) -> bool:
        """:meth:`verify` as a boolean."""
        try:
            self.verify(public_key, input_msg, sig)
        except CredentialError:
            return False
        return True

    def _padding(self) -> padding.PSS:
        return padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=self.salt_length)


RSABSSA_SHA384_PSS_RANDOMIZED: Final = BlindRsaVariant(
    "RSABSSA-SHA384-PSS-Randomized", salt_length=_HASH_LEN, randomized=True
)
RSABSSA_SHA384_PSSZERO_RANDOMIZED: Final = BlindRsaVariant(
    "RSABSSA-SHA384-PSSZERO-Randomized", salt_length=0, randomized=True
)
RSABSSA_SHA384_PSS_DETERMINISTIC: Final = BlindRsaVariant(
    "RSABSSA-SHA384-PSS-Deterministic", salt_length=_HASH_LEN, randomized=False
)
RSABSSA_SHA384_PSSZERO_DETERMINISTIC: Final = BlindRsaVariant(
    "RSABSSA-SHA384-PSSZERO-Deterministic", salt_length=0, randomized=False
)

#: The four variants of RFC 9474 §5, by name.
BLIND_RSA_VARIANTS: Final[dict[str, BlindRsaVariant]] = {
    v.name: v
    for v in (
        RSABSSA_SHA384_PSS_RANDOMIZED,
        RSABSSA_SHA384_PSSZERO_RANDOMIZED,
        RSABSSA_SHA384_PSS_DETERMINISTIC,
        RSABSSA_SHA384_PSSZERO_DETERMINISTIC,
    )
}

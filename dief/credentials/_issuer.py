"""The Secretariat's credential issuer (DESIGN §5 ⚑): blind-signs one contributor message
per registered node and issuer key.

For a request (registration key id, issuer key id, cycle, region, blinded message) the
issuer, in order: refuses an unknown registration (``unknown_registration``) or a revoked one
(``revoked_registration``); refuses an issuer key it does not hold (``unknown_issuer_key``)
or one of another (cycle, region), and a blinded message that is not a number below the
key's modulus (``bad_request``) — none of these uses up anything; then claims the
(registration, issuer key) pair in its ledger with the SHA-256 of the blinded message: the
first message, or the identical one again (a lost answer, a restored node), is signed; a
different one is refused (``already_issued``). A re-registered node (it lost its secret) is
a registration of its own, so it gets one more token per issuer key, counted apart.

Signing is RFC 9474 RSABSSA-SHA384-PSS-Randomized ``blind_sign``, which checks the
signature verifies before it is returned; it runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.credentials._ledger import Issuance, IssuanceLedger, IssuedCount
from dief.crypto import RSABSSA_SHA384_PSS_RANDOMIZED, VerifyKey
from dief.exceptions import ConfigurationError, CredentialError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from dief.credentials._keys import IssuerKey

__all__ = ["TOKEN_VARIANT", "Issuer", "Registration", "RegistrationLookup"]

#: The RFC 9474 variant of contributor tokens (DESIGN §5 ⚑).
TOKEN_VARIANT = RSABSSA_SHA384_PSS_RANDOMIZED


@dataclass(frozen=True, slots=True)
class Registration:
    """A node registration as the Secretariat's registry knows it: key ids only (the State
    behind it is kept offline)."""

    kid: str
    """The registration (signing) key's id."""
    verify_key: VerifyKey | None = None
    """The registration public key, to verify requests (:func:`verify_request`)."""
    revoked: bool = False
    reregistration: bool = False
    """A node that registered again after losing its secret."""


#: ``registration kid -> Registration`` (``None`` when unknown).
RegistrationLookup = Callable[[str], Registration | None]


def _refuse(code: str, message: str) -> CredentialError:
    return CredentialError(message, code=code)


class Issuer:
    """Holds the issuer keys (one per (cycle, region)) and answers blinded messages."""

    def __init__(
        self,
        keys: Iterable[IssuerKey],
        registrations: RegistrationLookup,
        ledger: IssuanceLedger,
    ) -> None:
        self._by_kid: dict[str, IssuerKey] = {}
        self._by_pair: dict[tuple[str, str], IssuerKey] = {}
        self._registrations = registrations
        self._ledger = ledger
        for key in keys:
            self.add_key(key)

    def __repr__(self) -> str:
        return f"Issuer(keys={len(self._by_kid)})"

    def add_key(self, key: IssuerKey) -> None:
        """Hold *key* too. There is exactly one issuer key per (cycle, region)."""
        pair = (key.cycle, key.region)
        held = self._by_pair.get(pair)
        if held is not None and held.kid != key.kid:
            raise ConfigurationError(f"the issuer already holds a key for {pair[0]} {pair[1]}")
        self._by_pair[pair] = key
        self._by_kid[key.kid] = key

    def key_for(self, cycle: str, region: str) -> IssuerKey | None:
        return self._by_pair.get((cycle, region))

    def public_keys(self) -> Mapping[tuple[str, str], rsa.RSAPublicKey]:
        """``(cycle, region) -> issuer public key``, for the directory."""
        return {pair: key.public_key for pair, key in self._by_pair.items()}

    def _registration(self, registration_kid: str) -> Registration:
        entry = self._registrations(registration_kid)
        if entry is None:
            raise _refuse("unknown_registration", "the registration is not known")
        if entry.revoked:
            raise _refuse("revoked_registration", "the registration is revoked")
        return entry

    def _key(self, issuer_kid: str, cycle: str, region: str) -> IssuerKey:
        key = self._by_kid.get(issuer_kid)
        if key is None:
            raise _refuse("unknown_issuer_key", "no issuer key with that id")
        if (key.cycle, key.region) != (cycle, region):
            raise _refuse("bad_request", "the issuer key is not the one of that cycle and region")
        return key

    async def sign(
        self, registration_kid: str, issuer_kid: str, cycle: str, region: str, blinded: bytes
    ) -> bytes:
        """The blind signature over *blinded*, if this registration may have it (module doc).

        :raises CredentialError: with the code of the refusal.
        """
        entry = self._registration(registration_kid)
        key = self._key(issuer_kid, cycle, region)
        n = key.public_key.public_numbers().n
        if len(blinded) != (key.key_size + 7) // 8 or int.from_bytes(blinded, "big") >= n:
            raise _refuse("bad_request", "the blinded message does not fit the issuer key")
        digest = hashlib.sha256(blinded).digest()
        held = await self._ledger.claim(
            Issuance(entry.kid, key.kid, digest, reregistration=entry.reregistration)
        )
        if held != digest:
            raise _refuse(
                "already_issued",
                "this registration already had a different message signed under this key",
            )
        return await asyncio.to_thread(TOKEN_VARIANT.blind_sign, key.private_key, blinded)

    async def counts(self) -> dict[str, IssuedCount]:
        """Tokens signed per issuer key id, for every key held (zero included)."""
        counts = await self._ledger.counts()
        return {kid: counts.get(kid, IssuedCount(kid)) for kid in self._by_kid} | counts

    async def token_counts(self) -> dict[tuple[str, str], tuple[int, int]]:
        """Tokens signed per (cycle, region) of every key held, as (for registrations, for
        re-registrations): what :meth:`dief.keyring.SecretariatKeys.set_token_counts` takes
        and the directory publishes."""
        counts = await self.counts()
        return {
            pair: (counts[key.kid].regular, counts[key.kid].reregistration)
            for pair, key in self._by_pair.items()
        }

    async def issued(self, cycle: str, region: str) -> int:
        """Tokens signed in all by the key of (*cycle*, *region*) (0 if none held)."""
        key = self.key_for(cycle, region)
        if key is None:
            return 0
        return (await self.counts())[key.kid].total

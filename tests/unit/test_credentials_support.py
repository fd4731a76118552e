"""Helpers imported by the other ``test_credentials*`` modules (no tests here).

Shared set-up for the contributor-credential tests: RSA-2048 issuer keys (simulation),
made once per test session, and a small forum of them."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from dief.credentials import IssuerKey, MemoryLedger, Registration
from dief.crypto import SigningKey
from dief.keyring import NodeSecret

if TYPE_CHECKING:
    from collections.abc import Callable

    from cryptography.hazmat.primitives.asymmetric import rsa

PAIRS = (("CSP12", "AFR"), ("CSP12", "WEOG"), ("CSP13", "AFR"))


@cache
def issuer_key(cycle: str, region: str) -> IssuerKey:
    """One simulated issuer key per (cycle, region), generated once per session."""
    return IssuerKey.generate(cycle, region, bits=2048, simulation=True)


def public_lookup(
    pairs: tuple[tuple[str, str], ...] = PAIRS,
) -> Callable[[str, str], rsa.RSAPublicKey | None]:
    """What the signed directory gives: ``(cycle, region) -> issuer public key``."""
    keys = {pair: issuer_key(*pair).public_key for pair in pairs}
    return lambda cycle, region: keys.get((cycle, region))


def node_secret(byte: int, name: str = "node-a") -> NodeSecret:
    return NodeSecret(name, bytes([byte]) * 32)


class Registry:
    """An in-memory registry of registration keys (the Secretariat's, by key id)."""

    def __init__(self) -> None:
        self.entries: dict[str, Registration] = {}

    def register(self, *, reregistration: bool = False) -> SigningKey:
        key = SigningKey.generate()
        self.entries[key.kid] = Registration(
            kid=key.kid, verify_key=key.verify_key, reregistration=reregistration
        )
        return key

    def revoke(self, kid: str) -> None:
        entry = self.entries[kid]
        self.entries[kid] = Registration(
            kid=kid, verify_key=entry.verify_key, revoked=True, reregistration=entry.reregistration
        )

    def __call__(self, kid: str) -> Registration | None:
        return self.entries.get(kid)


def new_ledger() -> MemoryLedger:
    return MemoryLedger()

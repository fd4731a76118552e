"""A stand-in for the contributor-credential issuer in unit tests (not RFC 9474: an HMAC
under a key the fake holds, so a test can tell issued tokens from invented ones)."""

from __future__ import annotations

import hashlib
import hmac

from dief.seams import ContributorCredential

__all__ = ["FakeCredentials"]


class FakeCredentials:
    """A :class:`~dief.seams.CredentialSource` for one node and a
    :class:`~dief.seams.CredentialCheck` for every node of the same fake issuer.

    ``FakeCredentials(node_secret)`` hands out the node's pseudonym per (cycle, region)
    with a token the fake issuer made; ``verify`` accepts only tokens of that issuer for
    exactly the credential's (cycle, region, contributor). ``withheld`` lists (cycle,
    region) pairs whose token has not arrived yet.
    """

    def __init__(
        self, node_secret: bytes = b"\x01" * 32, *, issuer_key: bytes = b"fake-issuer"
    ) -> None:
        self._secret = bytes(node_secret)
        self._issuer = bytes(issuer_key)
        self.withheld: set[tuple[str, str]] = set()

    def __repr__(self) -> str:
        return "FakeCredentials(<secret>)"

    def for_node(self, node_secret: bytes) -> FakeCredentials:
        """Another node's credentials from the same fake issuer."""
        return FakeCredentials(node_secret, issuer_key=self._issuer)

    def pseudonym(self, cycle: str, region: str) -> str:
        label = f"dief/contributor/v2/pseudonym/{cycle}/{region}".encode()
        return hmac.new(self._secret, label, hashlib.sha256).digest()[:16].hex()

    def _token(self, cycle: str, region: str, contributor: str) -> bytes:
        message = f"dief/contributor/v2/{cycle}/{region}/{contributor}".encode()
        return hmac.new(self._issuer, message, hashlib.sha256).digest()

    def credential(self, cycle: str, region: str) -> ContributorCredential | None:
        if (cycle, region) in self.withheld:
            return None
        contributor = self.pseudonym(cycle, region)
        return ContributorCredential(
            cycle, region, contributor, self._token(cycle, region, contributor)
        )

    def verify(self, credential: ContributorCredential) -> bool:
        expected = self._token(credential.cycle, credential.region, credential.contributor)
        return hmac.compare_digest(expected, credential.token)

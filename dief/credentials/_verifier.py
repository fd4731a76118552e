"""The aggregator's check of contributor tokens (DESIGN §5 ⚑): its
:class:`~dief.seams.CredentialCheck`.

A credential verifies when its pseudonym is 32 lower-case hex characters, its token is the
32-byte message prefix followed by a signature of the issuer key's modulus length, and that
signature is a valid RSABSSA-SHA384-PSS-Randomized (RSASSA-PSS, SHA-384, salt 48) signature
over ``prefix ‖ "dief/contributor/v2/" + cycle + "/" + region + "/" + contributor`` under
the issuer key of exactly the credential's (cycle, region), verified by ``cryptography``.

Successes are kept in a bounded LRU cache keyed by the credential, with the key object that
verified it: a pseudonym costs one RSA verification, and a key the directory replaced or
withdrew is asked again. The verifier also counts the distinct pseudonyms that verified per
(cycle, region) and reports pairs with more of them than tokens issued (a callable gives
that number, from the directory): :meth:`TokenVerifier.over_issued`, for a metric.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.credentials._derive import PREFIX_LEN, contributor_message
from dief.credentials._issuer import TOKEN_VARIANT
from dief.credentials._keys import check_issuer_public_key
from dief.exceptions import CredentialError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from dief.credentials._wallet import IssuerKeyLookup
    from dief.seams import ContributorCredential

__all__ = ["DEFAULT_TOKEN_CACHE_SIZE", "IssuedLookup", "PseudonymExcess", "TokenVerifier"]

#: Verified credentials an aggregator keeps (a few per State and pair).
DEFAULT_TOKEN_CACHE_SIZE = 4096

#: ``(cycle, region) -> tokens the issuer key of that pair signed`` (``None``: unknown).
IssuedLookup = Callable[[str, str], int | None]

_CONTRIBUTOR = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True, slots=True)
class PseudonymExcess:
    """More distinct pseudonyms verified in (cycle, region) than tokens were issued."""

    cycle: str
    region: str
    pseudonyms: int
    issued: int


class TokenVerifier:
    """Verifies contributor credentials under the directory's issuer keys (module doc)."""

    def __init__(
        self,
        issuer_keys: IssuerKeyLookup,
        *,
        issued: IssuedLookup | None = None,
        cache_size: int = DEFAULT_TOKEN_CACHE_SIZE,
        simulation: bool = False,
    ) -> None:
        if cache_size < 1:
            raise ValueError("cache_size must be at least 1")
        self._issuer_keys = issuer_keys
        self._issued = issued
        self._cache_size = cache_size
        self._simulation = simulation
        self._cache: OrderedDict[ContributorCredential, rsa.RSAPublicKey] = OrderedDict()
        self._seen: dict[tuple[str, str], set[str]] = {}
        self._lock = threading.Lock()
        self.rsa_verifications = 0
        """RSA verifications performed (cache misses that reached the signature check)."""

    def __repr__(self) -> str:
        return f"TokenVerifier(cached={len(self._cache)}/{self._cache_size})"

    @property
    def cache_len(self) -> int:
        return len(self._cache)

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def verify(self, credential: ContributorCredential) -> bool:
        """``True`` when *credential* verifies under its (cycle, region) issuer key."""
        key = self._issuer_keys(credential.cycle, credential.region)
        if key is None:
            return False
        with self._lock:
            held = self._cache.get(credential)
            if held is not None and (held is key or held == key):
                self._cache.move_to_end(credential)
                return True
        if not self._check(credential, key):
            return False
        with self._lock:
            self._cache[credential] = key
            self._cache.move_to_end(credential)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            pair = (credential.cycle, credential.region)
            self._seen.setdefault(pair, set()).add(credential.contributor)
        return True

    def _check(self, credential: ContributorCredential, key: rsa.RSAPublicKey) -> bool:
        try:
            key = check_issuer_public_key(key, simulation=self._simulation)
        except CredentialError:
            return False
        if not _CONTRIBUTOR.match(credential.contributor):
            return False
        token = credential.token
        if len(token) != PREFIX_LEN + (key.key_size + 7) // 8:
            return False
        message = contributor_message(credential.cycle, credential.region, credential.contributor)
        with self._lock:
            self.rsa_verifications += 1
        return TOKEN_VARIANT.is_valid(key, token[:PREFIX_LEN] + message, token[PREFIX_LEN:])

    def pseudonym_counts(self) -> dict[tuple[str, str], int]:
        """Distinct pseudonyms that verified, per (cycle, region)."""
        with self._lock:
            return {pair: len(names) for pair, names in self._seen.items()}

    def over_issued(self) -> list[PseudonymExcess]:
        """The pairs with more distinct verified pseudonyms than tokens issued, sorted."""
        if self._issued is None:
            return []
        excess = []
        for (cycle, region), count in sorted(self.pseudonym_counts().items()):
            issued = self._issued(cycle, region)
            if issued is not None and count > issued:
                excess.append(PseudonymExcess(cycle, region, count, issued))
        return excess

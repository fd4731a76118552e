"""What a node derives from its secret for a contributor credential (DESIGN §5 ⚑).

Per (cycle, region):

- the pseudonym ``contributor`` = the first 16 bytes, in lower-case hex, of
  HMAC-SHA256(node secret, ``"dief/contributor/v2/pseudonym/" + cycle + "/" + region``);
- the message the issuer blind-signs, ``"dief/contributor/v2/" + cycle + "/" + region + "/"
  + contributor``.

Per (cycle, region, issuer key id), with HKDF-SHA256 (RFC 5869; the node secret as input
keying material, no salt) and the info ``"dief/contributor/v2/blinding/" + cycle + "/" +
region + "/" + issuer_kid + "/" + what``:

- ``what = "prefix"``: the RFC 9474 message prefix, 32 bytes;
- ``what = "salt"``: the PSS salt, 48 bytes;
- ``what = "r/" + counter`` (counter 0, 1, … in decimal): the modulus length in bytes,
  masked to the modulus' bit length; the first value in [1, n) that is invertible modulo n
  is the blinding factor r.

So a node, or the same node restored from its backup, always sends the same blinded message
for a (cycle, region) and issuer key, which the issuer answers again; and none of the values
tells the issuer anything, since it does not know the secret.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dief.exceptions import ConfigurationError, CredentialError
from dief.vocab import Region

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from dief.keyring import NodeSecret

__all__ = [
    "PREFIX_LEN",
    "BlindingInputs",
    "blinding_inputs",
    "check_pair",
    "contributor_message",
    "pseudonym",
]

_CYCLE = re.compile(r"^CSP[1-9][0-9]{0,3}$")
_REGIONS = frozenset(region.value for region in Region)
PREFIX_LEN = 32  # RFC 9474 §4.1
_SALT_LEN = 48  # RSABSSA-SHA384-PSS: the hash length
_MAX_TRIES = 1000  # each try fails with probability < 1/2 (the masked value is >= n)


def check_pair(cycle: str, region: str) -> None:
    """Raise :class:`ConfigurationError` unless *cycle* is ``CSPn`` and *region* a region
    code (they become parts of labels, so nothing else may slip in)."""
    if not isinstance(cycle, str) or not _CYCLE.match(cycle):
        raise ConfigurationError("a cycle is CSP followed by its number")
    if region not in _REGIONS:
        raise ConfigurationError("unknown region code")


def pseudonym(secret: NodeSecret, cycle: str, region: str) -> str:
    """The node's contributor pseudonym for (*cycle*, *region*): 32 lower-case hex chars."""
    check_pair(cycle, region)
    label = f"dief/contributor/v2/pseudonym/{cycle}/{region}".encode("ascii")
    return secret.hmac_sha256(label)[:16].hex()


def contributor_message(cycle: str, region: str, contributor: str) -> bytes:
    """The message a contributor token signs (before the RFC 9474 prefix)."""
    return f"dief/contributor/v2/{cycle}/{region}/{contributor}".encode("ascii")


@dataclass(frozen=True, slots=True)
class BlindingInputs:
    """The derived RFC 9474 inputs of one request. ``repr`` shows none of them."""

    prefix: bytes = field(repr=False)
    salt: bytes = field(repr=False)
    r: int = field(repr=False)


def _hkdf(secret: NodeSecret, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(
        secret.secret_bytes()
    )


def blinding_inputs(
    secret: NodeSecret, cycle: str, region: str, issuer_kid: str, public_key: rsa.RSAPublicKey
) -> BlindingInputs:
    """The message prefix, PSS salt and blinding factor r for one request (module doc)."""
    check_pair(cycle, region)
    if not issuer_kid.isascii() or not issuer_kid.isalnum():
        raise ConfigurationError("an issuer key id is letters and digits")
    base = f"dief/contributor/v2/blinding/{cycle}/{region}/{issuer_kid}/".encode("ascii")
    prefix = _hkdf(secret, base + b"prefix", PREFIX_LEN)
    salt = _hkdf(secret, base + b"salt", _SALT_LEN)
    n = public_key.public_numbers().n
    length = (n.bit_length() + 7) // 8
    mask = (1 << n.bit_length()) - 1
    for counter in range(_MAX_TRIES):
        candidate = int.from_bytes(_hkdf(secret, base + b"r/%d" % counter, length), "big") & mask
        if 0 < candidate < n and math.gcd(candidate, n) == 1:
            return BlindingInputs(prefix, salt, candidate)
    raise CredentialError("no blinding factor found for this issuer key", code="weak_key")

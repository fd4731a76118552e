"""The node's private derivations from its secret (DESIGN §4, §5 ⚑): per-case owner keys
and the relay's per-pseudonym groups. The public half (case ids, the owner signature's
message and its check) is :mod:`dief.wire._ownership`.

- **Owner key** of the case with index *i*: the Ed25519 private key whose 32 seed bytes are
  HKDF-SHA256 (RFC 5869) of the node secret, empty salt, ``info = b"dief/v2/owner-key/" +``
  *i* as 8 bytes big-endian. A node restored with its secret and case index can sign every
  later revision of its cases.
- **Relay group** of a contributor pseudonym: HMAC-SHA256 of the pseudonym under a
  node-local key (HKDF of the secret, ``info = b"dief/v2/relay-group"``), 32 hex
  characters. It lets the relay delay each pseudonym's records independently; it never
  leaves the node and is not the pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dief.wire import case_id_for

if TYPE_CHECKING:
    from dief.keyring import NodeSecret

__all__ = ["OWNER_KEY_INFO", "NodeIdentity"]

#: HKDF ``info`` prefix of a case's owner key; the case index follows, 8 bytes big-endian.
OWNER_KEY_INFO = b"dief/v2/owner-key/"
_GROUP_KEY_INFO = b"dief/v2/relay-group"
_MAX_INDEX = 2**64 - 1


def _hkdf(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


class NodeIdentity:
    """What a node derives from its secret. The secret never leaves this object."""

    __slots__ = ("_group_key", "_groups", "_secret")

    def __init__(self, secret: NodeSecret) -> None:
        self._secret = secret
        self._group_key = b""
        self._groups: dict[str, str] = {}  # pseudonym → group (a handful per node)

    def __repr__(self) -> str:
        return "NodeIdentity(<secret>)"

    def owner_key(self, index: int) -> Ed25519PrivateKey:
        """The owner private key of the case with *index*."""
        if not 0 <= index <= _MAX_INDEX:
            raise ValueError("a case index is between 0 and 2**64 - 1")
        seed = _hkdf(self._secret.secret_bytes(), OWNER_KEY_INFO + index.to_bytes(8, "big"))
        return Ed25519PrivateKey.from_private_bytes(seed)

    def owner_public(self, index: int) -> bytes:
        """The raw 32-byte owner public key of the case with *index*."""
        return self.owner_key(index).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def case_id(self, index: int, region: str, cycle: str) -> str:
        """The id of the case with *index* in *region* and *cycle*."""
        return case_id_for(region, cycle, self.owner_public(index))

    def group(self, contributor: str) -> str:
        """The relay group of *contributor* (an opaque tag, never the pseudonym)."""
        found = self._groups.get(contributor)
        if found is None:
            if not self._group_key:
                self._group_key = _hkdf(self._secret.secret_bytes(), _GROUP_KEY_INFO)
            mac = hmac.new(self._group_key, contributor.encode("ascii"), hashlib.sha256)
            found = self._groups[contributor] = mac.hexdigest()[:32]
        return found

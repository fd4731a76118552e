"""Value objects of the keyring: roles, kinds, key metadata, KDF parameters, node secrets."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import NoReturn

from dief.exceptions import ConfigurationError

__all__ = ["KdfParams", "KeyRole", "NodeSecret", "check_node_name"]

_NODE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
NODE_SECRET_LEN = 32


class KeyRole(StrEnum):
    """Who a key belongs to."""

    REGION = "region"
    """A regional aggregator (one per ATT regional group; ``region`` is set)."""
    SECRETARIAT = "secretariat"
    """The ATT Secretariat (``region`` is ``None``)."""


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id cost parameters for the passphrase (RFC 9106 second recommended option).

    Tests may lower them; the values used are stored in each file, so files stay readable.
    """

    iterations: int = 3
    lanes: int = 4
    memory_kib: int = 64 * 1024

    def __post_init__(self) -> None:
        if self.iterations < 1 or self.lanes < 1 or self.memory_kib < 8 * self.lanes:
            raise ConfigurationError(
                "Argon2id needs iterations >= 1, lanes >= 1 and memory_kib >= 8 * lanes"
            )


def check_node_name(name: str) -> str:
    """Return *name* if it is a valid node name (letters, digits, ``._-``, up to 64)."""
    if not isinstance(name, str) or not _NODE_NAME.match(name):
        raise ConfigurationError(
            "node names are 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


class NodeSecret:
    """A national node's 32-byte secret. ``repr``/``str`` show the node name only."""

    __slots__ = ("_name", "_value")

    def __init__(self, name: str, value: bytes) -> None:
        if len(value) != NODE_SECRET_LEN:
            raise ConfigurationError(f"a node secret is {NODE_SECRET_LEN} bytes")
        self._name = check_node_name(name)
        self._value = bytes(value)

    @property
    def name(self) -> str:
        return self._name

    def secret_bytes(self) -> bytes:
        """The raw 32 bytes. Prefer :meth:`hmac_sha256`."""
        return self._value

    def hmac_sha256(self, message: bytes) -> bytes:
        """HMAC-SHA256 of *message* under this secret (contributor pseudonyms, owner tags)."""
        return hmac.new(self._value, message, hashlib.sha256).digest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NodeSecret):
            return NotImplemented
        return self._name == other._name and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return "NodeSecret(<hidden>)"  # neither the secret nor the name (it may name a State)

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("node secrets cannot be pickled")

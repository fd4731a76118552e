"""What a node runs with (DESIGN §4 ⚑): its own keys, the signed directory it holds, and a
case sealer per region whose recipients are the region KEM keys that directory lists.

The node's keys come from its party keyring (a :class:`~dief.keyring.PartyView`: its
secret, registration and KEM keys, nothing else private) or, in a simulation, from the
:class:`~dief.keyring.SimulatedForum`'s node of that label. Without a directory file, the
first directory is read from ``dief.directory`` (:func:`first_directory`). Every case is
sealed to the region keys the directory lists **when it is sealed**
(:class:`DirectorySealer`), so a rotation needs no restart, and a key file that is not in
the signed directory is never a recipient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.crypto import KemPrivateKey, KemPublicKey, SealedRecord, Sealer, SigningKey
from dief.exceptions import ConfigurationError, KeyNotFoundError
from dief.keyring import (
    FIRST_DIRECTORY_SECONDS,
    DirectoryHolder,
    NodeKeys,
    NodeSecret,
    PartyView,
    SimulatedForum,
    first_directory,
)
from dief.wire import CASE_SCHEMA_VERSION, TYPE_CASE

if TYPE_CHECKING:
    import uuid

    from dief.vocab import Region

__all__ = [
    "FIRST_DIRECTORY_SECONDS",
    "DirectorySealer",
    "OwnKeys",
    "first_directory",
    "own_keys",
]


@dataclass(frozen=True, slots=True)
class OwnKeys:
    """What the node runs with: its own keys and the directory it holds."""

    secret: NodeSecret
    registration_key: SigningKey
    kem_key: KemPrivateKey
    holder: DirectoryHolder

    def __repr__(self) -> str:
        return "OwnKeys(<secret>)"


def own_keys(ring: PartyView | SimulatedForum, name: str) -> OwnKeys:
    """The node's keys from its party keyring, or (a simulation) the forum's node *name*.

    :raises ConfigurationError: the simulated forum has no such node, or the keyring is not
        a national node's.
    """
    if isinstance(ring, SimulatedForum):
        try:
            keys = ring.node(name)
        except KeyNotFoundError as exc:
            raise ConfigurationError(
                f"this simulated forum has no node labelled {name!r} (DIEF_NODE, --node)"
            ) from exc
        holder = DirectoryHolder(ring.root_fingerprint, current=ring.directory)
    else:
        if not isinstance(ring.own, NodeKeys):
            raise ConfigurationError(
                "the keyring at DIEF_KEYRING__PATH is not a national node's (dief keys init-node)"
            )
        keys, holder = ring.own, ring.holder
    return OwnKeys(keys.node_secret(name), keys.registration_key(), keys.kem_key(), holder)


class DirectorySealer(Sealer):
    """A region's case sealer whose recipients are the region KEM keys the signed directory
    lists when each record is sealed (two during a declared rotation). A region without an
    active key in the directory refuses to seal (:class:`KeyNotFoundError`: the case is
    refused, or stays held)."""

    __slots__ = ("_keys_of", "_kids")

    def __init__(self, region: Region, holder: DirectoryHolder) -> None:
        def keys_of() -> list[KemPublicKey]:
            found = holder.require().region_kem_keys(region.value)
            if not found:
                raise KeyNotFoundError(f"the forum directory lists no KEM key of {region.value}")
            return found

        keys = keys_of()
        super().__init__(
            type=TYPE_CASE, region=region.value, recipients=keys, schema=CASE_SCHEMA_VERSION
        )
        self._keys_of = keys_of
        self._kids = tuple(k.kid for k in keys)

    def _refresh(self) -> None:
        keys = self._keys_of()
        kids = tuple(k.kid for k in keys)
        if kids != self._kids:
            self.replace_recipients(keys)
            self._kids = kids

    def seal(
        self,
        payload: bytes,
        *,
        pad_to: int | None = None,
        schema: int | None = None,
        record_id: uuid.UUID | None = None,
    ) -> bytes:
        self._refresh()
        return super().seal(payload, pad_to=pad_to, schema=schema, record_id=record_id)

    def seal_with_receipt(
        self,
        payload: bytes,
        *,
        pad_to: int | None = None,
        schema: int | None = None,
        record_id: uuid.UUID | None = None,
    ) -> SealedRecord:
        self._refresh()
        return super().seal_with_receipt(payload, pad_to=pad_to, schema=schema, record_id=record_id)

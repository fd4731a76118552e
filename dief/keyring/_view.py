"""What one party's service may use: its own private keys, and everyone else's public keys
from the signed forum directory it holds (DESIGN §4 ⚑, §11).

:func:`open_party` opens the keyring folder a service is given: a party keyring (a node, a
region, the Secretariat) becomes a :class:`PartyView` over a :class:`DirectoryHolder` pinned
to the forum root; a simulated forum (``dief keys init``) is returned as it is, since it
answers the same questions. A service asking for a private key its party does not hold
gets :class:`~dief.exceptions.KeyNotFoundError`: a node can never open a region's cases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from dief.exceptions import ConfigurationError, KeyNotFoundError
from dief.keyring._follow import DirectoryHolder, OfferOutcome
from dief.keyring._model import KeyRole, NodeSecret
from dief.keyring._parties import NodeKeys, RegionKeys
from dief.keyring._party import PartyKeyring, PartyKind, Purpose
from dief.keyring._secretariat import SecretariatKeys
from dief.keyring._simulation import SimulatedForum

if TYPE_CHECKING:
    from pathlib import Path

    from dief.crypto import KemPrivateKey, KemPublicKey, SigningKey, VerifyKey
    from dief.keyring._directory import ForumDirectory
    from dief.seams import Clock
    from dief.wire import DirectoryRole

__all__ = ["KeySource", "OwnParty", "PartyView", "open_party"]

OwnParty = NodeKeys | RegionKeys | SecretariatKeys


class KeySource(Protocol):
    """The questions a service asks of the keys it runs with (a :class:`PartyView`, or a
    :class:`SimulatedForum` in a simulation): public keys come from the signed directory,
    private ones only from the party's own keyring (:class:`KeyNotFoundError` otherwise)."""

    def sealing_keys(self, role: KeyRole, region: str | None = None) -> list[KemPublicKey]: ...

    def opening_keys(self, role: KeyRole, region: str | None = None) -> list[KemPrivateKey]: ...

    def signing_key(self, role: KeyRole, region: str | None = None) -> SigningKey: ...

    def verify_keys(
        self, role: KeyRole | DirectoryRole, region: str | None = None
    ) -> list[VerifyKey]: ...

    def node_secret(self, name: str) -> NodeSecret: ...

    @property
    def directory(self) -> ForumDirectory: ...


class PartyView:
    """One party's keys and the directory it holds, answering what a service asks."""

    __slots__ = ("_holder", "_own")

    def __init__(self, own: OwnParty, holder: DirectoryHolder) -> None:
        self._own = own
        self._holder = holder

    def __repr__(self) -> str:
        return f"PartyView({type(self._own).__name__})"

    @property
    def own(self) -> OwnParty:
        return self._own

    @property
    def holder(self) -> DirectoryHolder:
        return self._holder

    @property
    def directory(self) -> ForumDirectory:
        return self._holder.require()

    def sealing_keys(self, role: KeyRole, region: str | None = None) -> list[KemPublicKey]:
        """Active KEM keys of a region or the Secretariat, from the signed directory."""
        directory = self.directory
        found = (
            directory.region_kem_keys(str(region))
            if role is KeyRole.REGION
            else directory.secretariat_kem_keys()
        )
        if not found:
            raise KeyNotFoundError(f"no active {role.value} KEM key in the directory")
        return found

    def opening_keys(self, role: KeyRole, region: str | None = None) -> list[KemPrivateKey]:
        """The party's own KEM private keys that the directory lets open (not revoked)."""
        own = self._own
        directory = self.directory
        if role is KeyRole.REGION and isinstance(own, RegionKeys) and own.region == region:
            kids = directory.region_opening_kids(str(region))
            return [k for k in own.kem_keys() if k.kid in kids]
        if role is KeyRole.SECRETARIAT and isinstance(own, SecretariatKeys):
            kids = directory.secretariat_opening_kids()
            ring = own.ring
            return [ring.kem_key(k.kid) for k in ring.list_keys() if k.kid in kids]
        raise KeyNotFoundError(f"this party holds no {_scope(role, region)} private key")

    def signing_key(self, role: KeyRole, region: str | None = None) -> SigningKey:
        own = self._own
        if role is KeyRole.REGION and isinstance(own, RegionKeys) and own.region == region:
            return own.signing_key()
        if role is KeyRole.SECRETARIAT and isinstance(own, SecretariatKeys):
            ring = own.ring
            return ring.signing_key(ring.active(Purpose.SIGN).kid)
        raise KeyNotFoundError(f"this party holds no {_scope(role, region)} signing key")

    def verify_keys(
        self, role: KeyRole | DirectoryRole, region: str | None = None
    ) -> list[VerifyKey]:
        return self.directory.verify_keys(role, region)

    def node_secret(self, name: str = "node") -> NodeSecret:
        if not isinstance(self._own, NodeKeys):
            raise KeyNotFoundError("this party holds no node secret")
        return self._own.node_secret(name)


def _scope(role: KeyRole, region: str | None) -> str:
    return f"{role.value} {region}" if region else role.value


def open_party(
    path: Path,
    passphrase: str,
    *,
    root_fingerprint: str | None,
    directory: bytes | None,
    clock: Clock | None = None,
) -> PartyView | SimulatedForum:
    """The keys a service runs with.

    *path* is a simulated forum (returned as it is: its directory is pinned to its own
    root) or one party's keyring; then *root_fingerprint* is required and *directory* (the
    raw signed directory, from its file) is offered to a new holder, which a service keeps
    following on ``dief.directory``.

    :raises ConfigurationError: no root fingerprint for a party keyring, or a directory
        that does not verify under it.
    """
    if (path / "simulation.json").is_file():
        return SimulatedForum.load(path, passphrase, clock=clock)
    ring = PartyKeyring.load(path, clock=clock)
    if root_fingerprint is None:
        raise ConfigurationError(
            "a party keyring needs the forum root's fingerprint "
            "(DIEF_DIRECTORY__ROOT_FINGERPRINT or DIEF_DIRECTORY__ROOT_FINGERPRINT_FILE)"
        )
    holder = DirectoryHolder(root_fingerprint, clock=clock)
    if directory is not None:
        offer = holder.offer(directory)
        if offer.outcome is OfferOutcome.REFUSED:
            raise ConfigurationError(
                f"the forum directory does not verify under the pinned root ({offer.reason})"
            )
    own: OwnParty
    if ring.party is PartyKind.NODE:
        own = NodeKeys.load(path, passphrase=passphrase, clock=clock)
    elif ring.party is PartyKind.REGION:
        own = RegionKeys.load(path, passphrase=passphrase, clock=clock)
    elif ring.party is PartyKind.SECRETARIAT:
        own = SecretariatKeys.load(path, passphrase=passphrase, clock=clock)
    else:
        raise ConfigurationError(
            f"{path} is the {ring.party.value} keyring: a service runs with a node, region or "
            "Secretariat keyring"
        )
    return PartyView(own, holder)

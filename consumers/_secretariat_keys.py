"""The Secretariat service's keys: its own keys and directory (:func:`own_keys`), and the
issuer keys its state lists, kept loaded in the running issuer (:class:`IssuerKeys`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.credentials import IssuerKey
from dief.exceptions import ConfigurationError, DiefError
from dief.keyring import DirectoryHolder, SecretariatKeys, SimulatedForum
from dief.wire import DirectoryRole, KeyStatus

if TYPE_CHECKING:
    from collections.abc import Callable

    from dief.credentials import Issuer
    from dief.keyring import PartyView

__all__ = ["IssuerKeys", "OwnKeys", "own_keys"]


@dataclass(frozen=True, slots=True)
class OwnKeys:
    """The Secretariat's keys and the directory it holds."""

    secretariat: SecretariatKeys
    holder: DirectoryHolder


def own_keys(ring: PartyView | SimulatedForum) -> OwnKeys:
    """The Secretariat's own keys from its keyring (or the simulated forum's Secretariat)
    and its directory: the one given, else its own current one."""
    if isinstance(ring, SimulatedForum):
        return OwnKeys(
            ring.secretariat(), DirectoryHolder(ring.root_fingerprint, current=ring.directory)
        )
    if not isinstance(ring.own, SecretariatKeys):
        raise ConfigurationError(
            "the keyring at DIEF_KEYRING__PATH is not the Secretariat's "
            "(dief keys init-secretariat)"
        )
    sec, holder = ring.own, ring.holder
    if holder.current is None:
        current = sec.current_directory()
        if current is None:
            raise ConfigurationError(
                "the Secretariat has issued no directory yet (dief keys directory issue)"
            )
        holder.offer(current.raw)
        if holder.current is None:
            raise ConfigurationError(
                "the Secretariat's current directory does not verify under the pinned root "
                "(DIEF_DIRECTORY__ROOT_FINGERPRINT)"
            )
    return OwnKeys(sec, holder)


class IssuerKeys:
    """Keeps the issuer holding every issuer key the Secretariat's state lists (not
    revoked): keys made while the service runs (a new cycle) are loaded from the keyring
    folder, which *reload* opens again."""

    def __init__(
        self, issuer: Issuer, reload: Callable[[], SecretariatKeys], *, simulation: bool
    ) -> None:
        self._issuer = issuer
        self._reload = reload
        self._simulation = simulation

    def __repr__(self) -> str:
        return f"IssuerKeys({self._issuer!r})"

    @staticmethod
    def listed(sec: SecretariatKeys) -> list[tuple[str, str]]:
        """The (cycle, region) of every issuer key *sec*'s state lists, not revoked."""
        return sorted(
            (str(k.cycle), str(k.region))
            for k in sec.state().keys
            if k.role is DirectoryRole.ISSUER and k.status is not KeyStatus.REVOKED
        )

    def load(self, sec: SecretariatKeys) -> int:
        """Add the keys *sec* lists that the issuer lacks; returns how many were added."""
        added = 0
        for cycle, region in self.listed(sec):
            if self._issuer.key_for(cycle, region) is not None:
                continue
            try:
                private = sec.issuer_private_key(cycle, region)
            except DiefError:
                continue  # listed, but not in this copy of the keyring (yet)
            self._issuer.add_key(IssuerKey(cycle, region, private, simulation=self._simulation))
            added += 1
        return added

    async def sync(self, sec: SecretariatKeys) -> int:
        """Like :meth:`load`, opening the keyring again (in a worker thread: its KDF) when
        the state lists a key the issuer lacks (made by ``dief keys issuer-keys`` while the
        service ran)."""
        missing = [p for p in self.listed(sec) if self._issuer.key_for(*p) is None]
        if not missing:
            return 0
        return self.load(await asyncio.to_thread(self._reload))

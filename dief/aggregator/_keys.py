"""What an aggregator service runs with (DESIGN §4 ⚑): the signed directory it holds, which
regions its keyring lets it serve, and openers kept to the KEM keys the directory lets open.

A party keyring (:class:`~dief.keyring.PartyView`) is one region's: the service serves that
region only. A simulation (:class:`~dief.keyring.SimulatedForum`) may serve any. Without a
directory file, the first directory is read from ``dief.directory``
(:func:`first_directory`); the service then follows it, and :class:`RegionOpeners` drops the
keys a new version revokes and loads, from the region's keyring, the keys it adds.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from dief.crypto.envelope import Opener
from dief.exceptions import ConfigurationError, DiefError
from dief.keyring import (
    FIRST_DIRECTORY_SECONDS,
    DirectoryHolder,
    ForumDirectory,
    KeyRole,
    KeySource,
    PartyView,
    RegionKeys,
    SimulatedForum,
    first_directory,
)
from dief.seams import Clock, SystemClock
from dief.wire import KeyStatus

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from dief.crypto import KemPrivateKey
    from dief.vocab import Region

__all__ = [
    "FIRST_DIRECTORY_SECONDS",
    "RELOAD_INTERVAL_SECONDS",
    "RegionOpeners",
    "first_directory",
    "region_holder",
]

log = logging.getLogger("dief.aggregator")


def region_holder(ring: PartyView | SimulatedForum, regions: Sequence[Region]) -> DirectoryHolder:
    """The directory the service holds; a party keyring must be the one served region's.

    :raises ConfigurationError: the keyring is not a region's, or *regions* names another.
    """
    if isinstance(ring, SimulatedForum):
        return DirectoryHolder(ring.root_fingerprint, current=ring.directory)
    own = ring.own
    if not isinstance(own, RegionKeys):
        raise ConfigurationError(
            "the keyring at DIEF_KEYRING__PATH is not a region's (dief keys init-region)"
        )
    others = [r.value for r in regions if r.value != own.region]
    if others:
        raise ConfigurationError(
            f"this keyring holds the keys of {own.region} only; it cannot aggregate "
            f"{', '.join(others)} (run one aggregator per region: --region {own.region})"
        )
    return ring.holder


#: Least time between two reloads of a region's keyring for a record naming keys not held
#: (each costs a passphrase KDF; a stream of records naming unknown keys must not repeat it).
RELOAD_INTERVAL_SECONDS = 30.0


class RegionOpeners:
    """Every opener of each served region's cases (the consumers' and the digests'), kept
    to the keys the directory lets open: on a new directory, keys it revoked are dropped and
    keys it added are loaded from the region's keyring (*reload*).

    A record sealed to a key the region made and published but this service has not loaded
    yet (a node saw the new directory first) is not dead-lettered: its opener asks for the
    missing key, and the region's own keyring is read again (at most once per
    :data:`RELOAD_INTERVAL_SECONDS`); a key the directory revoked is never taken."""

    def __init__(
        self,
        ring: KeySource,
        reload: Callable[[Region], list[KemPrivateKey]],
        *,
        clock: Clock | None = None,
    ) -> None:
        self._ring = ring
        self._reload = reload
        self._openers: dict[Region, list[Opener]] = {}
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._reloaded: dict[Region, float] = {}

    def __repr__(self) -> str:
        return f"RegionOpeners(regions={[r.value for r in self._openers]})"

    def make(self, region: Region) -> Opener:
        """A new opener of *region*'s cases, kept up to date with the others."""
        opener = Opener(
            self._ring.opening_keys(KeyRole.REGION, region.value),
            missing_keys=lambda kids: self._missing(region, kids),
        )
        self._openers.setdefault(region, []).append(opener)
        return opener

    def _missing(self, region: Region, kids: frozenset[str]) -> list[KemPrivateKey]:
        """The region's own keys among *kids* that the directory has not revoked, read again
        from its keyring (rate-limited); every opener of the region holds them after."""
        now = self._clock.now()
        last = self._reloaded.get(region)
        if last is not None and now - last < RELOAD_INTERVAL_SECONDS:
            return []
        self._reloaded[region] = now
        try:
            keys = self._reload(region)
        except DiefError as exc:
            log.error("%s: KEM keys not reloaded (%s)", region.value, exc.message)  # noqa: TRY400  logged by type or code only: a traceback could carry decrypted case text
            return []
        directory = self._ring.directory
        found = []
        for key in keys:
            entry = directory.entry(key.kid)
            if key.kid in kids and (entry is None or entry.status is not KeyStatus.REVOKED):
                found.append(key)
        for opener in self._openers.get(region, []):
            for key in found:
                opener.add_key(key)
        if found:
            log.info("%s: opening with a new KEM key of the region's own keyring", region.value)
        return found

    async def refresh(self, directory: ForumDirectory) -> None:
        """Keep every opener to the keys *directory* lets open (a failed reload is logged:
        the openers keep the keys they have)."""
        for region, openers in self._openers.items():
            allowed = directory.region_opening_kids(region.value)
            missing = allowed - openers[0].kids
            keys = []
            if missing:
                try:
                    keys = await asyncio.to_thread(self._reload, region)
                except DiefError as exc:
                    log.error("%s: new KEM keys not loaded (%s)", region.value, exc.message)  # noqa: TRY400  logged by type or code only: a traceback could carry decrypted case text
            for opener in openers:
                for kid in opener.kids - allowed:
                    opener.remove_key(kid)
                for key in keys:
                    if key.kid in allowed and key.kid not in opener.kids:
                        opener.add_key(key)
            if missing & {k.kid for k in keys}:
                log.info(
                    "%s: opening with the KEM keys of directory v%d",
                    region.value,
                    directory.version,
                )

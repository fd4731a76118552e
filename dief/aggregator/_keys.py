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
from collections.abc import Callable, Sequence

from dief.crypto import KemPrivateKey
from dief.crypto.envelope import Opener
from dief.exceptions import BrokerError, ConfigurationError, DiefError
from dief.kafka import DIRECTORY_TOPIC
from dief.keyring import (
    DirectoryFollower,
    DirectoryHolder,
    ForumDirectory,
    KeyRole,
    KeySource,
    PartyView,
    RegionKeys,
    SimulatedForum,
)
from dief.vocab import Region

__all__ = ["FIRST_DIRECTORY_SECONDS", "RegionOpeners", "first_directory", "region_holder"]

log = logging.getLogger("dief.aggregator")

#: How long a service reads ``dief.directory`` for a first directory when no file gave one.
FIRST_DIRECTORY_SECONDS = 15.0


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


async def first_directory(
    follower: DirectoryFollower,
    holder: DirectoryHolder,
    *,
    seconds: float = FIRST_DIRECTORY_SECONDS,
) -> None:
    """Read ``dief.directory`` until a directory verifies (at most *seconds*).

    :raises ConfigurationError: none verified in time, or the broker did not answer.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    problem = "none was published"
    while holder.current is None and loop.time() < deadline:
        try:
            await follower.poll()
        except BrokerError as exc:
            problem = exc.message
            break
    if holder.current is None:
        raise ConfigurationError(
            "no forum directory: give its file (DIEF_DIRECTORY__FILE), or publish it on "
            f"{DIRECTORY_TOPIC} ({problem})"
        )


class RegionOpeners:
    """Every opener of each served region's cases (the consumers' and the digests'), kept
    to the keys the directory lets open: on a new directory, keys it revoked are dropped and
    keys it added are loaded from the region's keyring (*reload*)."""

    def __init__(self, ring: KeySource, reload: Callable[[Region], list[KemPrivateKey]]) -> None:
        self._ring = ring
        self._reload = reload
        self._openers: dict[Region, list[Opener]] = {}

    def __repr__(self) -> str:
        return f"RegionOpeners(regions={[r.value for r in self._openers]})"

    def make(self, region: Region) -> Opener:
        """A new opener of *region*'s cases, kept up to date with the others."""
        opener = Opener(self._ring.opening_keys(KeyRole.REGION, region.value))
        self._openers.setdefault(region, []).append(opener)
        return opener

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
                    log.error("%s: new KEM keys not loaded (%s)", region.value, exc.message)
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

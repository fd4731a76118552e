"""The forum's keys for a run: an existing keyring, or a throw-away one."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from dief.crypto import KemPrivateKey, KemPublicKey
from dief.exceptions import ConfigurationError
from dief.keyring import Keyring, KeyRole
from dief.pipeline._options import RunOptions
from dief.vocab import Region

__all__ = ["ForumKeys", "load_keys"]


@dataclass(frozen=True, slots=True)
class ForumKeys:
    """The keyring, and each region's keys by region: sealing (the nodes seal its cases
    to them) and opening (its aggregator opens them)."""

    ring: Keyring
    sealing: dict[Region, list[KemPublicKey]]
    opening: dict[Region, list[KemPrivateKey]]


def load_keys(options: RunOptions, work: Path) -> ForumKeys:
    if options.keys is not None:
        # An existing forum keyring: the digests' lessons stay readable afterwards
        # (`dief digest --keys`), and summaries verify against known keys.
        if options.passphrase is None:
            raise ConfigurationError(f"the keyring {options.keys} needs its passphrase")
        ring = Keyring.load(options.keys, passphrase=options.passphrase.get_secret_value())
    else:
        # A throw-away forum for this run; its passphrase is never stored.
        ring = Keyring.init_forum(work / "keys", secrets.token_urlsafe(24))
    return ForumKeys(
        ring,
        sealing={r: ring.sealing_keys(KeyRole.REGION, r.value) for r in Region},
        opening={r: ring.opening_keys(KeyRole.REGION, r.value) for r in Region},
    )

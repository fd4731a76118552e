"""Keyrings: directories of key files, private parts encrypted with a passphrase (DESIGN §4).

A forum keyring holds, per region, a KEM key pair (role ``region``) and a signing key pair;
the same for the Secretariat (role ``secretariat``, no region); and a 32-byte secret per
named national node. Rotation makes a new key active while the old ones keep opening
(``previous``) until retired. The file format is documented in :mod:`dief.keyring._files`.

Typical use::

    ring = Keyring.load(path, passphrase=passphrase)
    sealer = Sealer(type=TYPE_CASE, region="AFR",
                    recipients=ring.sealing_keys(KeyRole.REGION, "AFR"))
    opener = Opener(ring.opening_keys(KeyRole.REGION, "AFR"))
    signer = ring.signing_key(KeyRole.SECRETARIAT)
    secret = ring.node_secret("node-1")
"""

from __future__ import annotations

from dief.keyring._model import KdfParams, KeyInfo, KeyKind, KeyRole, NodeSecret
from dief.keyring._ring import Keyring

__all__ = ["KdfParams", "KeyInfo", "KeyKind", "KeyRole", "Keyring", "NodeSecret"]

"""A national node's backup: its secret, registration key and KEM key, sealed under a
backup passphrase, plus named extras the node adds (its case index, tokens).

One JSON file (mode 0600)::

    {"format": "dief-node-backup/1", "simulation": false, "kdf": {...}, "check": {...},
     "keys": [<OwnKey>...], "secrets": [<SecretFile>...], "extras": {"<name>": <SecretFile>}}

Each secret is AES-256-GCM under Argon2id(backup passphrase) with the header as AAD, as in
a keyring. Losing the backup (and the node) makes the node's cases impossible to revise or
withdraw: ``docs/key-runbook.md`` says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from dief.crypto import b64url_decode
from dief.keyring._files import (
    CheckFile,
    KdfFile,
    SecretFile,
    derive_kek,
    make_check,
    open_secret,
    read_model,
    seal_secret,
    verify_check,
    write_atomic,
)
from dief.keyring._model import KdfParams
from dief.keyring._parties import NodeKeys
from dief.keyring._party import SECRET_KIND, SIMULATION_KDF, OwnKey, PartyKeyring, PartyKind

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dief.seams import Clock

__all__ = ["backup_node", "restore_node"]

_MODE = 0o600


class _Backup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["dief-node-backup/1"] = "dief-node-backup/1"
    simulation: bool
    kdf: KdfFile
    check: CheckFile
    keys: tuple[OwnKey, ...]
    secrets: tuple[SecretFile, ...]
    extras: dict[str, SecretFile] = {}


def _bytes(text: str | bytes) -> bytes:
    return text.encode("utf-8") if isinstance(text, str) else bytes(text)


def backup_node(
    node: NodeKeys,
    target: str | Path,
    passphrase: str | bytes,
    *,
    extras: Mapping[str, bytes] | None = None,
) -> Path:
    """Write *node*'s backup (unlocked keyring) to the new file *target*."""
    ring = node.ring
    params = SIMULATION_KDF if ring.simulation else KdfParams()
    kdf = KdfFile.new(params)
    kek = derive_kek(_bytes(passphrase), kdf)
    keys = tuple(ring.list_keys())
    sealed = tuple(
        seal_secret(
            ring.raw_secret(key.kid),
            kind=_kind(key),
            ident=key.kid,
            alg=key.alg,
            kdf=kdf,
            kek=kek,
        )
        for key in keys
    )
    extra = {
        name: seal_secret(value, kind="node", ident=f"extra:{name}", alg="extra", kdf=kdf, kek=kek)
        for name, value in (extras or {}).items()
    }
    backup = _Backup(
        simulation=ring.simulation,
        kdf=kdf,
        check=make_check(kek),
        keys=keys,
        secrets=sealed,
        extras=extra,
    )
    path = Path(target)
    write_atomic(path, backup.model_dump_json().encode(), mode=_MODE, exclusive=True)
    return path


def _kind(key: OwnKey) -> Literal["kem", "sign", "node", "rsa"]:
    return SECRET_KIND[key.purpose]


def restore_node(
    source: str | Path,
    backup_passphrase: str | bytes,
    path: str | Path,
    passphrase: str | bytes,
    *,
    clock: Clock | None = None,
) -> tuple[NodeKeys, dict[str, bytes]]:
    """A node keyring in the new folder *path* (under *passphrase*) from a backup; the
    extras it carried."""
    backup = read_model(Path(source), _Backup)
    kek = derive_kek(_bytes(backup_passphrase), backup.kdf)
    verify_check(kek, backup.check)
    ring = PartyKeyring.create(
        path, PartyKind.NODE, passphrase, simulation=backup.simulation, clock=clock
    )
    by_kid = {s.id: s for s in backup.secrets}
    for key in backup.keys:
        secret = open_secret(by_kid[key.kid], kek, where="the backup")
        ring.add(key.purpose, key.alg, key.kid, _public(key), secret, status=key.status)
    extras = {name: open_secret(s, kek, where="the backup") for name, s in backup.extras.items()}
    return NodeKeys(ring), extras


def _public(key: OwnKey) -> bytes:
    return b64url_decode(key.public)

"""The signed forum directory a command trusts (DESIGN §4 ⚑): options and lookup.

A command that needs other parties' public keys takes them from the signed directory only:
a directory file verified under the pinned root fingerprint (``--directory`` and
``--root-fingerprint``, or ``DIEF_DIRECTORY__FILE`` and ``DIEF_DIRECTORY__ROOT_FINGERPRINT``
/ ``…_FILE``), or the directory of a simulated forum folder (``dief keys init``, ``dief
run``), checked against the root fingerprint that forum pins (and against
``--root-fingerprint`` when one is given). Key files lying in a folder are never read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import SecretStr

from dief.exceptions import ConfigurationError
from dief.keyring import (
    ForumDirectory,
    KeySource,
    PartyView,
    SimulatedForum,
    normalise_fingerprint,
    verify_directory,
)
from dief.settings import DirectorySettings, KeyringSettings

__all__ = [
    "DirectoryOpt",
    "RootFingerprintOpt",
    "directory_overrides",
    "is_simulated_forum",
    "trusted_directory",
    "unlock_keys",
]

DirectoryOpt = Annotated[
    Path | None,
    typer.Option(
        "--directory",
        help="The signed forum directory file (default: DIEF_DIRECTORY__FILE)",
        dir_okay=False,
    ),
]
RootFingerprintOpt = Annotated[
    str | None,
    typer.Option(
        "--root-fingerprint",
        help="The forum root's fingerprint the directory must verify under (default: "
        "DIEF_DIRECTORY__ROOT_FINGERPRINT, else the first line of "
        "DIEF_DIRECTORY__ROOT_FINGERPRINT_FILE)",
    ),
]

_NEEDS = (
    "give the signed forum directory and the forum root's fingerprint (--directory and "
    "--root-fingerprint, or DIEF_DIRECTORY__FILE and DIEF_DIRECTORY__ROOT_FINGERPRINT[_FILE]), "
    "or a simulated forum folder"
)


def directory_overrides(directory: Path | None, root_fingerprint: str | None) -> dict[str, Any]:
    """The ``directory`` settings group of the options given (None: not given)."""
    return {"file": directory, "root_fingerprint": root_fingerprint}


def is_simulated_forum(path: Path) -> bool:
    return (path / "simulation.json").is_file()


def trusted_directory(settings: DirectorySettings, folder: Path | None) -> ForumDirectory:
    """The directory to take public keys from: the directory file of *settings* verified
    under its root fingerprint, else the directory of the simulated forum *folder*.

    :raises ConfigurationError: no directory, no pinned root for a directory file, or a
        folder that is not a simulated forum (a party keyring holds no one else's keys).
    :raises DirectoryError: the directory does not verify (its ``code`` says why).
    """
    pinned = settings.read_root_fingerprint()
    raw = settings.read_directory()
    if raw is not None:
        if pinned is None:
            raise ConfigurationError(
                "a directory file is trusted only under the forum root's fingerprint: give "
                "--root-fingerprint or DIEF_DIRECTORY__ROOT_FINGERPRINT[_FILE]"
            )
        return verify_directory(raw, pinned)
    if folder is None or not is_simulated_forum(folder):
        where = f"{folder} is not a simulated forum and" if folder is not None else "there"
        raise ConfigurationError(
            f"{where} no signed forum directory was given (public keys come from the "
            f"signed directory only, never from key files): {_NEEDS}"
        )
    # Only the public parts of the forum are read: no passphrase is needed or used.
    forum = SimulatedForum.load(folder, "")
    if pinned is not None and normalise_fingerprint(pinned) != forum.root_fingerprint:
        raise ConfigurationError(
            f"the simulated forum {folder} is pinned to another forum root than the one given"
        )
    return forum.directory


def unlock_keys(
    keyring: KeyringSettings,
    passphrase: SecretStr | None,
    purpose: str,
    directory: DirectorySettings,
) -> KeySource:
    """The keys at ``keyring.path`` (a party keyring with the directory of *directory*, or a
    simulated forum), as :meth:`KeyringSettings.unlock` gives them.

    :raises ConfigurationError: a party keyring without a signed directory (it holds no one
        else's public keys, and its own keys open only what the directory lets them).
    """
    source = keyring.unlock(passphrase, purpose, directory)
    if isinstance(source, PartyView) and source.holder.current is None:
        raise ConfigurationError(
            f"{keyring.path} is one party's keyring: it needs the signed forum directory "
            f"(--directory, or DIEF_DIRECTORY__FILE) under the pinned root fingerprint"
        )
    return source

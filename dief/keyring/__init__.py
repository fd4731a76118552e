"""Key custody (DESIGN §4 ⚑): one keyring per party, and the signed forum directory.

Each party holds only its own private keys, in a folder of its own under its own passphrase
(:class:`PartyKeyring`): the offline forum root (:class:`RootKeys`), the Secretariat
(:class:`SecretariatKeys`: its KEM and signing keys, the directory key, the RSA issuer keys,
the registry of nodes by key id), each region (:class:`RegionKeys`, its recovery key in a
keyring of its own) and each national node (:class:`NodeKeys`: its secret, registration key
and KEM key; :func:`backup_node` / :func:`restore_node`). Everyone else's public keys come
from the signed directory only: :func:`verify_directory` checks it against the pinned root
fingerprint and the version held and gives a :class:`ForumDirectory`;
:class:`DirectoryHolder` keeps the current one and :class:`DirectoryFollower` follows
``dief.directory``; :func:`publish_directory` writes a version there. A service opens its
keys with :func:`open_party`: a :class:`PartyView` (its own private keys, everyone else's
public keys from the directory it holds) or, in a simulation, the :class:`SimulatedForum`.

:class:`SimulatedForum` builds every party in one folder, flagged simulation, for
``dief keys init``, demos and tests; there is no other way to hold several parties' keys
in one place.

Typical use::

    holder = DirectoryHolder(root_fingerprint)
    holder.offer(raw_directory)                      # from a file or the topic
    sealer = Sealer(type=TYPE_CASE, region="AFR",
                    recipients=holder.require().region_kem_keys("AFR"))
"""

from __future__ import annotations

from dief.keyring._backup import backup_node, restore_node
from dief.keyring._bulletin_key import (
    group_public_key,
    issue_bulletin_group_key,
    open_bulletin_group_key,
    open_group_key_copy,
    verify_bulletin_group_key,
)
from dief.keyring._directory import ForumDirectory, verify_certificate, verify_directory
from dief.keyring._follow import (
    FIRST_DIRECTORY_SECONDS,
    DirectoryFollower,
    DirectoryHolder,
    Offer,
    OfferOutcome,
    first_directory,
    publish_directory,
)
from dief.keyring._model import KdfParams, KeyRole, NodeSecret
from dief.keyring._parties import NodeKeys, RegionKeys, RootKeys
from dief.keyring._party import SIMULATION_KDF, OwnKey, PartyKeyring, PartyKind, Purpose
from dief.keyring._secretariat import DEFAULT_DIRECTORY_DAYS, Registration, SecretariatKeys
from dief.keyring._simulation import SimulatedForum, simulation_parameters
from dief.keyring._statements import normalise_fingerprint, parse_strict, root_fingerprint
from dief.keyring._view import KeySource, OwnParty, PartyView, open_party

__all__ = [
    "DEFAULT_DIRECTORY_DAYS",
    "FIRST_DIRECTORY_SECONDS",
    "SIMULATION_KDF",
    "DirectoryFollower",
    "DirectoryHolder",
    "ForumDirectory",
    "KdfParams",
    "KeyRole",
    "KeySource",
    "NodeKeys",
    "NodeSecret",
    "Offer",
    "OfferOutcome",
    "OwnKey",
    "OwnParty",
    "PartyKeyring",
    "PartyKind",
    "PartyView",
    "Purpose",
    "RegionKeys",
    "Registration",
    "RootKeys",
    "SecretariatKeys",
    "SimulatedForum",
    "backup_node",
    "first_directory",
    "group_public_key",
    "issue_bulletin_group_key",
    "normalise_fingerprint",
    "open_bulletin_group_key",
    "open_group_key_copy",
    "open_party",
    "parse_strict",
    "publish_directory",
    "restore_node",
    "root_fingerprint",
    "simulation_parameters",
    "verify_bulletin_group_key",
    "verify_certificate",
    "verify_directory",
]

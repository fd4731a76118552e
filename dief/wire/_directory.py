"""The signed forum directory and the files the forum's parties hand each other (DESIGN §4 ⚑).

Shapes only: signing, verification and the rules are in :mod:`dief.keyring`. Every document
here is UTF-8 JSON; a signature covers the JCS canonical JSON of the document without its
``signature`` member (:func:`dief.wire.unsigned_document`), under a context string of its
own (``CONTEXT_*`` below), so a signature over one kind of document never verifies as
another. Signatures are the composite ML-DSA-65 + Ed25519 objects of
:class:`dief.crypto.Signature`, carried here as plain JSON objects.

- :class:`ForumDirectoryDocument` — the directory: ``version``, ``issued_at``, ``expires``,
  :class:`ForumParameters`, the root-signed :class:`DirectoryKeyCertificate`, every
  :class:`DirectoryKey` with role, status and endorsements, the regions in a declared KEM
  rotation; signed by the certified directory key.
- :class:`DirectoryKeyRequest` — the Secretariat's new directory key, self-signed, for the root.
- :class:`RegionKeyBundle` — what a region signs so the Secretariat can list its keys.
- :class:`NodeRegistration` — a node's registration file (no name: key ids only).

Times are UTC, ``YYYY-MM-DDTHH:MM:SSZ``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = [
    "CONTEXT_DIRECTORY",
    "CONTEXT_DIRECTORY_CERTIFICATE",
    "CONTEXT_DIRECTORY_KEY_REQUEST",
    "CONTEXT_KEY_ENDORSEMENT",
    "CONTEXT_REGISTRATION",
    "DIRECTORY_FORMAT",
    "ISSUER_ALG",
    "DirectoryKey",
    "DirectoryKeyCertificate",
    "DirectoryKeyRequest",
    "DirectoryRole",
    "Endorsement",
    "EndorsementKind",
    "ForumDirectoryDocument",
    "ForumParameters",
    "KeyStatus",
    "NodeRegistration",
    "RegionKeyBundle",
]

DIRECTORY_FORMAT = "dief-directory/1"
#: Signature contexts (see :mod:`dief.crypto.signing`).
CONTEXT_DIRECTORY = "dief.directory"
CONTEXT_DIRECTORY_CERTIFICATE = "dief.directory-certificate"
CONTEXT_DIRECTORY_KEY_REQUEST = "dief.directory-key-request"
CONTEXT_KEY_ENDORSEMENT = "dief.key-endorsement"
CONTEXT_REGISTRATION = "dief.node-registration"
#: The algorithm of contributor-credential issuer keys (RFC 9474).
ISSUER_ALG = "RSABSSA-SHA384-PSS-Randomized"

_KID = r"^[a-z2-7]{20}$"
_B64URL = r"^[A-Za-z0-9_-]*$"
_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
_REGION = r"^[A-Z]{3,6}$"
_CYCLE = r"^CSP[1-9][0-9]{0,3}$"
_MAX_KEYS = 4096


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DirectoryRole(StrEnum):
    """What a key listed in the directory is for."""

    REGION_KEM = "region-kem"
    """A region's KEM key: nodes wrap case data keys to it."""
    REGION_SIGN = "region-sign"
    """A region's signing key: digests, route tables, bulletins, KEM endorsements."""
    REGION_RECOVERY = "region-recovery"
    """A region's offline recovery key: signs a successor of a lost or revoked signing key."""
    SECRETARIAT_KEM = "secretariat-kem"
    """The Secretariat's KEM key: digests and credential requests are sealed to it."""
    SECRETARIAT_SIGN = "secretariat-sign"
    """The Secretariat's signing key: CSP summaries."""
    ISSUER = "issuer"
    """A contributor-credential issuer key (RSA, RFC 9474), one per (cycle, region)."""
    NODE_KEM = "node-kem"
    """A registered node's KEM key, unnamed (bulletin group keys are wrapped to it)."""


class KeyStatus(StrEnum):
    """``active`` seals/signs; ``previous`` and ``retired`` only open/verify what was made
    before; ``revoked`` is never used again. A status only ever moves forward."""

    ACTIVE = "active"
    PREVIOUS = "previous"
    RETIRED = "retired"
    REVOKED = "revoked"


class EndorsementKind(StrEnum):
    """Who signed a key's statement."""

    SELF = "self"
    """The key itself (proof of possession of a recovery key)."""
    ROOT = "root"
    """The forum root (region signing and recovery keys)."""
    REGION = "region"
    """A signing key of the key's region (region KEM keys)."""
    PREDECESSOR = "predecessor"
    """An earlier key of the same role and region (signing and recovery successions)."""
    RECOVERY = "recovery"
    """The region's recovery key (a first signing key, or a successor of a lost one)."""


class Endorsement(_Shape):
    """A signature over a key's statement (role, region, cycle, kid, alg, public, ``by``)."""

    by: EndorsementKind
    signature: dict[str, JsonValue]


class DirectoryKey(_Shape):
    """One public key: role, scope, status and endorsements (no name, ever)."""

    role: DirectoryRole
    region: str | None = Field(default=None, pattern=_REGION)
    cycle: str | None = Field(default=None, pattern=_CYCLE)
    kid: str = Field(pattern=_KID)
    alg: str = Field(min_length=1, max_length=64)
    public: str = Field(pattern=_B64URL, max_length=4096)
    created: str = Field(pattern=_TIME)
    status: KeyStatus = KeyStatus.ACTIVE
    not_after: str | None = Field(default=None, pattern=_TIME)
    endorsements: tuple[Endorsement, ...] = Field(default=(), max_length=16)
    tokens: int | None = Field(default=None, ge=0)
    """Issuer keys: tokens signed for first registrations."""
    reissued_tokens: int | None = Field(default=None, ge=0)
    """Issuer keys: tokens signed again for nodes that registered anew after losing their
    secret (counted apart)."""


class ForumParameters(_Shape):
    """What every party must agree on."""

    regions: tuple[str, ...] = Field(min_length=1, max_length=16)
    cycle_start_month: int = Field(ge=1, le=12)
    k_meeting: int = Field(ge=1)
    k_csp: int = Field(ge=1)
    catalogue_versions: tuple[str, ...] = Field(default=(), max_length=32)
    simulation: bool = False
    """True for a forum made by ``dief keys init`` (cheap KDF, RSA-2048): never production."""


class DirectoryKeyCertificate(_Shape):
    """The root's certificate of one directory-signing key (short validity)."""

    format: Literal["dief-directory-certificate/1"] = "dief-directory-certificate/1"
    root_public: str = Field(pattern=_B64URL, max_length=4096)
    subject_kid: str = Field(pattern=_KID)
    subject_public: str = Field(pattern=_B64URL, max_length=4096)
    not_before: str = Field(pattern=_TIME)
    not_after: str = Field(pattern=_TIME)
    signature: dict[str, JsonValue] | None = None


class ForumDirectoryDocument(_Shape):
    """The signed forum directory (topic ``dief.directory``, keys ``current`` and
    ``v<version>``; and a file)."""

    format: Literal["dief-directory/1"] = "dief-directory/1"
    version: int = Field(ge=1)
    issued_at: str = Field(pattern=_TIME)
    expires: str = Field(pattern=_TIME)
    parameters: ForumParameters
    certificate: DirectoryKeyCertificate
    keys: tuple[DirectoryKey, ...] = Field(max_length=_MAX_KEYS)
    kem_rotations: tuple[str, ...] = Field(default=(), max_length=16)
    """Regions in a declared KEM rotation: only these may have two active KEM keys."""
    signature: dict[str, JsonValue] | None = None


class DirectoryKeyRequest(_Shape):
    """A new directory-signing key, signed by itself, for the root to certify."""

    format: Literal["dief-directory-key-request/1"] = "dief-directory-key-request/1"
    kid: str = Field(pattern=_KID)
    public: str = Field(pattern=_B64URL, max_length=4096)
    created: str = Field(pattern=_TIME)
    signature: dict[str, JsonValue] | None = None


class RegionKeyBundle(_Shape):
    """A region's public keys with the signatures it made (and the root's, once certified)."""

    format: Literal["dief-region-keys/1"] = "dief-region-keys/1"
    region: str = Field(pattern=_REGION)
    keys: tuple[DirectoryKey, ...] = Field(min_length=1, max_length=32)
    rotation: bool = False
    """True when the bundle brings a new KEM key beside the active one (a declared rotation)."""


class NodeRegistration(_Shape):
    """A node's registration file: its registration and KEM public keys, signed by the
    registration key. Key ids only; the State's name is kept offline by the Secretariat."""

    format: Literal["dief-registration/1"] = "dief-registration/1"
    registration_kid: str = Field(pattern=_KID)
    registration_public: str = Field(pattern=_B64URL, max_length=4096)
    kem_kid: str = Field(pattern=_KID)
    kem_alg: str = Field(min_length=1, max_length=64)
    kem_public: str = Field(pattern=_B64URL, max_length=4096)
    created: str = Field(pattern=_TIME)
    signature: dict[str, JsonValue] | None = None

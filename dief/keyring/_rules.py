"""The rules a forum directory must keep (DESIGN §4 ⚑), on their own and against the one held.

Nobody holding the root (nor the directory key) can silently add a reader or replace a
region's keys:

- every region KEM key carries a signature by a (not revoked) signing key of its region;
- every region signing key carries the root's signature **and** either its predecessor's
  (another, not revoked, signing key of the region) or the region recovery key's: the root
  alone never suffices;
- every region recovery key carries its own and the root's signature; a region has one chain
  of recovery keys (each later one signed by an earlier one), so the root cannot start a
  second;
- a region has one active KEM key, two only when the directory declares its rotation; one
  active signing key and one active recovery key;
- exactly one (not revoked) issuer key per (cycle, region);
- against the directory held: no key of a region, of the Secretariat or of an issuer
  disappears, changes, or goes back in status (active → previous → retired → revoked); only
  node KEM keys of revoked nodes leave. Every change of a region's keys is a warning.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dief.crypto import SIGNATURE_ALG, KemPublicKey, VerifyKey, b64url_decode, key_id
from dief.exceptions import ConfigurationError, DirectoryError
from dief.keyring._statements import verify_endorsement
from dief.wire import (
    ISSUER_ALG,
    DirectoryKey,
    DirectoryRole,
    EndorsementKind,
    ForumDirectoryDocument,
    KeyStatus,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["LoadedKey", "check_rules", "compare", "load_key"]

_SIGN_ROLES = {
    DirectoryRole.REGION_SIGN,
    DirectoryRole.REGION_RECOVERY,
    DirectoryRole.SECRETARIAT_SIGN,
}
_KEM_ROLES = {DirectoryRole.REGION_KEM, DirectoryRole.SECRETARIAT_KEM, DirectoryRole.NODE_KEM}
_REGION_ROLES = {DirectoryRole.REGION_KEM, DirectoryRole.REGION_SIGN, DirectoryRole.REGION_RECOVERY}
_RANK = {KeyStatus.ACTIVE: 0, KeyStatus.PREVIOUS: 1, KeyStatus.RETIRED: 2, KeyStatus.REVOKED: 3}
_MIN_RSA_BITS = 3072
_MIN_RSA_BITS_SIMULATION = 2048

LoadedKey = KemPublicKey | VerifyKey | rsa.RSAPublicKey


def _fail(message: str) -> DirectoryError:
    return DirectoryError(message, code="rule")


def load_key(key: DirectoryKey, *, simulation: bool) -> LoadedKey:
    """The public key object of *key*, its kid, algorithm and size checked."""
    try:
        public = b64url_decode(key.public)
    except ValueError as exc:
        raise DirectoryError(
            f"key {key.kid}: public key is not base64url", code="malformed"
        ) from exc
    if key_id(public) != key.kid:
        raise _fail(f"key {key.kid}: the key id does not match the public key")
    try:
        if key.role in _KEM_ROLES:
            return KemPublicKey(key.alg, public)
        if key.role in _SIGN_ROLES:
            if key.alg != SIGNATURE_ALG:
                raise _fail(f"key {key.kid}: a signing key must be {SIGNATURE_ALG}")
            return VerifyKey(public)
        loaded = serialization.load_der_public_key(public)
    except (ConfigurationError, ValueError) as exc:
        raise _fail(f"key {key.kid}: not a valid {key.role.value} public key") from exc
    if key.alg != ISSUER_ALG or not isinstance(loaded, rsa.RSAPublicKey):
        raise _fail(f"key {key.kid}: an issuer key must be RSA ({ISSUER_ALG})")
    floor = _MIN_RSA_BITS_SIMULATION if simulation else _MIN_RSA_BITS
    if loaded.key_size < floor:
        raise _fail(f"key {key.kid}: issuer keys are at least {floor}-bit RSA")
    return loaded


def _check_scope(key: DirectoryKey, regions: Sequence[str]) -> None:
    regional = key.role in _REGION_ROLES or key.role is DirectoryRole.ISSUER
    if regional and key.region not in regions:
        raise _fail(f"key {key.kid}: {key.role.value} needs one of the forum's regions")
    if not regional and key.region is not None:
        raise _fail(f"key {key.kid}: a {key.role.value} key has no region")
    issuer = key.role is DirectoryRole.ISSUER
    if issuer != (key.cycle is not None):
        raise _fail(f"key {key.kid}: only issuer keys (and every one of them) name a cycle")
    if issuer != (key.tokens is not None and key.reissued_tokens is not None):
        raise _fail(f"key {key.kid}: only issuer keys (and every one of them) count tokens")


@dataclass(frozen=True, slots=True)
class _Context:
    keys: Mapping[str, DirectoryKey]
    loaded: Mapping[str, LoadedKey]
    root: VerifyKey

    def signers(self, role: DirectoryRole, region: str | None, *, revoked: bool) -> list[str]:
        return [
            k.kid
            for k in self.keys.values()
            if k.role is role
            and k.region == region
            and (revoked or k.status is not KeyStatus.REVOKED)
        ]

    def endorsed(self, key: DirectoryKey, by: EndorsementKind, candidates: Sequence[str]) -> bool:
        for endorsement in key.endorsements:
            if endorsement.by is not by:
                continue
            for kid in candidates:
                signer = self.root if kid == "root" else self.loaded.get(kid)
                eligible = kid != key.kid or by is EndorsementKind.SELF
                if (
                    eligible
                    and isinstance(signer, VerifyKey)
                    and verify_endorsement(key, endorsement, signer)
                ):
                    return True
        return False


def _check_region(context: _Context, region: str, *, rotating: bool) -> None:  # noqa: C901, PLR0912  the directory's rules for one region, checked in the order DESIGN §4 lists them
    keys = [k for k in context.keys.values() if k.region == region and k.role in _REGION_ROLES]
    recovery = [k for k in keys if k.role is DirectoryRole.REGION_RECOVERY]
    origins = 0
    for key in recovery:
        if not context.endorsed(key, EndorsementKind.SELF, [key.kid]):
            raise _fail(f"{region}: recovery key {key.kid} lacks its own signature")
        if not context.endorsed(key, EndorsementKind.ROOT, ["root"]):
            raise _fail(f"{region}: recovery key {key.kid} lacks the root's signature")
        earlier = [k.kid for k in recovery if k.kid != key.kid]
        if not context.endorsed(key, EndorsementKind.PREDECESSOR, earlier):
            origins += 1
    if origins > 1:
        raise _fail(f"{region}: a second recovery key not signed by the region's recovery key")
    for key in (k for k in keys if k.role is DirectoryRole.REGION_SIGN):
        if not context.endorsed(key, EndorsementKind.ROOT, ["root"]):
            raise _fail(f"{region}: signing key {key.kid} lacks the root's signature")
        others = list(context.signers(DirectoryRole.REGION_SIGN, region, revoked=False))
        others = [kid for kid in others if kid != key.kid]
        rescuers = context.signers(DirectoryRole.REGION_RECOVERY, region, revoked=False)
        if not (
            context.endorsed(key, EndorsementKind.PREDECESSOR, others)
            or context.endorsed(key, EndorsementKind.RECOVERY, rescuers)
        ):
            raise _fail(
                f"{region}: signing key {key.kid} is signed neither by its predecessor nor by "
                "the region's recovery key (the root alone never suffices)"
            )
    signers = context.signers(DirectoryRole.REGION_SIGN, region, revoked=False)
    for key in (k for k in keys if k.role is DirectoryRole.REGION_KEM):
        if not context.endorsed(key, EndorsementKind.REGION, signers):
            raise _fail(f"{region}: KEM key {key.kid} is not signed by a signing key of {region}")
    active = Counter(k.role for k in keys if k.status is KeyStatus.ACTIVE)
    if active[DirectoryRole.REGION_KEM] > (2 if rotating else 1):
        raise _fail(f"{region}: a second active KEM key without a declared rotation")
    for role in (DirectoryRole.REGION_SIGN, DirectoryRole.REGION_RECOVERY):
        if active[role] > 1:
            raise _fail(f"{region}: more than one active {role.value} key")


def check_rules(doc: ForumDirectoryDocument, root: VerifyKey) -> dict[str, LoadedKey]:
    """Check every rule of one directory on its own; its public keys by kid."""
    simulation = doc.parameters.simulation
    regions = doc.parameters.regions
    if len(set(regions)) != len(regions) or not set(doc.kem_rotations) <= set(regions):
        raise _fail("the forum's regions repeat, or a rotation names an unknown region")
    keys: dict[str, DirectoryKey] = {}
    loaded: dict[str, LoadedKey] = {}
    for key in doc.keys:
        if key.kid in keys:
            raise _fail(f"key {key.kid} is listed twice")
        _check_scope(key, regions)
        keys[key.kid] = key
        loaded[key.kid] = load_key(key, simulation=simulation)
    context = _Context(keys, loaded, root)
    for region in regions:
        _check_region(context, region, rotating=region in doc.kem_rotations)
    issuers = Counter(
        (k.cycle, k.region)
        for k in doc.keys
        if k.role is DirectoryRole.ISSUER and k.status is not KeyStatus.REVOKED
    )
    for scope, count in issuers.items():
        if count > 1:
            raise _fail(f"{count} issuer keys for {scope}: exactly one per (cycle, region)")
    active = Counter(k.role for k in doc.keys if k.status is KeyStatus.ACTIVE)
    for role in (DirectoryRole.SECRETARIAT_KEM, DirectoryRole.SECRETARIAT_SIGN):
        if active[role] > 1:
            raise _fail(f"more than one active {role.value} key")
    return loaded


def _describe(key: DirectoryKey) -> str:
    where = f" of {key.region}" if key.region else ""
    return f"{key.role.value} key {key.kid}{where}"


def compare(previous: ForumDirectoryDocument, doc: ForumDirectoryDocument) -> tuple[str, ...]:  # noqa: C901  one warning per kind of change between two directories, in order
    """Refuse a directory that drops, alters or un-revokes a key of *previous*; return a
    warning for every change of a region's keys (and of the parameters)."""
    new = {k.kid: k for k in doc.keys}
    warnings: list[str] = []
    for old in previous.keys:
        key = new.get(old.kid)
        if key is None:
            if old.role is DirectoryRole.NODE_KEM:
                continue
            raise _fail(f"{_describe(old)} of version {previous.version} is missing")
        if (key.role, key.region, key.cycle, key.alg, key.public) != (
            old.role,
            old.region,
            old.cycle,
            old.alg,
            old.public,
        ):
            raise _fail(f"{_describe(old)} was altered")
        if _RANK[key.status] < _RANK[old.status]:
            raise _fail(f"{_describe(old)} went back from {old.status.value} to {key.status.value}")
        if key.status is not old.status and key.role in _REGION_ROLES:
            warnings.append(f"{_describe(key)}: {old.status.value} -> {key.status.value}")
        if key.role is DirectoryRole.ISSUER and (key.tokens or 0) < (old.tokens or 0):
            warnings.append(f"{_describe(key)}: token count went down")
    known = {k.kid for k in previous.keys}
    for key in doc.keys:
        if key.kid not in known and key.role in _REGION_ROLES:
            warnings.append(f"{_describe(key)}: new ({key.status.value})")  # noqa: PERF401  the warnings in the order they are reported
    for region in sorted(set(doc.kem_rotations) - set(previous.kem_rotations)):
        warnings.append(f"{region}: KEM key rotation declared")  # noqa: PERF401  the warnings in the order they are reported
    if doc.parameters != previous.parameters:
        warnings.append("the forum parameters changed")
    return tuple(warnings)

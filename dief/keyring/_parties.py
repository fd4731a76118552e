"""The forum root, a region (with its recovery key) and a national node, each with its own
keyring (DESIGN §4 ⚑). The Secretariat is in :mod:`dief.keyring._secretariat`.

What each party hands another is a signed file (:mod:`dief.wire`): the root a
:class:`DirectoryKeyCertificate` and its signatures on a region's keys; a region a
:class:`RegionKeyBundle`; a node a :class:`NodeRegistration`.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from dief.crypto import KemPrivateKey, SigningKey, VerifyKey, b64url_decode, b64url_encode
from dief.exceptions import ConfigurationError, DirectoryError
from dief.keyring._model import NODE_SECRET_LEN, KdfParams, NodeSecret
from dief.keyring._party import PartyKeyring, PartyKind, Purpose, new_secret_id
from dief.keyring._statements import (
    endorse,
    root_fingerprint,
    sign_document,
    verify_document,
    verify_key_of,
)
from dief.keyring._time import DAY, iso
from dief.vocab import Region
from dief.wire import (
    CONTEXT_DIRECTORY_CERTIFICATE,
    CONTEXT_DIRECTORY_KEY_REQUEST,
    CONTEXT_REGISTRATION,
    SUITE_HYBRID,
    DirectoryKey,
    DirectoryKeyCertificate,
    DirectoryKeyRequest,
    DirectoryRole,
    EndorsementKind,
    KeyStatus,
    NodeRegistration,
    RegionKeyBundle,
)

if TYPE_CHECKING:
    from dief.seams import Clock

__all__ = ["MAX_CERTIFICATE_DAYS", "NodeKeys", "RegionKeys", "RootKeys"]

#: The longest validity the root gives a directory key (simulations excepted).
MAX_CERTIFICATE_DAYS = 180
_BUNDLE = "bundle.json"


def _signing(ring: PartyKeyring, purpose: Purpose) -> SigningKey:
    key = SigningKey.generate()
    ring.add(purpose, key.alg, key.kid, key.verify_key.public_bytes(), key.secret_bytes())
    return key


def _kem(ring: PartyKeyring, suite: str) -> KemPrivateKey:
    key = KemPrivateKey.generate(suite)
    ring.add(Purpose.KEM, key.suite, key.kid, key.public_key.public_bytes(), key.secret_bytes())
    return key


class RootKeys:
    """The forum root (offline): certifies directory keys and signs region keys."""

    __slots__ = ("_ring",)

    def __init__(self, ring: PartyKeyring) -> None:
        self._ring = ring

    @classmethod
    def create(
        cls,
        path: str | Path,
        passphrase: str | bytes,
        *,
        simulation: bool = False,
        kdf: KdfParams | None = None,
        clock: Clock | None = None,
    ) -> RootKeys:
        ring = PartyKeyring.create(
            path, PartyKind.ROOT, passphrase, simulation=simulation, kdf=kdf, clock=clock
        )
        _signing(ring, Purpose.ROOT)
        return cls(ring)

    @classmethod
    def load(
        cls, path: str | Path, *, passphrase: str | bytes | None = None, clock: Clock | None = None
    ) -> RootKeys:
        return cls(
            PartyKeyring.load(path, party=PartyKind.ROOT, passphrase=passphrase, clock=clock)
        )

    @property
    def ring(self) -> PartyKeyring:
        return self._ring

    @property
    def verify_key(self) -> VerifyKey:
        return VerifyKey(b64url_decode(self._ring.active(Purpose.ROOT).public))

    @property
    def fingerprint(self) -> str:
        """What every party pins: hex SHA-256 of the root's public key."""
        return root_fingerprint(self.verify_key)

    def __repr__(self) -> str:
        return f"RootKeys({self._ring!r})"

    def _key(self) -> SigningKey:
        return self._ring.signing_key(self._ring.active(Purpose.ROOT).kid)

    def certify_directory_key(
        self, request: DirectoryKeyRequest, *, days: float = 90.0
    ) -> DirectoryKeyCertificate:
        """Certify the Secretariat's directory key for *days* (self-signature checked)."""
        if days <= 0 or (days > MAX_CERTIFICATE_DAYS and not self._ring.simulation):
            raise ConfigurationError(
                f"a directory key is certified for 1 to {MAX_CERTIFICATE_DAYS} days"
            )
        subject = verify_key_of(request.public, what="directory key")
        if subject.kid != request.kid:
            raise DirectoryError("the request's key id does not match its key", code="malformed")
        verify_document(
            request, subject, context=CONTEXT_DIRECTORY_KEY_REQUEST, what="directory key request"
        )
        now = self._ring.now()
        certificate = DirectoryKeyCertificate(
            root_public=self._ring.active(Purpose.ROOT).public,
            subject_kid=request.kid,
            subject_public=request.public,
            not_before=iso(now),
            not_after=iso(now + days * DAY),
        )
        return sign_document(certificate, self._key(), context=CONTEXT_DIRECTORY_CERTIFICATE)

    def certify_region_keys(self, bundle: RegionKeyBundle) -> RegionKeyBundle:
        """*bundle* with the root's signature on each region signing and recovery key."""
        key = self._key()
        signed = []
        for entry in bundle.keys:
            if entry.region != bundle.region:
                raise DirectoryError("a region's bundle holds another region's key", code="rule")
            root_signs = entry.role in {DirectoryRole.REGION_SIGN, DirectoryRole.REGION_RECOVERY}
            signed.append(endorse(entry, key, EndorsementKind.ROOT) if root_signs else entry)
        return bundle.model_copy(update={"keys": tuple(signed)})


def _entry(ring: PartyKeyring, kid: str, role: DirectoryRole, region: str) -> DirectoryKey:
    own = ring.get(kid)
    return DirectoryKey(
        role=role, region=region, kid=kid, alg=own.alg, public=own.public, created=own.created
    )


class RegionKeys:
    """A region: its KEM key pair (the aggregator opens with it), its signing key, and —
    in a keyring of its own, meant to live offline — its recovery key."""

    __slots__ = ("_recovery_path", "_ring")

    def __init__(self, ring: PartyKeyring, recovery_path: Path) -> None:
        self._ring = ring
        self._recovery_path = recovery_path

    @classmethod
    def create(  # noqa: PLR0913  a public keyword signature, used outside dief/keyring
        cls,
        path: str | Path,
        region: str,
        passphrase: str | bytes,
        *,
        recovery_path: str | Path | None = None,
        recovery_passphrase: str | bytes | None = None,
        suite: str = SUITE_HYBRID,
        simulation: bool = False,
        kdf: KdfParams | None = None,
        clock: Clock | None = None,
    ) -> RegionKeys:
        """A region's keys; the recovery keyring defaults to ``<path>/recovery``."""
        if region not in Region.__members__:
            raise ConfigurationError(f"unknown region {region!r}")
        ring = PartyKeyring.create(
            path,
            PartyKind.REGION,
            passphrase,
            region=region,
            simulation=simulation,
            kdf=kdf,
            clock=clock,
        )
        rec_path = Path(recovery_path) if recovery_path is not None else Path(path) / "recovery"
        rec = PartyKeyring.create(
            rec_path,
            PartyKind.RECOVERY,
            recovery_passphrase if recovery_passphrase is not None else passphrase,
            region=region,
            simulation=simulation,
            kdf=kdf,
            clock=clock,
        )
        recovery = _signing(rec, Purpose.RECOVERY)
        sign = _signing(ring, Purpose.SIGN)
        kem = _kem(ring, suite)
        keys = (
            endorse(
                _entry(rec, recovery.kid, DirectoryRole.REGION_RECOVERY, region),
                recovery,
                EndorsementKind.SELF,
            ),
            endorse(
                _entry(ring, sign.kid, DirectoryRole.REGION_SIGN, region),
                recovery,
                EndorsementKind.RECOVERY,
            ),
            endorse(
                _entry(ring, kem.kid, DirectoryRole.REGION_KEM, region),
                sign,
                EndorsementKind.REGION,
            ),
        )
        made = cls(ring, rec_path)
        made._save(RegionKeyBundle(region=region, keys=keys))
        return made

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        passphrase: str | bytes | None = None,
        recovery_path: str | Path | None = None,
        clock: Clock | None = None,
    ) -> RegionKeys:
        ring = PartyKeyring.load(path, party=PartyKind.REGION, passphrase=passphrase, clock=clock)
        rec = Path(recovery_path) if recovery_path is not None else Path(path) / "recovery"
        return cls(ring, rec)

    @property
    def ring(self) -> PartyKeyring:
        return self._ring

    @property
    def region(self) -> str:
        assert self._ring.region is not None  # noqa: S101  narrows the type: the invariant is set when the object is built
        return self._ring.region

    def __repr__(self) -> str:
        return f"RegionKeys(region={self.region!r}, {self._ring!r})"

    def bundle(self) -> RegionKeyBundle:
        """Every public key of the region with the signatures it made (for the root and the
        Secretariat)."""
        bundle = self._ring.read_state(_BUNDLE, RegionKeyBundle)
        if bundle is None:
            raise DirectoryError(f"{self._ring.path} has no {_BUNDLE}", code="malformed")
        return bundle

    def _save(self, bundle: RegionKeyBundle) -> RegionKeyBundle:
        self._ring.write_state(_BUNDLE, bundle)
        return bundle

    def signing_key(self) -> SigningKey:
        return self._ring.signing_key(self._ring.active(Purpose.SIGN).kid)

    def kem_keys(self) -> list[KemPrivateKey]:
        """The region's KEM private keys that may still open (not revoked)."""
        live = (KeyStatus.ACTIVE, KeyStatus.PREVIOUS, KeyStatus.RETIRED)
        return [self._ring.kem_key(k.kid) for k in self._ring.list_keys(Purpose.KEM, statuses=live)]

    def endorse_kem(self, *, suite: str | None = None) -> RegionKeyBundle:
        """A new KEM key beside the active one, signed by the region: a declared rotation."""
        current = self._ring.active(Purpose.KEM)
        kem = _kem(self._ring, suite if suite is not None else current.alg)
        entry = endorse(
            _entry(self._ring, kem.kid, DirectoryRole.REGION_KEM, self.region),
            self.signing_key(),
            EndorsementKind.REGION,
        )
        bundle = self.bundle()
        return self._save(
            bundle.model_copy(update={"keys": (*bundle.keys, entry), "rotation": True})
        )

    def succeed_signing_key(
        self, *, recovery_passphrase: str | bytes | None = None
    ) -> RegionKeyBundle:
        """A new signing key signed by its predecessor — or, given the recovery keyring's
        passphrase (the predecessor lost or revoked), by the recovery key. The region's KEM
        keys are signed again by the new key. The root must then sign it too."""
        old = self._ring.active(Purpose.SIGN)
        if recovery_passphrase is not None:
            rec = PartyKeyring.load(
                self._recovery_path, party=PartyKind.RECOVERY, passphrase=recovery_passphrase
            )
            signer, by = rec.signing_key(rec.active(Purpose.RECOVERY).kid), EndorsementKind.RECOVERY
        else:
            signer, by = self._ring.signing_key(old.kid), EndorsementKind.PREDECESSOR
        new = _signing(self._ring, Purpose.SIGN)
        self._ring.set_status(old.kid, KeyStatus.PREVIOUS)
        entries = [
            endorse(_entry(self._ring, new.kid, DirectoryRole.REGION_SIGN, self.region), signer, by)
        ]
        kept = []
        for key in self.bundle().keys:
            if key.role is DirectoryRole.REGION_KEM and key.status is not KeyStatus.REVOKED:
                kept.append(endorse(key, new, EndorsementKind.REGION))
            else:
                kept.append(key)
        return self._save(
            self.bundle().model_copy(update={"keys": (*kept, *entries), "rotation": False})
        )


class NodeKeys:
    """A national node: its 32-byte secret, registration signing key and KEM key pair —
    nothing else private. It has no name: the Secretariat knows it by registration kid."""

    __slots__ = ("_ring",)

    def __init__(self, ring: PartyKeyring) -> None:
        self._ring = ring

    @classmethod
    def create(  # noqa: PLR0913  a public keyword signature, used outside dief/keyring
        cls,
        path: str | Path,
        passphrase: str | bytes,
        *,
        suite: str = SUITE_HYBRID,
        simulation: bool = False,
        kdf: KdfParams | None = None,
        clock: Clock | None = None,
        secret: bytes | None = None,
    ) -> NodeKeys:
        ring = PartyKeyring.create(
            path, PartyKind.NODE, passphrase, simulation=simulation, kdf=kdf, clock=clock
        )
        value = secret if secret is not None else secrets.token_bytes(NODE_SECRET_LEN)
        if len(value) != NODE_SECRET_LEN:
            raise ConfigurationError(f"a node secret is {NODE_SECRET_LEN} bytes")
        ring.add(Purpose.NODE_SECRET, "node-secret", new_secret_id(), b"", value)
        _signing(ring, Purpose.REGISTRATION)
        _kem(ring, suite)
        return cls(ring)

    @classmethod
    def load(
        cls, path: str | Path, *, passphrase: str | bytes | None = None, clock: Clock | None = None
    ) -> NodeKeys:
        return cls(
            PartyKeyring.load(path, party=PartyKind.NODE, passphrase=passphrase, clock=clock)
        )

    @property
    def ring(self) -> PartyKeyring:
        return self._ring

    def __repr__(self) -> str:
        return f"NodeKeys({self._ring!r})"

    @property
    def registration_kid(self) -> str:
        return self._ring.active(Purpose.REGISTRATION).kid

    def node_secret(self, name: str = "node") -> NodeSecret:
        """The node's secret (*name* is a local label only; it never leaves the node)."""
        return NodeSecret(name, self._ring.raw_secret(self._ring.active(Purpose.NODE_SECRET).kid))

    def registration_key(self) -> SigningKey:
        return self._ring.signing_key(self.registration_kid)

    def kem_key(self) -> KemPrivateKey:
        return self._ring.kem_key(self._ring.active(Purpose.KEM).kid)

    def registration(self) -> NodeRegistration:
        """The signed registration file the node hands the Secretariat."""
        key = self.registration_key()
        kem = self._ring.active(Purpose.KEM)
        document = NodeRegistration(
            registration_kid=key.kid,
            registration_public=b64url_encode(key.verify_key.public_bytes()),
            kem_kid=kem.kid,
            kem_alg=kem.alg,
            kem_public=kem.public,
            created=self._ring.timestamp(),
        )
        return sign_document(document, key, context=CONTEXT_REGISTRATION)

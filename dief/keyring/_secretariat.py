"""The Secretariat's keys, its forum state, the registry of nodes and issuing the directory.

::

    <dir>/keyring.json, keys.json, private/   its own keys (KEM, signing, directory key,
                                               RSA issuer keys per (cycle, region))
    <dir>/directory-key-request.json          the current directory key, for the root
    <dir>/certificate.json                    the root's certificate of that key
    <dir>/state.json                          parameters, listed keys, registry (kids only)
    <dir>/directory/v<N>.json, current.json   every version issued (its history)

The registry holds registration key ids and node KEM keys, never names: the Secretariat
keeps which State registered which kid offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import BaseModel, ConfigDict

from dief.crypto import KemPrivateKey, SigningKey, b64url_encode, key_id
from dief.exceptions import ConfigurationError, DirectoryError, KeyNotFoundError
from dief.keyring._directory import ForumDirectory, verify_certificate, verify_directory
from dief.keyring._party import PartyKeyring, PartyKind, Purpose
from dief.keyring._statements import (
    normalise_fingerprint,
    parse_strict,
    sign_document,
    verify_document,
    verify_key_of,
)
from dief.keyring._time import DAY, iso, parse_iso
from dief.wire import (
    CONTEXT_DIRECTORY,
    CONTEXT_DIRECTORY_KEY_REQUEST,
    CONTEXT_REGISTRATION,
    ISSUER_ALG,
    SUITE_HYBRID,
    DirectoryKey,
    DirectoryKeyCertificate,
    DirectoryKeyRequest,
    DirectoryRole,
    ForumDirectoryDocument,
    ForumParameters,
    KeyStatus,
    NodeRegistration,
    RegionKeyBundle,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from dief.keyring._model import KdfParams
    from dief.seams import Clock

__all__ = ["DEFAULT_DIRECTORY_DAYS", "ForumState", "Registration", "SecretariatKeys"]

#: How long a directory version is valid unless said otherwise (a frozen one is refused).
DEFAULT_DIRECTORY_DAYS = 30.0
_STATE = "state.json"
_CERT = "certificate.json"
_REQUEST = "directory-key-request.json"
_RSA_BITS = 3072
_RSA_BITS_SIMULATION = 2048


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Registration(_Model):
    """One registered node: key ids and its KEM key, no name."""

    registration_kid: str
    registration_public: str
    kem: DirectoryKey
    registered: str
    status: KeyStatus = KeyStatus.ACTIVE
    replaces: str | None = None
    """The registration kid of the same node's earlier registration (it lost its secret)."""


class ForumState(_Model):
    format: str = "dief-forum-state/1"
    parameters: ForumParameters
    root_fingerprint: str | None = None
    keys: tuple[DirectoryKey, ...] = ()
    registry: tuple[Registration, ...] = ()
    version: int = 0


def _merge(old: DirectoryKey, new: DirectoryKey) -> DirectoryKey:
    seen = {(e.by, str(e.signature.get("kid"))) for e in old.endorsements}
    added = tuple(e for e in new.endorsements if (e.by, str(e.signature.get("kid"))) not in seen)
    return old.model_copy(update={"endorsements": (*old.endorsements, *added)})


class SecretariatKeys:
    """The Secretariat: its keys, the forum state and the directory it issues."""

    __slots__ = ("_ring",)

    def __init__(self, ring: PartyKeyring) -> None:
        self._ring = ring

    # -- creating and loading ------------------------------------------------------------

    @classmethod
    def create(  # noqa: PLR0913  a public keyword signature, used outside dief/keyring
        cls,
        path: str | Path,
        passphrase: str | bytes,
        parameters: ForumParameters,
        *,
        suite: str = SUITE_HYBRID,
        kdf: KdfParams | None = None,
        clock: Clock | None = None,
    ) -> SecretariatKeys:
        """The Secretariat's keys; ``parameters.simulation`` flags the keyring too."""
        ring = PartyKeyring.create(
            path,
            PartyKind.SECRETARIAT,
            passphrase,
            simulation=parameters.simulation,
            kdf=kdf,
            clock=clock,
        )
        made = cls(ring)
        made._write(ForumState(parameters=parameters))
        kem = KemPrivateKey.generate(suite)
        ring.add(Purpose.KEM, kem.suite, kem.kid, kem.public_key.public_bytes(), kem.secret_bytes())
        made._list_own(Purpose.KEM, DirectoryRole.SECRETARIAT_KEM)
        sign = SigningKey.generate()
        ring.add(
            Purpose.SIGN, sign.alg, sign.kid, sign.verify_key.public_bytes(), sign.secret_bytes()
        )
        made._list_own(Purpose.SIGN, DirectoryRole.SECRETARIAT_SIGN)
        made.new_directory_key()
        return made

    @classmethod
    def load(
        cls, path: str | Path, *, passphrase: str | bytes | None = None, clock: Clock | None = None
    ) -> SecretariatKeys:
        return cls(
            PartyKeyring.load(path, party=PartyKind.SECRETARIAT, passphrase=passphrase, clock=clock)
        )

    @property
    def ring(self) -> PartyKeyring:
        return self._ring

    def __repr__(self) -> str:
        state = self.state()
        return (
            f"SecretariatKeys(keys={len(state.keys)}, registered={len(state.registry)}, "
            f"version={state.version}, simulation={self._ring.simulation})"
        )

    def state(self) -> ForumState:
        state = self._ring.read_state(_STATE, ForumState)
        if state is None:
            raise DirectoryError(f"{self._ring.path} has no {_STATE}", code="malformed")
        return state

    def _write(self, state: ForumState) -> None:
        self._ring.write_state(_STATE, state)

    def _list_own(self, purpose: Purpose, role: DirectoryRole) -> None:
        state = self.state()
        own = self._ring.active(purpose)
        keys = [
            k.model_copy(update={"status": KeyStatus.PREVIOUS})
            if k.role is role and k.status is KeyStatus.ACTIVE
            else k
            for k in state.keys
        ]
        keys.append(
            DirectoryKey(
                role=role, kid=own.kid, alg=own.alg, public=own.public, created=own.created
            )
        )
        self._write(state.model_copy(update={"keys": tuple(keys)}))

    # -- the directory key -----------------------------------------------------------------

    def new_directory_key(self) -> DirectoryKeyRequest:
        """A new directory key (the old one stops signing once the new one is certified)."""
        key = SigningKey.generate()
        self._ring.add(
            Purpose.DIRECTORY,
            key.alg,
            key.kid,
            key.verify_key.public_bytes(),
            key.secret_bytes(),
            status=KeyStatus.PREVIOUS,  # becomes active with its certificate
        )
        request = DirectoryKeyRequest(
            kid=key.kid,
            public=b64url_encode(key.verify_key.public_bytes()),
            created=self._ring.timestamp(),
        )
        request = sign_document(request, key, context=CONTEXT_DIRECTORY_KEY_REQUEST)
        self._ring.write_state(_REQUEST, request)
        return request

    def directory_key_request(self) -> DirectoryKeyRequest:
        request = self._ring.read_state(_REQUEST, DirectoryKeyRequest)
        if request is None:
            raise KeyNotFoundError("no directory key request: make a new directory key")
        return request

    def install_certificate(
        self, certificate: DirectoryKeyCertificate, root_fingerprint: str | None = None
    ) -> None:
        """Keep the root's certificate of the requested directory key; pin the root."""
        state = self.state()
        pinned = root_fingerprint if root_fingerprint is not None else state.root_fingerprint
        if pinned is None:
            raise ConfigurationError("give the forum root's fingerprint with the first certificate")
        pinned = normalise_fingerprint(pinned)
        if state.root_fingerprint is not None and state.root_fingerprint != pinned:
            raise DirectoryError("the certificate is from another forum root", code="certificate")
        verify_certificate(certificate, pinned, self._ring.now())
        self._ring.get(certificate.subject_kid)  # a key of ours
        for key in self._ring.list_keys(Purpose.DIRECTORY, statuses=(KeyStatus.ACTIVE,)):
            if key.kid != certificate.subject_kid:
                self._ring.set_status(key.kid, KeyStatus.RETIRED)
        self._ring.set_status(certificate.subject_kid, KeyStatus.ACTIVE)
        self._ring.write_state(_CERT, certificate)
        self._write(state.model_copy(update={"root_fingerprint": pinned}))

    # -- regions, nodes, issuers -------------------------------------------------------------

    def add_region(self, bundle: RegionKeyBundle) -> None:
        """Take a region's (root-signed) bundle: new keys listed, signatures merged. A new
        KEM key in a rotation stays beside the active one; otherwise the new KEM or signing
        key makes the active one ``previous``."""
        state = self.state()
        if bundle.region not in state.parameters.regions:
            raise DirectoryError(f"{bundle.region} is not a region of this forum", code="rule")
        keys = {k.kid: k for k in state.keys}
        for entry in bundle.keys:
            if entry.region != bundle.region:
                raise DirectoryError("a region's bundle holds another region's key", code="rule")
            if entry.kid in keys:
                keys[entry.kid] = _merge(keys[entry.kid], entry)
                continue
            rotating = entry.role is DirectoryRole.REGION_KEM and bundle.rotation
            for kid, old in list(keys.items()):
                same = old.role is entry.role and old.region == entry.region
                if same and old.status is KeyStatus.ACTIVE and not rotating:
                    keys[kid] = old.model_copy(update={"status": KeyStatus.PREVIOUS})
            keys[entry.kid] = entry.model_copy(update={"status": KeyStatus.ACTIVE})
        self._write(state.model_copy(update={"keys": tuple(keys.values())}))

    def register(self, registration: NodeRegistration, *, replaces: str | None = None) -> str:
        """Add a node's signed registration to the registry; its registration kid.
        *replaces* names the same node's earlier registration (it lost its secret)."""
        key = verify_key_of(registration.registration_public, what="registration key")
        if key.kid != registration.registration_kid:
            raise DirectoryError(
                "the registration's key id does not match its key", code="malformed"
            )
        verify_document(registration, key, context=CONTEXT_REGISTRATION, what="registration")
        state = self.state()
        known = {r.registration_kid: r for r in state.registry}
        if key.kid in known or registration.kem_kid in {r.kem.kid for r in state.registry}:
            raise DirectoryError("this node is already registered", code="conflict")
        if replaces is not None and replaces not in known:
            raise KeyNotFoundError(f"no registration {replaces!r} to replace")
        kem = DirectoryKey(
            role=DirectoryRole.NODE_KEM,
            kid=registration.kem_kid,
            alg=registration.kem_alg,
            public=registration.kem_public,
            created=registration.created,
        )
        entry = Registration(
            registration_kid=key.kid,
            registration_public=registration.registration_public,
            kem=kem,
            registered=self._ring.timestamp(),
            replaces=replaces,
        )
        self._write(state.model_copy(update={"registry": (*state.registry, entry)}))
        return key.kid

    def revoke_node(self, registration_kid: str) -> None:
        """Revoke a registration: its KEM key leaves the next directory."""
        state = self.state()
        if registration_kid not in {r.registration_kid for r in state.registry}:
            raise KeyNotFoundError(f"no registration {registration_kid!r}")
        registry = tuple(
            r.model_copy(update={"status": KeyStatus.REVOKED})
            if r.registration_kid == registration_kid
            else r
            for r in state.registry
        )
        self._write(state.model_copy(update={"registry": registry}))

    def new_issuer_keys(self, cycle: str, regions: Iterable[str] | None = None) -> list[str]:
        """One RSA issuer key per region for *cycle* (3072-bit; 2048 in a simulation)."""
        state = self.state()
        bits = _RSA_BITS_SIMULATION if self._ring.simulation else _RSA_BITS
        added: list[DirectoryKey] = []
        for region in regions if regions is not None else state.parameters.regions:
            if any(
                k.role is DirectoryRole.ISSUER
                and k.cycle == cycle
                and k.region == region
                and k.status is not KeyStatus.REVOKED
                for k in state.keys
            ):
                raise DirectoryError(
                    f"({cycle}, {region}) has an issuer key already", code="conflict"
                )
            private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
            public = private.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            der = private.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            kid = key_id(public)
            own = self._ring.add(
                Purpose.ISSUER, ISSUER_ALG, kid, public, der, cycle=cycle, region=region
            )
            added.append(
                DirectoryKey(
                    role=DirectoryRole.ISSUER,
                    region=region,
                    cycle=cycle,
                    kid=kid,
                    alg=ISSUER_ALG,
                    public=own.public,
                    created=own.created,
                    tokens=0,
                    reissued_tokens=0,
                )
            )
        self._write(state.model_copy(update={"keys": (*state.keys, *added)}))
        return [k.kid for k in added]

    def issuer_private_key(self, cycle: str, region: str) -> rsa.RSAPrivateKey:
        return self._ring.rsa_key(self._ring.active(Purpose.ISSUER, cycle=cycle, region=region).kid)

    def set_token_counts(self, counts: Mapping[tuple[str, str], tuple[int, int]]) -> None:
        """Tokens signed per (cycle, region): (first registrations, re-registrations)."""
        state = self.state()
        keys = []
        for k in state.keys:
            if k.role is DirectoryRole.ISSUER and (k.cycle, k.region) in counts:
                tokens, again = counts[str(k.cycle), str(k.region)]
                keys.append(k.model_copy(update={"tokens": tokens, "reissued_tokens": again}))
            else:
                keys.append(k)
        self._write(state.model_copy(update={"keys": tuple(keys)}))

    def set_status(self, kid: str, status: KeyStatus) -> DirectoryKey:
        """Retire or revoke a listed key (a status only moves forward)."""
        order = list(KeyStatus)
        state = self.state()
        found = next((k for k in state.keys if k.kid == kid), None)
        if found is None:
            raise KeyNotFoundError(f"no listed key {kid!r}")
        if order.index(status) < order.index(found.status):
            raise DirectoryError(f"key {kid} is {found.status.value} already", code="rule")
        changed = found.model_copy(update={"status": status})
        self._write(
            state.model_copy(
                update={"keys": tuple(changed if k.kid == kid else k for k in state.keys)}
            )
        )
        if kid in {k.kid for k in self._ring.list_keys()}:
            self._ring.set_status(kid, status)
        return changed

    def rotate(self, purpose: Purpose) -> str:
        """A new Secretariat KEM or signing key (the old one becomes ``previous``)."""
        if purpose is Purpose.KEM:
            old = self._ring.active(Purpose.KEM)
            kem = KemPrivateKey.generate(old.alg)
            self._ring.add(
                Purpose.KEM, kem.suite, kem.kid, kem.public_key.public_bytes(), kem.secret_bytes()
            )
            self._ring.set_status(old.kid, KeyStatus.PREVIOUS)
            self._list_own(Purpose.KEM, DirectoryRole.SECRETARIAT_KEM)
            return kem.kid
        if purpose is Purpose.SIGN:
            old = self._ring.active(Purpose.SIGN)
            sign = SigningKey.generate()
            self._ring.add(
                Purpose.SIGN,
                sign.alg,
                sign.kid,
                sign.verify_key.public_bytes(),
                sign.secret_bytes(),
            )
            self._ring.set_status(old.kid, KeyStatus.PREVIOUS)
            self._list_own(Purpose.SIGN, DirectoryRole.SECRETARIAT_SIGN)
            return sign.kid
        if purpose is Purpose.DIRECTORY:
            return self.new_directory_key().kid
        raise ConfigurationError("the Secretariat rotates its kem, sign or directory key")

    # -- issuing -----------------------------------------------------------------------------

    def current_directory(self) -> ForumDirectory | None:
        """The last version issued, verified (None before the first)."""
        state = self.state()
        file = self._ring.path / "directory" / "current.json"
        if not file.is_file() or state.root_fingerprint is None:
            return None
        return verify_directory(file.read_bytes(), state.root_fingerprint, None, self._ring.now())

    def issue_directory(self, *, days: float = DEFAULT_DIRECTORY_DAYS) -> ForumDirectory:
        """Sign the next version, check it as every party will, keep it in the history."""
        state = self.state()
        certificate = self._ring.read_state(_CERT, DirectoryKeyCertificate)
        if certificate is None or state.root_fingerprint is None:
            raise KeyNotFoundError("no certified directory key: install the root's certificate")
        now = self._ring.now()
        expires = min(now + days * DAY, parse_iso(certificate.not_after))
        keys = list(state.keys) + [r.kem for r in state.registry if r.status is KeyStatus.ACTIVE]
        active_kem = [
            k.region
            for k in state.keys
            if k.role is DirectoryRole.REGION_KEM and k.status is KeyStatus.ACTIVE
        ]
        rotations = tuple(
            sorted({r for r in active_kem if r is not None and active_kem.count(r) > 1})
        )
        document = ForumDirectoryDocument(
            version=state.version + 1,
            issued_at=iso(now),
            expires=iso(expires),
            parameters=state.parameters,
            certificate=certificate,
            keys=tuple(keys),
            kem_rotations=rotations,
        )
        signer = self._ring.signing_key(certificate.subject_kid)
        document = sign_document(document, signer, context=CONTEXT_DIRECTORY)
        raw = document.model_dump_json(exclude_none=False).encode("utf-8")
        previous = self._previous(state)
        verified = verify_directory(raw, state.root_fingerprint, previous, now)
        folder = Path("directory")
        self._ring.write_state(str(folder / f"v{document.version}.json"), raw)
        self._ring.write_state(str(folder / "current.json"), raw)
        self._write(state.model_copy(update={"version": document.version}))
        return verified

    def _previous(self, state: ForumState) -> ForumDirectory | None:
        file = self._ring.path / "directory" / "current.json"
        if not file.is_file() or state.root_fingerprint is None:
            return None
        # the one we issued before: checked for its rules and its root, not its age
        doc_raw = file.read_bytes()
        doc = parse_strict(doc_raw, ForumDirectoryDocument, what="forum directory")
        return verify_directory(doc_raw, state.root_fingerprint, None, parse_iso(doc.issued_at))

    def history(self) -> list[int]:
        folder = self._ring.path / "directory"
        return sorted(int(p.stem[1:]) for p in folder.glob("v*.json")) if folder.is_dir() else []

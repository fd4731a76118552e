"""One party's own keyring: a folder holding only that party's private keys (DESIGN §4 ⚑).

::

    <dir>/keyring.json         mode 0644  party, region, simulation flag, KDF + salt, check
    <dir>/keys.json            mode 0644  this party's own keys: purpose, status, public part
    <dir>/private/<kid>.json   mode 0600  one per key: the private key, sealed (see _files)
    <dir>/<state>.json         mode 0644  public state files of the party (registry, ...)

Public keys of *other* parties are never read from a party's folder: they come from the
signed forum directory only, so a key file dropped here is never used. The passphrase KDF is
Argon2id at the RFC 9106 parameters; a cheaper one is accepted only in a keyring flagged
``simulation`` (``dief keys init``, demos and tests).
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import BaseModel, ConfigDict, Field

from dief.crypto import KemPrivateKey, SigningKey, b64url_encode, key_id
from dief.exceptions import ConfigurationError, KeyNotFoundError, KeyringError, PassphraseError
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
from dief.keyring._time import iso
from dief.seams import Clock, SystemClock
from dief.wire import KeyStatus

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "SECRET_KIND",
    "SIMULATION_KDF",
    "OwnKey",
    "PartyKeyring",
    "PartyKind",
    "Purpose",
    "new_secret_id",
]

_PUBLIC_MODE = 0o644
_SECRET_MODE = 0o600
_SECRET_DIR_MODE = 0o700
#: The cheap passphrase KDF of simulated forums (never accepted without the flag).
SIMULATION_KDF = KdfParams(iterations=1, lanes=1, memory_kib=8)
_M = TypeVar("_M", bound=BaseModel)


class PartyKind(StrEnum):
    """Whose keyring a folder is."""

    ROOT = "root"
    SECRETARIAT = "secretariat"
    REGION = "region"
    RECOVERY = "recovery"
    NODE = "node"


class Purpose(StrEnum):
    """What one of a party's own keys is for."""

    ROOT = "root"
    DIRECTORY = "directory"
    KEM = "kem"
    SIGN = "sign"
    RECOVERY = "recovery"
    REGISTRATION = "registration"
    ISSUER = "issuer"
    NODE_SECRET = "node-secret"  # noqa: S105 - a purpose name, not a secret


SECRET_KIND: dict[Purpose, Literal["kem", "sign", "node", "rsa"]] = {
    Purpose.ROOT: "sign",
    Purpose.DIRECTORY: "sign",
    Purpose.KEM: "kem",
    Purpose.SIGN: "sign",
    Purpose.RECOVERY: "sign",
    Purpose.REGISTRATION: "sign",
    Purpose.ISSUER: "rsa",
    Purpose.NODE_SECRET: "node",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartyFile(_Model):
    format: Literal["dief-party-keyring/1"] = "dief-party-keyring/1"
    party: PartyKind
    region: str | None = None
    simulation: bool = False
    kdf: KdfFile
    check: CheckFile


class OwnKey(_Model):
    """Metadata and public part of one of the party's keys (never private material)."""

    kid: str = Field(pattern=r"^[a-z2-7]{20}$")
    purpose: Purpose
    alg: str
    created: str
    status: KeyStatus = KeyStatus.ACTIVE
    public: str = ""
    cycle: str | None = None
    region: str | None = None


class OwnKeys(_Model):
    format: Literal["dief-party-keys/1"] = "dief-party-keys/1"
    keys: tuple[OwnKey, ...] = ()


def _bytes(passphrase: str | bytes) -> bytes:
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)


def _weaker(params: KdfParams) -> bool:
    floor = KdfParams()
    return params.iterations < floor.iterations or params.memory_kib < floor.memory_kib


class PartyKeyring:  # noqa: PLR0904  one object per keyring role; its public methods are the role's operations
    """The keys of one party (root, Secretariat, a region, its recovery key, a node).

    ``repr`` shows the party, the key count and whether it is unlocked: never a name or key.
    """

    __slots__ = ("_clock", "_kek", "_keys", "_meta", "_path")

    def __init__(
        self, path: Path, meta: PartyFile, keys: Iterable[OwnKey], clock: Clock | None
    ) -> None:
        self._path = path
        self._meta = meta
        self._keys = {key.kid: key for key in keys}
        self._kek: bytes | None = None
        self._clock: Clock = clock if clock is not None else SystemClock()

    @classmethod
    def create(  # noqa: PLR0913  a public keyword signature, used outside dief/keyring
        cls,
        path: str | Path,
        party: PartyKind,
        passphrase: str | bytes,
        *,
        region: str | None = None,
        simulation: bool = False,
        kdf: KdfParams | None = None,
        clock: Clock | None = None,
    ) -> PartyKeyring:
        """An empty keyring for *party* in *path* (absent or an empty directory)."""
        params = kdf if kdf is not None else (SIMULATION_KDF if simulation else KdfParams())
        if _weaker(params) and not simulation:
            raise ConfigurationError(
                "a cheaper passphrase KDF is allowed only in a keyring flagged simulation"
            )
        root = Path(path)
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise KeyringError(f"{root} exists and is not an empty directory")
        kdf_file = KdfFile.new(params)
        kek = derive_kek(_bytes(passphrase), kdf_file)
        meta = PartyFile(
            party=party, region=region, simulation=simulation, kdf=kdf_file, check=make_check(kek)
        )
        try:
            root.mkdir(parents=True, exist_ok=True)
            (root / "private").mkdir(mode=_SECRET_DIR_MODE)
            (root / "private").chmod(_SECRET_DIR_MODE)
        except OSError as exc:
            raise KeyringError(f"cannot create keyring directory {root}: {exc.strerror}") from exc
        write_atomic(root / "keyring.json", meta.model_dump_json().encode(), mode=_PUBLIC_MODE)
        ring = cls(root, meta, (), clock)
        ring._kek = kek
        ring._save_keys()
        return ring

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        party: PartyKind | None = None,
        passphrase: str | bytes | None = None,
        clock: Clock | None = None,
    ) -> PartyKeyring:
        """Read the keyring in *path* (of *party*, if given); unlock it if *passphrase*."""
        root = Path(path)
        if not (root / "keyring.json").is_file():
            raise KeyringError(f"{root} is not a party keyring (no keyring.json)")
        meta = read_model(root / "keyring.json", PartyFile)
        if party is not None and meta.party is not party:
            raise KeyringError(f"{root} is the keyring of a {meta.party.value}, not a {party}")
        keys = read_model(root / "keys.json", OwnKeys).keys
        ring = cls(root, meta, keys, clock)
        if passphrase is not None:
            ring.unlock(passphrase)
        return ring

    def unlock(self, passphrase: str | bytes) -> None:
        kek = derive_kek(_bytes(passphrase), self._meta.kdf)
        verify_check(kek, self._meta.check)
        self._kek = kek

    # -- introspection -------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._path

    @property
    def party(self) -> PartyKind:
        return self._meta.party

    @property
    def region(self) -> str | None:
        return self._meta.region

    @property
    def simulation(self) -> bool:
        return self._meta.simulation

    @property
    def locked(self) -> bool:
        return self._kek is None

    def now(self) -> float:
        return self._clock.now()

    def timestamp(self) -> str:
        return iso(self._clock.now())

    def list_keys(
        self, purpose: Purpose | None = None, *, statuses: Iterable[KeyStatus] | None = None
    ) -> list[OwnKey]:
        """Own keys (of *purpose*, with one of *statuses*), oldest first."""
        wanted = set(statuses) if statuses is not None else None
        return sorted(
            (
                key
                for key in self._keys.values()
                if (purpose is None or key.purpose is purpose)
                and (wanted is None or key.status in wanted)
            ),
            key=lambda k: (k.purpose.value, k.created, k.kid),
        )

    def get(self, kid: str) -> OwnKey:
        key = self._keys.get(kid)
        if key is None:
            raise KeyNotFoundError(f"no key {kid!r} in this keyring")
        return key

    def active(
        self, purpose: Purpose, *, cycle: str | None = None, region: str | None = None
    ) -> OwnKey:
        """The newest active key of *purpose* (and *cycle* / *region*)."""
        found = [
            key
            for key in self.list_keys(purpose, statuses=(KeyStatus.ACTIVE,))
            if (cycle is None or key.cycle == cycle) and (region is None or key.region == region)
        ]
        if not found:
            raise KeyNotFoundError(f"no active {purpose.value} key in this keyring")
        return found[-1]

    def __repr__(self) -> str:
        return (
            f"PartyKeyring(party={self._meta.party.value!r}, keys={len(self._keys)}, "
            f"simulation={self._meta.simulation}, locked={self.locked})"
        )

    # -- private keys ------------------------------------------------------------------------

    def signing_key(self, kid: str) -> SigningKey:
        key = SigningKey(self._secret(self.get(kid)))
        if key.kid != kid:
            raise KeyringError(f"private key {kid} does not match its public key")
        return key

    def kem_key(self, kid: str) -> KemPrivateKey:
        entry = self.get(kid)
        key = KemPrivateKey(entry.alg, self._secret(entry))
        if key.kid != kid:
            raise KeyringError(f"private key {kid} does not match its public key")
        return key

    def rsa_key(self, kid: str) -> rsa.RSAPrivateKey:
        # The key's consistency was checked when this party generated it, and the stored
        # form is authenticated (AES-GCM under the passphrase's key), so the slow re-check
        # (about 30 ms for RSA-2048) is skipped; the public key's kid is still compared.
        try:
            key = serialization.load_der_private_key(
                self._secret(self.get(kid)), None, unsafe_skip_rsa_key_validation=True
            )
        except ValueError as exc:
            raise KeyringError(f"issuer key {kid} is not a valid RSA key") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise KeyringError(f"issuer key {kid} is not an RSA key")
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if self.get(kid).public != b64url_encode(public):
            raise KeyringError(f"issuer key {kid} does not match its public key")
        return key

    def raw_secret(self, kid: str) -> bytes:
        """The raw bytes of a stored secret (the node secret)."""
        return self._secret(self.get(kid))

    # -- changing ----------------------------------------------------------------------------

    def add(  # noqa: PLR0913  a public keyword signature, used outside dief/keyring
        self,
        purpose: Purpose,
        alg: str,
        kid: str,
        public: bytes,
        secret: bytes,
        *,
        cycle: str | None = None,
        region: str | None = None,
        status: KeyStatus = KeyStatus.ACTIVE,
    ) -> OwnKey:
        """Store one new key: its private part sealed under the passphrase."""
        kek, kdf = self._require_kek()
        if kid in self._keys:
            raise KeyringError(f"key {kid} is already in this keyring")
        sealed = seal_secret(
            secret, kind=SECRET_KIND[purpose], ident=kid, alg=alg, kdf=kdf, kek=kek
        )
        write_atomic(
            self._path / "private" / f"{kid}.json",
            sealed.model_dump_json().encode(),
            mode=_SECRET_MODE,
            exclusive=True,
        )
        entry = OwnKey(
            kid=kid,
            purpose=purpose,
            alg=alg,
            created=self.timestamp(),
            status=status,
            public=b64url_encode(public),
            cycle=cycle,
            region=region,
        )
        self._keys[kid] = entry
        self._save_keys()
        return entry

    def set_status(self, kid: str, status: KeyStatus) -> OwnKey:
        entry = self.get(kid).model_copy(update={"status": status})
        self._keys[kid] = entry
        self._save_keys()
        return entry

    def remove_private(self, kid: str) -> None:
        """Delete a key's private file (a revoked or destroyed key)."""
        self.get(kid)
        try:
            (self._path / "private" / f"{kid}.json").unlink(missing_ok=True)
        except OSError as exc:
            raise KeyringError(f"cannot delete private key {kid}: {exc.strerror}") from exc

    # -- public state files ------------------------------------------------------------------

    def read_state(self, name: str, model: type[_M]) -> _M | None:
        file = self._path / name
        return read_model(file, model) if file.is_file() else None

    def write_state(self, name: str, value: BaseModel | bytes) -> Path:
        data = value if isinstance(value, bytes) else value.model_dump_json(indent=1).encode()
        file = self._path / name
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KeyringError(f"cannot create {file.parent}: {exc.strerror}") from exc
        write_atomic(file, data, mode=_PUBLIC_MODE)
        return file

    # -- internals ---------------------------------------------------------------------------

    def _require_kek(self) -> tuple[bytes, KdfFile]:
        if self._kek is None:
            raise PassphraseError("the keyring is locked: a passphrase is needed")
        return self._kek, self._meta.kdf

    def _secret(self, entry: OwnKey) -> bytes:
        kek, kdf = self._require_kek()
        file = self._path / "private" / f"{entry.kid}.json"
        sealed = read_model(file, SecretFile)
        kind = SECRET_KIND[entry.purpose]
        if sealed.id != entry.kid or sealed.kind != kind or sealed.alg != entry.alg:
            raise KeyringError(f"{file} does not hold the expected {kind} secret")
        if sealed.kdf != kdf:
            raise KeyringError(f"{file} was written by another keyring")
        return open_secret(sealed, kek, where=str(file))

    def _save_keys(self) -> None:
        keys = OwnKeys(keys=tuple(self.list_keys()))
        write_atomic(
            self._path / "keys.json", keys.model_dump_json(indent=1).encode(), mode=_PUBLIC_MODE
        )


def new_secret_id() -> str:
    """A random id for a stored secret that has no public key (the node secret)."""
    return key_id(secrets.token_bytes(32))

"""The :class:`Keyring`: a directory of key files (format in :mod:`dief.keyring._files`)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from dief.crypto import b64url_decode, b64url_encode
from dief.crypto.keys import SUITES, KemPrivateKey, KemPublicKey, key_id
from dief.crypto.signing import SIGNATURE_ALG, SigningKey, VerifyKey
from dief.exceptions import ConfigurationError, KeyNotFoundError, KeyringError, PassphraseError
from dief.keyring._files import (
    KdfFile,
    KeyringFile,
    PublicKeyFile,
    SecretFile,
    derive_kek,
    make_check,
    open_secret,
    read_model,
    seal_secret,
    verify_check,
    write_atomic,
)
from dief.keyring._model import (
    NODE_SECRET_LEN,
    KdfParams,
    KeyInfo,
    KeyKind,
    KeyRole,
    NodeSecret,
    check_node_name,
)
from dief.seams import Clock, SystemClock
from dief.vocab import Region
from dief.wire import SUITE_HYBRID

__all__ = ["Keyring"]

_PUBLIC_MODE = 0o644
_SECRET_MODE = 0o600
_SECRET_DIR_MODE = 0o700
_NODE_ALG = "node-secret"


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)


def _check_scope(role: KeyRole, region: str | None) -> str | None:
    if role is KeyRole.REGION:
        if region is None or region not in Region.__members__:
            raise ConfigurationError(
                f"role 'region' needs a region code ({', '.join(Region.__members__)})"
            )
        return str(region)
    if region is not None:
        raise ConfigurationError(f"role {role.value!r} takes no region")
    return None


def _info(entry: PublicKeyFile) -> KeyInfo:
    return KeyInfo(
        kid=entry.kid,
        kind=entry.kind,
        role=entry.role,
        region=entry.region,
        alg=entry.alg,
        created=entry.created,
        active=entry.active,
        retired=entry.retired,
    )


def _order(entry: PublicKeyFile) -> tuple[str, str, str, str, str]:
    return (entry.kind.value, entry.role.value, entry.region or "", entry.created, entry.kid)


class Keyring:
    """Keys of a local forum, or the public part of one.

    Create with :meth:`create` / :meth:`init_forum`, open with :meth:`load`; private keys and
    node secrets need :meth:`unlock` (or ``passphrase=`` on :meth:`load`) first. The derived
    key-encryption key stays in memory only; ``repr`` shows the path and counts.
    """

    __slots__ = ("_clock", "_entries", "_kek", "_meta", "_nodes", "_path")

    def __init__(
        self,
        path: Path,
        meta: KeyringFile,
        entries: Iterable[PublicKeyFile],
        nodes: Iterable[str],
        *,
        clock: Clock | None = None,
    ) -> None:
        self._path = path
        self._meta = meta
        self._entries = {entry.kid: entry for entry in entries}
        self._nodes = set(nodes)
        self._kek: bytes | None = None
        self._clock: Clock = clock if clock is not None else SystemClock()

    # -- creating and loading ------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | Path,
        passphrase: str | bytes,
        *,
        kdf: KdfParams | None = None,
        clock: Clock | None = None,
    ) -> Keyring:
        """Make an empty keyring in *path* (absent or an empty directory)."""
        root = Path(path)
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise KeyringError(f"{root} exists and is not an empty directory")
        kdf_file = KdfFile.new(kdf if kdf is not None else KdfParams())
        kek = derive_kek(_passphrase_bytes(passphrase), kdf_file)
        meta = KeyringFile(public_only=False, kdf=kdf_file, check=make_check(kek))
        try:
            root.mkdir(parents=True, exist_ok=True)
            (root / "public").mkdir()
            for name in ("private", "nodes"):
                (root / name).mkdir(mode=_SECRET_DIR_MODE)
                (root / name).chmod(_SECRET_DIR_MODE)
        except OSError as exc:
            raise KeyringError(f"cannot create keyring directory {root}: {exc.strerror}") from exc
        write_atomic(root / "keyring.json", meta.model_dump_json().encode(), mode=_PUBLIC_MODE)
        ring = cls(root, meta, (), (), clock=clock)
        ring._kek = kek
        return ring

    @classmethod
    def init_forum(
        cls,
        path: str | Path,
        passphrase: str | bytes,
        *,
        nodes: Iterable[str] = (),
        suite: str = SUITE_HYBRID,
        kdf: KdfParams | None = None,
        clock: Clock | None = None,
    ) -> Keyring:
        """A whole local forum: KEM and signing keys for the 5 regions and the Secretariat,
        and a secret for each named node."""
        names = [check_node_name(name) for name in nodes]
        if len(set(names)) != len(names):
            raise ConfigurationError("node names must be unique")
        if suite not in SUITES:
            raise ConfigurationError(f"unknown KEM suite {suite!r}")
        ring = cls.create(path, passphrase, kdf=kdf, clock=clock)
        for region in Region:
            ring.generate(KeyKind.KEM, KeyRole.REGION, region.value, suite=suite)
            ring.generate(KeyKind.SIGN, KeyRole.REGION, region.value)
        ring.generate(KeyKind.KEM, KeyRole.SECRETARIAT, suite=suite)
        ring.generate(KeyKind.SIGN, KeyRole.SECRETARIAT)
        for name in names:
            ring.add_node(name)
        return ring

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        passphrase: str | bytes | None = None,
        clock: Clock | None = None,
    ) -> Keyring:
        """Read a keyring (or an exported public directory); unlock it if *passphrase*."""
        root = Path(path)
        if (root / "simulation.json").is_file():
            raise KeyringError(
                f"{root} is a simulated forum, one keyring per party (dief keys init): "
                "open it with dief.keyring.SimulatedForum.load"
            )
        if not (root / "keyring.json").is_file():
            raise KeyringError(f"{root} is not a keyring (no keyring.json)")
        meta = read_model(root / "keyring.json", KeyringFile)
        if not meta.public_only and (meta.kdf is None or meta.check is None):
            raise KeyringError(f"{root / 'keyring.json'} lacks the KDF parameters or check")
        entries = [cls._read_public(file) for file in cls._json_files(root / "public")]
        nodes = [file.stem for file in cls._json_files(root / "nodes")]
        ring = cls(root, meta, entries, nodes, clock=clock)
        if passphrase is not None:
            ring.unlock(passphrase)
        return ring

    @staticmethod
    def _json_files(directory: Path) -> list[Path]:
        if not directory.is_dir():
            return []
        return sorted(p for p in directory.glob("*.json") if not p.name.startswith("."))

    @staticmethod
    def _read_public(file: Path) -> PublicKeyFile:
        entry = read_model(file, PublicKeyFile)
        try:
            public = b64url_decode(entry.public)
        except ValueError as exc:
            raise KeyringError(f"{file}: public key is not base64url") from exc
        if entry.kid != file.stem or key_id(public) != entry.kid:
            raise KeyringError(f"{file}: key id does not match the file name or public key")
        known_algs = SUITES if entry.kind is KeyKind.KEM else {SIGNATURE_ALG}
        if entry.alg not in known_algs:
            raise KeyringError(f"{file}: unknown algorithm for a {entry.kind.value} key")
        try:
            _check_scope(entry.role, entry.region)
        except ConfigurationError as exc:
            raise KeyringError(f"{file}: {exc.message}") from exc
        if entry.active and entry.retired:
            raise KeyringError(f"{file}: a key cannot be both active and retired")
        return entry

    def unlock(self, passphrase: str | bytes) -> None:
        """Check *passphrase* and keep the derived key-encryption key in memory."""
        if self._meta.public_only or self._meta.kdf is None or self._meta.check is None:
            raise KeyringError(f"{self._path} holds public keys only")
        kek = derive_kek(_passphrase_bytes(passphrase), self._meta.kdf)
        verify_check(kek, self._meta.check)
        self._kek = kek

    # -- introspection (metadata only) ---------------------------------------------------

    @property
    def path(self) -> Path:
        return self._path

    @property
    def public_only(self) -> bool:
        return self._meta.public_only

    @property
    def locked(self) -> bool:
        return self._kek is None

    def key_infos(
        self,
        *,
        kind: KeyKind | None = None,
        role: KeyRole | None = None,
        region: str | None = None,
        include_retired: bool = False,
    ) -> list[KeyInfo]:
        """Key metadata, filtered, ordered by kind, role, region, creation."""
        return [_info(entry) for entry in self._select(kind, role, region, include_retired)]

    def node_names(self) -> tuple[str, ...]:
        return tuple(sorted(self._nodes))

    def __repr__(self) -> str:
        return (
            f"Keyring(path={str(self._path)!r}, keys={len(self._entries)}, "
            f"nodes={len(self._nodes)}, public_only={self.public_only}, locked={self.locked})"
        )

    # -- using keys ----------------------------------------------------------------------

    def sealing_keys(self, role: KeyRole, region: str | None = None) -> list[KemPublicKey]:
        """Active KEM public keys of *role* / *region*: the recipients to seal to."""
        scope = _check_scope(role, region)
        keys = [
            KemPublicKey(entry.alg, b64url_decode(entry.public))
            for entry in self._select(KeyKind.KEM, role, scope, False)
            if entry.active
        ]
        if not keys:
            raise KeyNotFoundError(f"no active {_scope_text(role, scope)} KEM key")
        return keys

    def opening_keys(
        self, role: KeyRole | None = None, region: str | None = None
    ) -> list[KemPrivateKey]:
        """All non-retired KEM private keys (of *role* / *region*) present here."""
        keys = [
            self._load_kem(entry)
            for entry in self._select(KeyKind.KEM, role, region, False)
            if (self._path / "private" / f"{entry.kid}.json").exists()
        ]
        if not keys:
            raise KeyNotFoundError(f"no {_scope_text(role, region)} KEM private key here")
        return keys

    def signing_key(self, role: KeyRole, region: str | None = None) -> SigningKey:
        """The active signing key of *role* / *region* (the newest, if several)."""
        scope = _check_scope(role, region)
        active = [e for e in self._select(KeyKind.SIGN, role, scope, False) if e.active]
        if not active:
            raise KeyNotFoundError(f"no active {_scope_text(role, scope)} signing key")
        entry = max(active, key=lambda e: (e.created, e.kid))
        secret = self._open_secret(f"{entry.kid}.json", "private", entry.kid, "sign", entry.alg)
        key = SigningKey(secret)
        if key.kid != entry.kid:
            raise KeyringError(f"private key {entry.kid} does not match its public key")
        return key

    def verify_keys(
        self, role: KeyRole | None = None, region: str | None = None
    ) -> list[VerifyKey]:
        """All non-retired signing public keys (of *role* / *region*)."""
        return [
            VerifyKey(b64url_decode(entry.public))
            for entry in self._select(KeyKind.SIGN, role, region, False)
        ]

    def node_secret(self, name: str) -> NodeSecret:
        """The secret of node *name* (needs the passphrase)."""
        check_node_name(name)
        if name not in self._nodes:
            raise KeyNotFoundError(f"no node named {name!r} in this keyring")
        secret = self._open_secret(f"{name}.json", "nodes", name, "node", _NODE_ALG)
        return NodeSecret(name, secret)

    # -- changing the keyring ------------------------------------------------------------

    def generate(
        self,
        kind: KeyKind,
        role: KeyRole,
        region: str | None = None,
        *,
        suite: str | None = None,
        active: bool = True,
    ) -> KeyInfo:
        """Add one new key (without deactivating others; see :meth:`rotate`)."""
        scope = _check_scope(role, region)
        kek, kdf = self._require_kek()
        if kind is KeyKind.KEM:
            kem = KemPrivateKey.generate(suite if suite is not None else SUITE_HYBRID)
            kid, alg = kem.kid, kem.suite
            public, secret = kem.public_key.public_bytes(), kem.secret_bytes()
        else:
            if suite is not None:
                raise ConfigurationError("signing keys take no KEM suite")
            signer = SigningKey.generate()
            kid, alg = signer.kid, SIGNATURE_ALG
            public, secret = signer.verify_key.public_bytes(), signer.secret_bytes()
        sealed = seal_secret(secret, kind=kind.value, ident=kid, alg=alg, kdf=kdf, kek=kek)
        write_atomic(
            self._path / "private" / f"{kid}.json",
            sealed.model_dump_json().encode(),
            mode=_SECRET_MODE,
            exclusive=True,
        )
        entry = PublicKeyFile(
            kid=kid,
            kind=kind,
            role=role,
            region=scope,
            alg=alg,
            created=self._timestamp(),
            active=active,
            retired=False,
            public=b64url_encode(public),
        )
        self._write_public(entry, exclusive=True)
        return _info(entry)

    def rotate(
        self,
        kind: KeyKind,
        role: KeyRole,
        region: str | None = None,
        *,
        suite: str | None = None,
    ) -> KeyInfo:
        """Make a new active key for *role* / *region*; the old ones stay for opening and
        verifying (status ``previous``) until :meth:`retire`. KEM keys keep their suite
        unless *suite* says otherwise."""
        scope = _check_scope(role, region)
        current = [e for e in self._select(kind, role, scope, False) if e.active]
        if kind is KeyKind.KEM and suite is None and current:
            suite = max(current, key=lambda e: e.created).alg
        new = self.generate(kind, role, scope, suite=suite, active=True)
        for entry in current:
            self._write_public(entry.model_copy(update={"active": False}))
        return new

    def retire(self, kid: str, *, destroy: bool = False) -> KeyInfo:
        """Stop using key *kid* for opening and verifying; *destroy* deletes its private file.

        The only active key of a role and region cannot be retired: rotate first.
        """
        entry = self._entries.get(kid)
        if entry is None:
            raise KeyNotFoundError(f"no key {kid!r} in this keyring")
        if entry.active:
            others = [
                e
                for e in self._select(entry.kind, entry.role, entry.region, False)
                if e.active and e.kid != kid
            ]
            if not others:
                raise KeyringError(
                    f"key {kid} is the only active {_scope_text(entry.role, entry.region)} "
                    f"{entry.kind.value} key: rotate first"
                )
        entry = entry.model_copy(update={"active": False, "retired": True})
        self._write_public(entry)
        if destroy:
            try:
                (self._path / "private" / f"{kid}.json").unlink(missing_ok=True)
            except OSError as exc:
                raise KeyringError(f"cannot delete private key {kid}: {exc.strerror}") from exc
        return _info(entry)

    def add_node(self, name: str) -> None:
        """Create a 32-byte random secret for national node *name*."""
        check_node_name(name)
        if name in self._nodes:
            raise KeyringError(f"node {name!r} already has a secret")
        kek, kdf = self._require_kek()
        sealed = seal_secret(
            secrets.token_bytes(NODE_SECRET_LEN),
            kind="node",
            ident=name,
            alg=_NODE_ALG,
            kdf=kdf,
            kek=kek,
        )
        write_atomic(
            self._path / "nodes" / f"{name}.json",
            sealed.model_dump_json().encode(),
            mode=_SECRET_MODE,
            exclusive=True,
        )
        self._nodes.add(name)

    def export_public(self, out: str | Path) -> Path:
        """Write the public keys (all non-retired, with their flags) to *out* for nodes."""
        target = Path(out)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise KeyringError(f"{target} exists and is not an empty directory")
        try:
            (target / "public").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KeyringError(f"cannot create {target}: {exc.strerror}") from exc
        write_atomic(
            target / "keyring.json",
            KeyringFile(public_only=True).model_dump_json(exclude_none=True).encode(),
            mode=_PUBLIC_MODE,
        )
        for entry in self._select(None, None, None, False):
            write_atomic(
                target / "public" / f"{entry.kid}.json",
                entry.model_dump_json().encode(),
                mode=_PUBLIC_MODE,
            )
        return target

    # -- internals -----------------------------------------------------------------------

    def _select(
        self,
        kind: KeyKind | None,
        role: KeyRole | None,
        region: str | None,
        include_retired: bool,
    ) -> list[PublicKeyFile]:
        return sorted(
            (
                entry
                for entry in self._entries.values()
                if (kind is None or entry.kind is kind)
                and (role is None or entry.role is role)
                and (region is None or entry.region == region)
                and (include_retired or not entry.retired)
            ),
            key=_order,
        )

    def _require_kek(self) -> tuple[bytes, KdfFile]:
        if self._meta.public_only or self._meta.kdf is None:
            raise KeyringError(f"{self._path} holds public keys only")
        if self._kek is None:
            raise PassphraseError("the keyring is locked: a passphrase is needed")
        return self._kek, self._meta.kdf

    def _open_secret(self, filename: str, folder: str, ident: str, kind: str, alg: str) -> bytes:
        kek, kdf = self._require_kek()
        file = self._path / folder / filename
        sealed = read_model(file, SecretFile)
        if sealed.id != ident or sealed.kind != kind or sealed.alg != alg:
            raise KeyringError(f"{file} does not hold the expected {kind} secret")
        if sealed.kdf != kdf:
            raise KeyringError(f"{file} was written by another keyring")
        return open_secret(sealed, kek, where=str(file))

    def _load_kem(self, entry: PublicKeyFile) -> KemPrivateKey:
        secret = self._open_secret(f"{entry.kid}.json", "private", entry.kid, "kem", entry.alg)
        key = KemPrivateKey(entry.alg, secret)
        if key.kid != entry.kid:
            raise KeyringError(f"private key {entry.kid} does not match its public key")
        return key

    def _write_public(self, entry: PublicKeyFile, *, exclusive: bool = False) -> None:
        write_atomic(
            self._path / "public" / f"{entry.kid}.json",
            entry.model_dump_json().encode(),
            mode=_PUBLIC_MODE,
            exclusive=exclusive,
        )
        self._entries[entry.kid] = entry

    def _timestamp(self) -> str:
        return datetime.fromtimestamp(self._clock.now(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _scope_text(role: KeyRole | None, region: str | None) -> str:
    if role is None:
        return "matching"
    return f"{role.value} {region}" if region else role.value

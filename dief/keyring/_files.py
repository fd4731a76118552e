"""The sealed-secret files every party keyring is made of (all UTF-8 JSON); the folder's
layout is in :mod:`dief.keyring._party`.

Key-encryption key (KEK) = Argon2id(passphrase UTF-8, salt, params) → 32 bytes. A keyring's
``check`` is AES-256-GCM under the KEK of an empty plaintext with AAD
``dief/keyring/v1/check``: it tells a wrong passphrase apart before any key is touched (and
stops a key being written under a different passphrase).

``private/<kid>.json`` (a sealed secret)::

    {"format": "dief-secret/1", "kind": "kem"|"sign"|"node"|"rsa", "id": "<kid>",
     "alg": "<suite, MLDSA65+Ed25519, node-secret or the issuer scheme>",
     "kdf": {"name": "argon2id", "salt": "<b64url 16>", "iterations": 3, "lanes": 4,
             "memory_kib": 65536},
     "nonce": "<b64url 12>", "ciphertext": "<b64url AES-256-GCM(KEK, raw secret)>"}

with AAD = canonical JSON of every field but ``ciphertext``, so a file cannot be renamed to
another key, nor its KDF parameters changed, without failing. Each sealed file carries its
KDF parameters and salt and so opens on its own with the passphrase.
"""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING, Literal, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from dief.crypto import b64url_decode, b64url_encode, canonical_json
from dief.exceptions import KeyringError, PassphraseError

if TYPE_CHECKING:
    from pathlib import Path

    from dief.keyring._model import KdfParams

__all__ = [
    "KdfFile",
    "SecretFile",
    "derive_kek",
    "make_check",
    "open_secret",
    "read_model",
    "seal_secret",
    "verify_check",
    "write_atomic",
]

_B64URL = r"^[A-Za-z0-9_-]*={0,2}$"
_CHECK_AAD = b"dief/keyring/v1/check"
_SALT_LEN = 16
_NONCE_LEN = 12


_M = TypeVar("_M", bound=BaseModel)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KdfFile(_Model):
    name: Literal["argon2id"] = "argon2id"
    salt: str = Field(pattern=_B64URL)
    iterations: int = Field(ge=1)
    lanes: int = Field(ge=1)
    memory_kib: int = Field(ge=8)

    @classmethod
    def new(cls, params: KdfParams) -> KdfFile:
        return cls(
            salt=b64url_encode(secrets.token_bytes(_SALT_LEN)),
            iterations=params.iterations,
            lanes=params.lanes,
            memory_kib=params.memory_kib,
        )


class CheckFile(_Model):
    nonce: str = Field(pattern=_B64URL)
    ciphertext: str = Field(pattern=_B64URL)


class SecretFile(_Model):
    format: Literal["dief-secret/1"] = "dief-secret/1"
    kind: Literal["kem", "sign", "node", "rsa"]
    id: str
    alg: str
    kdf: KdfFile
    nonce: str = Field(pattern=_B64URL)
    ciphertext: str = Field(pattern=_B64URL)


def read_model(path: Path, model: type[_M]) -> _M:
    """Read and validate one JSON file; :class:`KeyringError` (naming the file) if not."""
    try:
        text = path.read_bytes()
    except FileNotFoundError as exc:
        raise KeyringError(f"keyring file {path} not found") from exc
    except OSError as exc:
        raise KeyringError(f"cannot read keyring file {path}: {exc.strerror}") from exc
    try:
        return model.model_validate_json(text)
    except PydanticValidationError as exc:
        raise KeyringError(f"keyring file {path} is not a valid {model.__name__}") from exc


def write_atomic(path: Path, data: bytes, *, mode: int, exclusive: bool = False) -> None:
    """Write *data* to *path* through a temporary file, fsync, rename; set *mode*."""
    if exclusive and path.exists():
        raise KeyringError(f"keyring file {path} already exists")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:  # noqa: PLW0717  every OS failure of the write maps to one KeyringError, and the temporary file is removed
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise KeyringError(f"cannot write keyring file {path}: {exc.strerror}") from exc


def derive_kek(passphrase: bytes, kdf: KdfFile) -> bytes:
    """Argon2id(passphrase, salt, params) → 32-byte key-encryption key."""
    if not passphrase:
        raise PassphraseError("the keyring passphrase is empty")
    try:
        salt = b64url_decode(kdf.salt)
        return Argon2id(
            salt=salt,
            length=32,
            iterations=kdf.iterations,
            lanes=kdf.lanes,
            memory_cost=kdf.memory_kib,
        ).derive(passphrase)
    except ValueError as exc:
        raise KeyringError("invalid key-derivation parameters in the keyring") from exc


def make_check(kek: bytes) -> CheckFile:
    nonce = secrets.token_bytes(_NONCE_LEN)
    return CheckFile(
        nonce=b64url_encode(nonce),
        ciphertext=b64url_encode(AESGCM(kek).encrypt(nonce, b"", _CHECK_AAD)),
    )


def verify_check(kek: bytes, check: CheckFile) -> None:
    try:
        AESGCM(kek).decrypt(b64url_decode(check.nonce), b64url_decode(check.ciphertext), _CHECK_AAD)
    except (InvalidTag, ValueError):
        raise PassphraseError("wrong passphrase for this keyring") from None


def _secret_aad(header: dict[str, object]) -> bytes:
    return canonical_json(header)


def seal_secret(  # noqa: PLR0913  a public keyword signature, used outside dief/keyring
    secret: bytes,
    *,
    kind: Literal["kem", "sign", "node", "rsa"],
    ident: str,
    alg: str,
    kdf: KdfFile,
    kek: bytes,
) -> SecretFile:
    """Encrypt *secret* under *kek* into a :class:`SecretFile`."""
    nonce = secrets.token_bytes(_NONCE_LEN)
    header = SecretFile(
        kind=kind, id=ident, alg=alg, kdf=kdf, nonce=b64url_encode(nonce), ciphertext=""
    )
    aad = _secret_aad(header.model_dump(exclude={"ciphertext"}))
    ciphertext = AESGCM(kek).encrypt(nonce, secret, aad)
    return header.model_copy(update={"ciphertext": b64url_encode(ciphertext)})


def open_secret(sealed: SecretFile, kek: bytes, *, where: str) -> bytes:
    """Decrypt a :class:`SecretFile` with *kek*; :class:`PassphraseError` if it does not open."""
    aad = _secret_aad(sealed.model_dump(exclude={"ciphertext"}))
    try:
        return AESGCM(kek).decrypt(
            b64url_decode(sealed.nonce), b64url_decode(sealed.ciphertext), aad
        )
    except (InvalidTag, ValueError):
        raise PassphraseError(
            f"{where} does not open with this passphrase (wrong passphrase or altered file)"
        ) from None

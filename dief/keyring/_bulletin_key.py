"""The bulletin group key (DESIGN §4 ⚑, §13): one per directory version.

The directory signer makes a fresh KEM key pair for each directory version
(:func:`issue_bulletin_group_key`), seals its private part to every registered node's KEM
key listed in that version (one ``dief.bulletin-group-key`` envelope each, labelled with the
directory version, so a copy cannot be replayed under another version; its plaintext
``{"k": <base64url>}`` is the 32-byte X-Wing seed — the private key form every X-Wing
implementation takes — or the X25519 key) and signs the release with the certified
directory key. Aggregators seal bulletins to the public part
(:func:`group_public_key`); a node opens its copy with its own KEM key
(:func:`open_bulletin_group_key`). A node removed from (or never in) a directory version has
no copy of that version's key, so it cannot open bulletins sealed after the renewal.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from dief.crypto import (
    KemPrivateKey,
    KemPublicKey,
    Opener,
    Sealer,
    SigningKey,
    VerifyKey,
    b64url_decode,
    b64url_encode,
)
from dief.exceptions import DirectoryError, EnvelopeError
from dief.keyring._statements import sign_document, verify_document
from dief.wire import SUITE_HYBRID, BulletinGroupKeyRelease, WrappedGroupKey
from dief.wire._bulletin import CONTEXT_BULLETIN_GROUP_KEY, TYPE_BULLETIN_GROUP_KEY

if TYPE_CHECKING:
    from dief.keyring._directory import ForumDirectory

__all__ = [
    "group_public_key",
    "issue_bulletin_group_key",
    "open_bulletin_group_key",
    "open_group_key_copy",
    "verify_bulletin_group_key",
]

_WHAT = "bulletin group key release"
#: The group private key as it travels: the X-Wing 32-byte seed (hybrid suite; every X-Wing
#: implementation takes it) or the X25519 private key.
_SEED_LEN = 32


def _label(version: int) -> str:
    return f"directory-v{version}"


def _directory_key(directory: ForumDirectory) -> VerifyKey:
    return VerifyKey(b64url_decode(directory.document.certificate.subject_public))


def issue_bulletin_group_key(
    directory: ForumDirectory, directory_signer: SigningKey, *, suite: str = SUITE_HYBRID
) -> tuple[BulletinGroupKeyRelease, KemPrivateKey]:
    """A new group key for *directory*'s version, wrapped to each of its node KEM keys and
    signed by *directory_signer* (the :class:`~dief.crypto.SigningKey` the directory's
    certificate names). Returns the release and the private key (for the signer to drop)."""
    if directory_signer.kid != directory.document.certificate.subject_kid:
        raise DirectoryError("not the key the directory's certificate names", code="rule")
    raw = secrets.token_bytes(_SEED_LEN)
    group = (
        KemPrivateKey.from_xwing_seed(raw) if suite == SUITE_HYBRID else KemPrivateKey(suite, raw)
    )
    secret = b64url_encode(raw).encode("ascii")
    wrapped: list[WrappedGroupKey] = []
    label = _label(directory.version)
    for node_key in sorted(directory.node_kem_keys(), key=lambda k: k.kid):
        sealer = Sealer(type=TYPE_BULLETIN_GROUP_KEY, region=label, recipients=[node_key])
        value = sealer.seal(b'{"k":"' + secret + b'"}')
        wrapped.append(WrappedGroupKey(node_kid=node_key.kid, envelope=value.decode("utf-8")))
    release = BulletinGroupKeyRelease(
        directory_version=directory.version,
        suite=group.suite,
        group_kid=group.kid,
        group_public=b64url_encode(group.public_key.public_bytes()),
        wrapped=tuple(wrapped),
    )
    return sign_document(release, directory_signer, context=CONTEXT_BULLETIN_GROUP_KEY), group


def verify_bulletin_group_key(
    release: BulletinGroupKeyRelease, directory: ForumDirectory
) -> KemPublicKey:
    """The group public key of *release*, if the directory signer of *directory* signed it
    for *directory*'s version (:class:`DirectoryError` otherwise)."""
    if release.directory_version != directory.version:
        raise DirectoryError("the group key is of another directory version", code="rule")
    verify_document(
        release, _directory_key(directory), context=CONTEXT_BULLETIN_GROUP_KEY, what=_WHAT
    )
    public = KemPublicKey(release.suite, b64url_decode(release.group_public))
    if public.kid != release.group_kid:
        raise DirectoryError("the group key id does not match its key", code="malformed")
    return public


def group_public_key(release: BulletinGroupKeyRelease, directory: ForumDirectory) -> KemPublicKey:
    """What an aggregator seals bulletins to (checked as :func:`verify_bulletin_group_key`)."""
    return verify_bulletin_group_key(release, directory)


def open_bulletin_group_key(
    release: BulletinGroupKeyRelease, directory: ForumDirectory, node_key: KemPrivateKey
) -> KemPrivateKey:
    """The group private key from this node's copy in *release*.

    :raises DirectoryError: the release does not verify, or holds no copy for this node
        (``not_registered``: the node is not in this directory version).
    """
    public = verify_bulletin_group_key(release, directory)
    return open_group_key_copy(release, node_key, public)


def open_group_key_copy(
    release: BulletinGroupKeyRelease,
    node_key: KemPrivateKey,
    public: KemPublicKey | None = None,
) -> KemPrivateKey:
    """The node's copy in a *release* verified before (:func:`open_bulletin_group_key`
    verifies it against the directory first; a node reopens here the releases it kept).

    :raises DirectoryError: no copy for this node, or the copy does not open or is not the
        released key.
    """
    if public is None:
        public = KemPublicKey(release.suite, b64url_decode(release.group_public))
    copy = next((w for w in release.wrapped if w.node_kid == node_key.kid), None)
    if copy is None:
        raise DirectoryError("no copy of the group key for this node", code="not_registered")
    try:
        opened = Opener([node_key], schemas={TYPE_BULLETIN_GROUP_KEY: {1}}).open(copy.envelope)
    except EnvelopeError as exc:
        raise DirectoryError(
            "this node's copy of the group key does not open", code="rule"
        ) from exc
    if opened.region != _label(release.directory_version):
        raise DirectoryError("the group key copy is of another directory version", code="rule")
    payload = opened.payload.decode("utf-8")
    if not (payload.startswith('{"k":"') and payload.endswith('"}')):
        raise DirectoryError("the group key copy is malformed", code="malformed")
    raw = b64url_decode(payload[6:-2])
    if len(raw) != _SEED_LEN:
        raise DirectoryError("the group key copy is malformed", code="malformed")
    group = (
        KemPrivateKey.from_xwing_seed(raw)
        if release.suite == SUITE_HYBRID
        else KemPrivateKey(release.suite, raw)
    )
    if group.kid != public.kid or group.kid != release.group_kid:
        raise DirectoryError("the group key copy is not the released key", code="rule")
    return group

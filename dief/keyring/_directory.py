"""Verifying the signed forum directory: :func:`verify_directory` → :class:`ForumDirectory`.

Order of the checks (each failure a :class:`DirectoryError` with its ``code``):

1. strict JSON (duplicate keys refused) of a :class:`ForumDirectoryDocument` — ``malformed``;
2. the certificate: its root key's SHA-256 is the pinned fingerprint, the root's signature
   verifies, ``now`` and ``issued_at`` are inside its validity — ``certificate``;
3. the document's signature by the certified directory key — ``unsigned`` /
   ``bad_signature``;
4. against the directory held: an older version — ``rollback``; the same version with other
   bytes — ``conflict``; the same bytes give back the one held;
5. ``expires`` not passed, ``issued_at`` not in the future — ``expired`` / ``not_yet_valid``;
6. every rule of :mod:`dief.keyring._rules` — ``rule``; and against the one held, no key
   dropped, altered or un-revoked; each change of a region's keys a warning.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import rsa

from dief.crypto import KemPublicKey, VerifyKey, b64url_decode
from dief.exceptions import DirectoryError
from dief.keyring._model import KeyRole
from dief.keyring._rules import LoadedKey, check_rules, compare
from dief.keyring._statements import (
    normalise_fingerprint,
    parse_strict,
    root_fingerprint,
    verify_document,
    verify_key_of,
)
from dief.keyring._time import parse_iso
from dief.wire import (
    CONTEXT_DIRECTORY,
    CONTEXT_DIRECTORY_CERTIFICATE,
    DirectoryKey,
    DirectoryKeyCertificate,
    DirectoryRole,
    ForumDirectoryDocument,
    ForumParameters,
    KeyStatus,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["CLOCK_SKEW", "ForumDirectory", "verify_certificate", "verify_directory"]

#: How far in the future ``issued_at`` may be (clocks of different parties differ).
CLOCK_SKEW = 300.0
_OPENING = (KeyStatus.ACTIVE, KeyStatus.PREVIOUS, KeyStatus.RETIRED)
_LEGACY_ROLES = {
    KeyRole.REGION: DirectoryRole.REGION_SIGN,
    KeyRole.SECRETARIAT: DirectoryRole.SECRETARIAT_SIGN,
}


class ForumDirectory:  # noqa: PLR0904  one object per keyring role; its public methods are the role's operations
    """A verified forum directory: what every party may use, by role.

    Sealing and signing use **active** keys only; opening and verifying accept active,
    previous and retired keys (what was made before a retirement); revoked keys are never
    used. A key that is not in here is never used at all.
    """

    __slots__ = ("_by_kid", "_doc", "_issuers", "_loaded", "_raw", "_root", "_warnings")

    def __init__(
        self,
        raw: bytes,
        doc: ForumDirectoryDocument,
        loaded: dict[str, LoadedKey],
        root: VerifyKey,
        warnings: tuple[str, ...] = (),
    ) -> None:
        self._raw = bytes(raw)
        self._doc = doc
        self._loaded = loaded
        self._root = root
        self._by_kid = {key.kid: key for key in doc.keys}
        self._warnings = warnings
        # (cycle, region) -> the pair's issuer key entry: an aggregator asks per record
        self._issuers = {
            (str(key.cycle), str(key.region)): key
            for key in self.entries(DirectoryRole.ISSUER, statuses=_OPENING)
        }

    # -- the document ------------------------------------------------------------------------

    @property
    def raw(self) -> bytes:
        """The exact bytes that were verified (what is published and kept)."""
        return self._raw

    @property
    def document(self) -> ForumDirectoryDocument:
        return self._doc

    @property
    def version(self) -> int:
        return self._doc.version

    @property
    def issued_at(self) -> float:
        return parse_iso(self._doc.issued_at)

    @property
    def expires(self) -> float:
        return parse_iso(self._doc.expires)

    @property
    def parameters(self) -> ForumParameters:
        return self._doc.parameters

    @property
    def simulation(self) -> bool:
        return self._doc.parameters.simulation

    @property
    def root_fingerprint(self) -> str:
        return root_fingerprint(self._root)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Changes of a region's keys (and of the parameters) against the previous version."""
        return self._warnings

    def __repr__(self) -> str:
        return (
            f"ForumDirectory(version={self.version}, keys={len(self._by_kid)}, "
            f"expires={self._doc.expires!r}, simulation={self.simulation})"
        )

    # -- keys ----------------------------------------------------------------------------

    def entries(
        self,
        role: DirectoryRole | None = None,
        region: str | None = None,
        *,
        statuses: Iterable[KeyStatus] | None = None,
    ) -> list[DirectoryKey]:
        wanted = set(statuses) if statuses is not None else None
        return [
            key
            for key in self._doc.keys
            if (role is None or key.role is role)
            and (region is None or key.region == region)
            and (wanted is None or key.status in wanted)
        ]

    def entry(self, kid: str) -> DirectoryKey | None:
        return self._by_kid.get(kid)

    def _kem(self, role: DirectoryRole, region: str | None) -> list[KemPublicKey]:
        now = time.time()
        keys = []
        for key in self.entries(role, region, statuses=(KeyStatus.ACTIVE,)):
            if key.not_after is not None and parse_iso(key.not_after) <= now:
                continue
            loaded = self._loaded[key.kid]
            assert isinstance(loaded, KemPublicKey)  # noqa: S101  narrows the type: the invariant is set when the object is built
            keys.append(loaded)
        return keys

    def region_kem_keys(self, region: str) -> list[KemPublicKey]:
        """The keys to seal *region*'s cases to: its active KEM keys (two during a declared
        rotation)."""
        return self._kem(DirectoryRole.REGION_KEM, region)

    def region_opening_kids(self, region: str) -> frozenset[str]:
        """Kids of *region*'s KEM keys whose private keys may open (not revoked)."""
        return frozenset(
            k.kid for k in self.entries(DirectoryRole.REGION_KEM, region, statuses=_OPENING)
        )

    def secretariat_kem_keys(self) -> list[KemPublicKey]:
        """The keys to seal digests and credential requests to (active)."""
        return self._kem(DirectoryRole.SECRETARIAT_KEM, None)

    def secretariat_opening_kids(self) -> frozenset[str]:
        return frozenset(
            k.kid for k in self.entries(DirectoryRole.SECRETARIAT_KEM, statuses=_OPENING)
        )

    def node_kem_keys(self) -> list[KemPublicKey]:
        """The registered nodes' KEM keys (unnamed), active only."""
        return self._kem(DirectoryRole.NODE_KEM, None)

    def verify_keys(
        self, role: DirectoryRole | KeyRole, region: str | None = None
    ) -> list[VerifyKey]:
        """Keys that verify documents of *role* (``region-sign``, ``secretariat-sign``, ...;
        the keyring's ``region`` / ``secretariat`` roles mean their signing keys): active,
        previous and retired, never revoked."""
        wanted = _LEGACY_ROLES[role] if isinstance(role, KeyRole) else role
        out = []
        for key in self.entries(wanted, region, statuses=_OPENING):
            loaded = self._loaded[key.kid]
            if isinstance(loaded, VerifyKey):
                out.append(loaded)
        return out

    def issuer_key(self, cycle: str, region: str) -> rsa.RSAPublicKey | None:
        """The one issuer key of (*cycle*, *region*) (not revoked), or None."""
        key = self._issuers.get((cycle, region))
        if key is None:
            return None
        loaded = self._loaded[key.kid]
        return loaded if isinstance(loaded, rsa.RSAPublicKey) else None

    def issuer_entry(self, cycle: str, region: str) -> DirectoryKey | None:
        return self._issuers.get((cycle, region))

    def tokens_issued(self, cycle: str, region: str) -> int:
        """Tokens the issuer key of (*cycle*, *region*) signed (first and re-registrations)."""
        key = self.issuer_entry(cycle, region)
        if key is None:
            return 0
        return (key.tokens or 0) + (key.reissued_tokens or 0)


def verify_certificate(
    certificate: DirectoryKeyCertificate, fingerprint: str, now: float
) -> tuple[VerifyKey, VerifyKey]:
    """The (root, directory) keys of a certificate from the pinned root, valid at *now*."""
    pinned = normalise_fingerprint(fingerprint)
    try:
        root_public = b64url_decode(certificate.root_public)
    except ValueError as exc:
        raise DirectoryError(
            "the certificate's root key is not base64url", code="certificate"
        ) from exc
    if root_fingerprint(root_public) != pinned:
        raise DirectoryError(
            "the directory key is not certified by the pinned forum root", code="certificate"
        )
    root = verify_key_of(certificate.root_public, what="root key")
    try:
        verify_document(
            certificate, root, context=CONTEXT_DIRECTORY_CERTIFICATE, what="certificate"
        )
    except DirectoryError as exc:
        raise DirectoryError(f"{exc.message}", code="certificate") from exc
    subject = verify_key_of(certificate.subject_public, what="directory key")
    if subject.kid != certificate.subject_kid:
        raise DirectoryError("the certificate's key id does not match its key", code="certificate")
    if not parse_iso(certificate.not_before) <= now <= parse_iso(certificate.not_after):
        raise DirectoryError("the directory key's certificate is not valid now", code="certificate")
    return root, subject


def verify_directory(
    raw: bytes | str,
    root_fingerprint: str,
    previous: ForumDirectory | None = None,
    now: float | None = None,
) -> ForumDirectory:
    """Verify a directory against the pinned root and the one held; see the module doc."""
    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    moment = time.time() if now is None else now
    doc = parse_strict(data, ForumDirectoryDocument, what="forum directory")
    root, directory_key = verify_certificate(doc.certificate, root_fingerprint, moment)
    issued = parse_iso(doc.issued_at, what="issued_at")
    cert = doc.certificate
    if not parse_iso(cert.not_before) <= issued <= parse_iso(cert.not_after):
        raise DirectoryError(
            "the directory was issued outside its key's certificate", code="certificate"
        )
    verify_document(doc, directory_key, context=CONTEXT_DIRECTORY, what="forum directory")
    if previous is not None:
        if doc.version < previous.version:
            raise DirectoryError(
                f"version {doc.version} is older than the version {previous.version} held",
                code="rollback",
            )
        if doc.version == previous.version:
            if data != previous.raw:
                raise DirectoryError(
                    f"version {doc.version} differs from the version {doc.version} held",
                    code="conflict",
                )
            return previous
    if parse_iso(doc.expires, what="expires") <= moment:
        raise DirectoryError(f"the directory expired at {doc.expires}", code="expired")
    if issued > moment + CLOCK_SKEW:
        raise DirectoryError(
            f"the directory is issued in the future ({doc.issued_at})", code="not_yet_valid"
        )
    loaded = check_rules(doc, root)
    warnings: tuple[str, ...] = ()
    if previous is not None:
        if previous.root_fingerprint != root_fingerprint_of(root):
            raise DirectoryError("the directory changed forum roots", code="certificate")
        warnings = compare(previous.document, doc)
    return ForumDirectory(data, doc, loaded, root, warnings)


def root_fingerprint_of(root: VerifyKey) -> str:
    return root_fingerprint(root)

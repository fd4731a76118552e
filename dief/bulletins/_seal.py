"""Signing, sealing and opening bulletin batches (DESIGN §13 ⚑).

:class:`BulletinSealer` (at a region's aggregator) signs a batch with the region's signing
key and seals it to the bulletin group key. :class:`BulletinReader` (at a node) opens a
value with the group keys it holds, checks the region's signature against the directory and
the batch's region against the envelope's, and ignores anything else: it counts what it
ignored by reason, never keeping or logging the content.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError as PydanticValidationError

from dief.crypto import (
    KemPrivateKey,
    KemPublicKey,
    Opener,
    Sealer,
    Signature,
    SigningKey,
    VerifyKey,
    sign_json,
    verify_json,
)
from dief.exceptions import EnvelopeError, SignatureError
from dief.kafka import BULLETINS_TOPIC
from dief.keyring import ForumDirectory
from dief.seams import Clock, SystemClock, coarse_hour
from dief.wire import (
    CONTEXT_BULLETIN,
    TYPE_BULLETIN,
    BulletinBatch,
    BulletinEntry,
    DirectoryRole,
    SignedBulletinBatch,
)

__all__ = [
    "BULLETINS_TOPIC",
    "GROUP_KEY_PREFIX",
    "BulletinReader",
    "BulletinSealer",
    "OpenedBulletins",
    "RegionKeys",
    "record_key",
]

#: Record keys of group key releases on ``dief.bulletins`` (``group-key/v<version>``); every
#: other record there is a sealed batch under a random key.
GROUP_KEY_PREFIX = b"group-key/"

#: Where a reader finds the region signing keys: a directory, the directory held now (a
#: callable: a rotation is followed), or region → verify keys.
RegionKeys = ForumDirectory | Callable[[], ForumDirectory] | Mapping[str, Sequence[VerifyKey]]

log = logging.getLogger("dief.bulletins")


def record_key() -> bytes:
    """A random record key: nothing in it links two batches or names a region."""
    return secrets.token_hex(16).encode("ascii")


class BulletinSealer:
    """Signs and seals one region's batches to the current group key."""

    def __init__(
        self,
        region: str,
        signing_key: SigningKey,
        group_key: KemPublicKey,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.region = region
        self._key = signing_key
        self._group = group_key
        self._sealer = Sealer(type=TYPE_BULLETIN, region=region, recipients=[group_key])
        self._clock = clock if clock is not None else SystemClock()

    def __repr__(self) -> str:
        return f"BulletinSealer(region={self.region!r}, group_kid={self._group.kid!r})"

    def renew(self, group_key: KemPublicKey) -> None:
        """Seal to *group_key* from now on (a new directory version's)."""
        self._group = group_key
        self._sealer.replace_recipients([group_key])

    def seal(self, entries: Sequence[BulletinEntry]) -> bytes:
        """The envelope of one signed batch of *entries*."""
        batch = BulletinBatch(
            region=self.region,
            issued_hour=coarse_hour(self._clock.now()).strftime("%Y-%m-%dT%H:00Z"),
            group_kid=self._group.kid,
            entries=tuple(entries),
        )
        signature = sign_json(self._key, batch.model_dump(mode="json"), context=CONTEXT_BULLETIN)
        signed = SignedBulletinBatch(batch=batch, signature=signature.model_dump())
        return self._sealer.seal(signed.model_dump_json().encode("utf-8"))


@dataclass(frozen=True, slots=True)
class OpenedBulletins:
    """A batch that opened and verified: its region and entries."""

    region: str
    issued_hour: str
    entries: tuple[BulletinEntry, ...]


class BulletinReader:
    """Opens bulletin batches at a node; ignores, and counts, anything that does not verify."""

    def __init__(
        self,
        group_keys: Iterable[KemPrivateKey],
        region_keys: RegionKeys,
    ) -> None:
        """*region_keys*: a ``ForumDirectory`` (region signing keys are taken from it, by
        the envelope's region), a callable giving the directory held now, or a mapping
        region → verify keys."""
        self._opener = Opener(list(group_keys), schemas={TYPE_BULLETIN: {1}})
        self._regions = region_keys
        self.ignored: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"BulletinReader(ignored={sum(self.ignored.values())})"

    def add_group_key(self, key: KemPrivateKey) -> None:
        self._opener.add_key(key)

    def _verify_keys(self, region: str) -> list[VerifyKey]:
        regions = self._regions
        if callable(regions):
            regions = regions()
        if isinstance(regions, ForumDirectory):
            return list(regions.verify_keys(DirectoryRole.REGION_SIGN, region))
        return list(regions.get(region, ()))

    def open(self, value: bytes) -> OpenedBulletins | None:
        """The batch in *value*, or None (counted in :attr:`ignored` by reason)."""
        try:
            opened = self._opener.open(value)
        except EnvelopeError as exc:
            return self._ignore(type(exc).__name__)
        try:
            signed = SignedBulletinBatch.model_validate_json(opened.payload)
            signature = Signature.from_mapping(signed.signature)
        except (PydanticValidationError, SignatureError):
            return self._ignore("malformed")
        batch = signed.batch
        if batch.region != opened.region:
            return self._ignore("wrong_region")
        try:
            verify_json(
                self._verify_keys(batch.region),
                batch.model_dump(mode="json"),
                signature,
                context=CONTEXT_BULLETIN,
            )
        except SignatureError:
            return self._ignore("bad_signature")
        return OpenedBulletins(batch.region, batch.issued_hour, batch.entries)

    def _ignore(self, reason: str) -> OpenedBulletins | None:
        self.ignored[reason] += 1
        log.info("ignored a bulletin record (%s); %d ignored so far", reason, self.total_ignored)
        return None

    @property
    def total_ignored(self) -> int:
        return sum(self.ignored.values())

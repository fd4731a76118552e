"""The Secretariat issues the bulletin group key (DESIGN §4 ⚑, §13): one per directory version.

The directory signer makes ONE group key release per directory version
(:func:`~dief.keyring.issue_bulletin_group_key`: a fresh KEM key pair, its private part
sealed to every node KEM key that version lists, signed by the directory signer) and keeps
it in the Secretariat's database (:class:`GroupKeyStore`, table ``bulletin_group_keys``,
created if absent beside the Secretariat's other tables). Publishing again — at each start,
or when the topic lost it — sends the same release, never a new key for the same version.
A node removed from a version has no copy in that version's release; the regions seal to
the newest release they can verify against the directory they hold.

The group's private part is never kept: the release holds one sealed copy per node.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from dief.bulletins import BULLETINS_TOPIC, publish_group_key
from dief.database import TableStore
from dief.database import db_reason as _why
from dief.exceptions import StorageError
from dief.keyring import ForumDirectory, issue_bulletin_group_key, verify_bulletin_group_key
from dief.wire import BulletinGroupKeyRelease

if TYPE_CHECKING:
    from collections.abc import Callable

    from dief.crypto import SigningKey
    from dief.seams import RecordSink

__all__ = ["GroupKeyIssuer", "GroupKeyStore"]

log = logging.getLogger("dief.secretariat")

_metadata = MetaData()

_group_keys = Table(
    "bulletin_group_keys",
    _metadata,
    Column("directory_version", Integer, primary_key=True, autoincrement=False),
    Column("group_kid", String(32), nullable=False),
    Column("release", Text, nullable=False),
)


class GroupKeyStore(TableStore):
    """The bulletin group key release of each directory version, in the Secretariat's
    database (SQLAlchemy async; SQLite by default, PostgreSQL by URL)."""

    _what = "the bulletin group key store"
    _metadata = _metadata

    async def held(self, version: int) -> BulletinGroupKeyRelease | None:
        """The release kept for directory *version*, if any."""
        engine = self._require()
        query = select(_group_keys.c.release).where(_group_keys.c.directory_version == version)
        try:
            async with engine.connect() as conn:
                row = (await conn.execute(query)).first()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read a bulletin group key: {_why(exc)}") from exc
        if row is None:
            return None
        return BulletinGroupKeyRelease.model_validate_json(row.release)

    async def keep(self, release: BulletinGroupKeyRelease) -> BulletinGroupKeyRelease:
        """Keep *release* unless its version has one; returns the one kept (the first)."""
        engine = self._require()
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    _group_keys.insert().values(
                        directory_version=release.directory_version,
                        group_kid=release.group_kid,
                        release=release.model_dump_json(),
                    )
                )
        except IntegrityError as exc:
            held = await self.held(release.directory_version)
            if held is None:
                raise StorageError(f"cannot keep a bulletin group key: {_why(exc)}") from exc
            return held
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot keep a bulletin group key: {_why(exc)}") from exc
        return release


class GroupKeyIssuer:
    """Makes (once) and publishes the group key release of each directory version.

    *signer* gives the directory-signing key that *directory*'s certificate names."""

    def __init__(
        self,
        store: GroupKeyStore,
        signer: Callable[[ForumDirectory], SigningKey],
        sink: RecordSink,
        *,
        topic: str = BULLETINS_TOPIC,
    ) -> None:
        self._store = store
        self._signer = signer
        self._sink = sink
        self._topic = topic
        #: The directory version whose release was last published by this issuer.
        self.published = 0

    def __repr__(self) -> str:
        return f"GroupKeyIssuer(published=v{self.published})"

    async def release_for(self, directory: ForumDirectory) -> BulletinGroupKeyRelease:
        """The release of *directory*'s version: the one kept, else a new one, kept."""
        held = await self._store.held(directory.version)
        if held is not None:
            verify_bulletin_group_key(held, directory)
            return held
        release, group = issue_bulletin_group_key(directory, self._signer(directory))
        del group  # the private part lives only in the nodes' sealed copies
        kept = await self._store.keep(release)
        if kept is release:
            log.info(
                "bulletin group key of directory v%d made for %d nodes",
                directory.version,
                len(release.wrapped),
            )
        return kept

    async def publish(self, directory: ForumDirectory) -> BulletinGroupKeyRelease:
        """Publish *directory*'s release on ``dief.bulletins`` (the same one every time)."""
        release = await self.release_for(directory)
        await publish_group_key(self._sink, release, topic=self._topic)
        self.published = max(self.published, directory.version)
        return release

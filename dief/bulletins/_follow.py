"""The running node follows ``dief.bulletins`` into its own store (DESIGN §13 ⚑).

:class:`BulletinFollower` reads the topic without a consumer group (a
:class:`~dief.seams.RecordFeed`, from the positions kept in the node's database, like the
receipt reader). A group key release signed by the directory signer for the directory the
node holds gives the node its copy (kept, so a restart opens it again); a batch that opens
with a key the node holds and verifies under its region's signing key is applied to the
:class:`~dief.bulletins.BulletinStore` with the node's watch matches; anything else is
ignored and counted by reason, its content never kept or logged. Positions and contents are
written in one transaction: a restart goes on where it stopped, and a record read twice
changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import TYPE_CHECKING

from pydantic import ValidationError as PydanticValidationError

from dief.bulletins._seal import (
    BULLETINS_TOPIC,
    GROUP_KEY_PREFIX,
    BulletinReader,
    OpenedBulletins,
)
from dief.bulletins._store import BulletinStore, Transactor
from dief.bulletins._watches import Watch, WatchStore
from dief.exceptions import BrokerError, DirectoryError
from dief.kafka import KafkaRecordFeed, follow_feed
from dief.keyring import ForumDirectory, open_bulletin_group_key, open_group_key_copy
from dief.seams import Backoff, InboundRecord, RecordFeed
from dief.wire import BulletinGroupKeyRelease

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence
    from pathlib import Path

    from dief.crypto import KemPrivateKey
    from dief.settings import KafkaSettings

__all__ = ["BulletinFollower", "node_follower"]

log = logging.getLogger("dief.bulletins")

#: Longest wait of one fetch, so that a stop is seen soon.
_FETCH_WAIT = 0.5
#: Batches kept (values only, in memory) because no group key held opened them: a key
#: released for a directory version the node did not hold yet may still open them.
_KEEP_UNOPENED = 256
#: The reader's reason for a batch sealed to no key it holds.
_NO_KEY = "NoRecipientKeyError"


class BulletinFollower:
    """Reads ``dief.bulletins`` from *feed* into *store* at one node."""

    def __init__(  # noqa: PLR0913  a public keyword signature, used outside dief/bulletins
        self,
        store: BulletinStore,
        feed: RecordFeed,
        *,
        directory: Callable[[], ForumDirectory],
        node_key: KemPrivateKey,
        watches: Callable[[], Sequence[Watch]] = list,
        topic: str = BULLETINS_TOPIC,
        backoff: Backoff | None = None,
    ) -> None:
        self._store = store
        self._feed = feed
        self._directory = directory
        self._node_key = node_key
        self._watches = watches
        self._topic = topic
        self._backoff = backoff or Backoff()
        self._started = False
        self._kids: set[str] = set()
        # releases of directory versions not held yet, and batches no key held opened
        self._pending: dict[int, bytes] = {}
        self._unopened: deque[bytes] = deque(maxlen=_KEEP_UNOPENED)
        self.reader = BulletinReader([], directory)
        self._changed = asyncio.Condition()
        #: Bulletins and retractions applied, and group keys opened, since made.
        self.added = 0
        self.retracted = 0
        self.group_keys = 0

    def __repr__(self) -> str:
        return (
            f"BulletinFollower(added={self.added}, retracted={self.retracted}, "
            f"ignored={self.reader.total_ignored})"
        )

    @property
    def ignored(self) -> int:
        return self.reader.total_ignored

    def _add_key(self, key: KemPrivateKey) -> bool:
        if key.kid in self._kids:
            return False
        self._kids.add(key.kid)
        self.reader.add_group_key(key)
        self.group_keys += 1
        return True

    async def _take_release(self, value: bytes) -> KemPrivateKey | None:
        """The new group key of this node from the release in *value*, if any. A release of a
        directory version newer than the one held waits until the node holds it (the
        Secretariat publishes both at once; the directory may come second)."""
        try:
            release = BulletinGroupKeyRelease.model_validate_json(value)
        except PydanticValidationError:
            return None
        if release.directory_version > self._directory().version:
            self._pending[release.directory_version] = value
            return None
        try:
            key = open_bulletin_group_key(release, self._directory(), self._node_key)
        except DirectoryError as exc:
            # another directory version's, not signed by the directory signer, or no copy
            # for this node (removed or never registered): passed over
            log.debug("a group key release passed over (%s)", type(exc).__name__)
            return None
        if not self._add_key(key):
            return None
        await self._store.keep_release(release)
        return key

    async def _due_releases(self) -> list[KemPrivateKey]:
        """The keys of waiting releases whose directory version the node now holds."""
        held = self._directory().version
        keys: list[KemPrivateKey] = []
        for version in sorted(v for v in self._pending if v <= held):
            key = await self._take_release(self._pending.pop(version))
            if key is not None:
                keys.append(key)
        return keys

    def _late(self, key: KemPrivateKey) -> list[OpenedBulletins]:
        """Batches met before *key* that it opens (sealed to it before the node had it)."""
        retry = BulletinReader([key], self._directory)
        opened: list[OpenedBulletins] = []
        still: deque[bytes] = deque(maxlen=_KEEP_UNOPENED)
        for value in self._unopened:
            batch = retry.open(value)
            if batch is None:
                still.append(value)
            else:
                opened.append(batch)
        self._unopened = still
        return opened

    def _open(self, value: bytes) -> OpenedBulletins | None:
        before = self.reader.ignored[_NO_KEY]
        opened = self.reader.open(value)
        if opened is None and self.reader.ignored[_NO_KEY] > before:
            self._unopened.append(value)  # perhaps sealed to a key still on its way
        return opened

    def keys_due(self) -> bool:
        """Whether a waiting release's directory version is now held (see :meth:`run`)."""
        return any(v <= self._directory().version for v in self._pending)

    async def handle(self, records: Sequence[InboundRecord]) -> int:
        """Apply *records* (in order) and keep the position after them; returns how many
        bulletins and retractions changed the store."""
        batches: list[OpenedBulletins] = []
        for due in await self._due_releases():
            batches.extend(self._late(due))
        positions: dict[int, int] = {}
        for rec in records:
            positions[rec.partition] = max(positions.get(rec.partition, 0), rec.offset + 1)
            if (rec.key or b"").startswith(GROUP_KEY_PREFIX):
                new = await self._take_release(rec.value or b"")
                if new is not None:
                    batches.extend(self._late(new))
                continue
            opened = self._open(rec.value or b"")
            if opened is not None:
                batches.append(opened)
        applied = await self._store.apply(batches, self._watches(), positions, topic=self._topic)
        self.added += len(applied.added)
        self.retracted += len(applied.retracted)
        async with self._changed:
            self._changed.notify_all()
        return len(applied.added) + len(applied.retracted)

    async def wait_for(self, done: Callable[[], Awaitable[bool]], time_limit: float) -> bool:
        """Wait (without reading) until ``done()`` is true after a handled batch (True), or
        raise :class:`TimeoutError` after *time_limit* seconds; for callers beside
        :meth:`run` (tests, the bench)."""
        async with asyncio.timeout(time_limit):
            async with self._changed:
                while not await done():
                    await self._changed.wait()
        return True

    async def read_until(self, done: Callable[[], Awaitable[bool]], time_limit: float) -> bool:
        """Read until ``done()`` is true (True) or *time_limit* seconds passed (False).

        :raises BrokerError: the broker cannot be reached.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + time_limit
        try:
            async with asyncio.timeout(max(time_limit, 0.0) + 1.0):
                await self._start()
        except TimeoutError as exc:
            raise BrokerError(f"cannot read {self._topic} within {time_limit:g} s") from exc
        while not await done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            records = await self._feed.fetch(min(remaining, _FETCH_WAIT))
            if records:
                await self.handle(records)
        return True

    async def read_to_end(self, time_limit: float) -> bool:
        """Read what the topic holds now (``dief alerts --read``); whether it got there."""
        return await self.read_until(self.caught_up, time_limit)

    async def caught_up(self) -> bool:
        return self._started and await self._feed.caught_up()

    async def run(self, stop: asyncio.Event) -> None:
        """Follow until *stop* is set, retrying with backoff when the broker or the node's
        database fails (the node goes on meanwhile)."""
        await follow_feed(
            stop, self._step, close=self.close, backoff=self._backoff, log=log,
            doing="following bulletins",
        )  # fmt: skip

    async def _step(self) -> None:
        await self._start()
        records = await self._feed.fetch(_FETCH_WAIT)
        if records or self.keys_due():
            await self.handle(records)

    async def close(self) -> None:
        self._started = False
        await self._feed.close()

    async def _start(self) -> None:
        """Open the kept group keys, then start the feed where the node stopped."""
        if self._started:
            return
        await self._store.start()
        for release in await self._store.releases():
            with contextlib.suppress(DirectoryError):
                self._add_key(open_group_key_copy(release, self._node_key))
        await self._feed.start(await self._store.positions(self._topic))
        self._started = True


def node_follower(  # noqa: PLR0913  a public keyword signature, used outside dief/bulletins
    kafka: KafkaSettings,
    outbox: Transactor,
    folder: Path,
    *,
    directory: Callable[[], ForumDirectory],
    node_key: KemPrivateKey,
    backoff: Backoff | None = None,
) -> BulletinFollower:
    """The running node's follower: ``dief.bulletins`` on *kafka* into the node's *outbox*
    file, with the watches of ``watches.json`` in the node's *folder* (read at each batch,
    so a watch added meanwhile counts)."""
    feed = KafkaRecordFeed(kafka, BULLETINS_TOPIC, client_id="dief-node-bulletins")
    return BulletinFollower(
        BulletinStore(outbox),
        feed,
        directory=directory,
        node_key=node_key,
        watches=WatchStore(folder / "watches.json").all,
        backoff=backoff,
    )

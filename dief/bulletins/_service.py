"""Moving bulletins over the broker: the region's publisher and the node's reading.

:class:`BulletinPublisher` (beside a region's aggregator) sends each batch the collector
hands over, sealed and signed, to ``dief.bulletins`` under a random key; :meth:`run` waits
on the injectable clock's due time (or a stop event), :meth:`tick` is one step (tests drive
it with a fake clock, never sleeping). :func:`read_bulletins` reads the topic at a node and
applies what opens and verifies to its :class:`~dief.bulletins.BulletinBoard`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import ValidationError as PydanticValidationError

from dief.bulletins._seal import (
    BULLETINS_TOPIC,
    GROUP_KEY_PREFIX,
    BulletinReader,
    BulletinSealer,
    record_key,
)
from dief.exceptions import DirectoryError
from dief.kafka import read_to_end
from dief.keyring import ForumDirectory, open_bulletin_group_key
from dief.seams import Clock, RecordSink, SystemClock
from dief.wire import BulletinEntry, BulletinGroupKeyRelease

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dief.bulletins._board import BulletinBoard
    from dief.bulletins._collector import BulletinCollector
    from dief.crypto import KemPrivateKey
    from dief.settings import KafkaSettings

__all__ = [
    "GROUP_KEY_PREFIX",
    "BulletinPublisher",
    "BulletinsRead",
    "publish_group_key",
    "read_bulletins",
]

log = logging.getLogger("dief.bulletins")


class BulletinPublisher:
    """Sends one region's batches when they fall due."""

    def __init__(
        self,
        collector: BulletinCollector,
        sealer: BulletinSealer,
        sink: RecordSink,
        *,
        clock: Clock | None = None,
        topic: str = BULLETINS_TOPIC,
    ) -> None:
        self.collector = collector
        self.sealer = sealer
        self._sink = sink
        self._clock = clock if clock is not None else SystemClock()
        self._topic = topic
        self.sent_batches = 0
        self.sent_entries = 0

    def __repr__(self) -> str:
        return f"BulletinPublisher(region={self.collector.region!r}, sent={self.sent_batches})"

    async def tick(self, *, force: bool = False) -> list[BulletinEntry]:
        """Send the batch now due (if any, and not empty); the entries sent."""
        entries = await self.collector.take(force=force)
        if entries:
            try:
                await self._sink.send(self._topic, record_key(), self.sealer.seal(entries))
            except BaseException:
                self.collector.restore()  # not lost: they go with the next batch
                raise
            self.sent_batches += 1
            self.sent_entries += len(entries)
            log.info("sent a bulletin batch of %d entries", len(entries))
        return entries

    async def run(self, stop: asyncio.Event) -> None:
        """Send batches as they fall due until *stop* is set (then one last due check)."""
        while not stop.is_set():
            wait = max(0.0, self.collector.due_at - self._clock.now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
            try:
                await self.tick()
            except Exception as exc:  # noqa: BLE001  the batch stays queued, tried again at the next tick
                log.error(  # noqa: TRY400  logged by type only: no case text reaches the log
                    "a bulletin batch was not sent (%s); it is tried again", type(exc).__name__
                )


async def publish_group_key(
    sink: RecordSink, release: BulletinGroupKeyRelease, *, topic: str = BULLETINS_TOPIC
) -> None:
    """Put a directory version's group key release on *topic* (the directory signer's
    service does this once per version; nodes pick their copy from it)."""
    key = GROUP_KEY_PREFIX + f"v{release.directory_version}".encode("ascii")
    await sink.send(topic, key, release.model_dump_json().encode("utf-8"))


def _take_group_key(
    value: bytes, reader: BulletinReader, directory: ForumDirectory, node_key: KemPrivateKey
) -> bool:
    """Add this node's copy of the release in *value* to *reader*; whether it opened."""
    try:
        release = BulletinGroupKeyRelease.model_validate_json(value)
        reader.add_group_key(open_bulletin_group_key(release, directory, node_key))
    except (PydanticValidationError, DirectoryError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class BulletinsRead:
    """What one read of ``dief.bulletins`` did at a node."""

    opened: int
    added: int
    retracted: int
    ignored: int
    ends: Mapping[tuple[str, int], int]
    group_keys: int = 0


async def read_bulletins(  # noqa: PLR0913  a public keyword signature, used outside dief/bulletins
    settings: KafkaSettings,
    reader: BulletinReader,
    board: BulletinBoard,
    *,
    start: Mapping[tuple[str, int], int] | None = None,
    time_limit: float = 30.0,
    topic: str = BULLETINS_TOPIC,
    directory: ForumDirectory | None = None,
    node_key: KemPrivateKey | None = None,
) -> BulletinsRead:
    """Read *topic* (from *start*, else the beginning) to its end; apply every batch that
    opens and verifies to *board*; count the rest (never their content). With *directory*
    and *node_key*, the group key releases met on the way give the reader this node's
    copies (a release for another directory version, or without a copy for this node, is
    passed over)."""
    before = reader.total_ignored
    snapshot = await read_to_end(
        settings, [topic], start=start, time_limit=time_limit, client_id="dief-bulletins"
    )
    opened = added = retracted = keys = 0
    for record in snapshot.records:
        if (record.key or b"").startswith(GROUP_KEY_PREFIX):
            if directory is not None and node_key is not None:
                keys += _take_group_key(record.value or b"", reader, directory, node_key)
            continue
        batch = reader.open(record.value or b"")
        if batch is None:
            continue
        opened += 1
        new, gone = board.take(batch)
        added += len(new)
        retracted += len(gone)
    ignored = reader.total_ignored - before
    return BulletinsRead(opened, added, retracted, ignored, snapshot.ends, keys)

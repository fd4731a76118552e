"""The outbox relay: publishes pending entries until the broker acknowledged each one.

Where entries come from:

- the outbox file, oldest first, one batch at a time: at start-up, after any failure, when
  the relay has been idle for ``idle_read`` seconds and at least every ``resync_interval``
  seconds while busy. This is how entries written before a restart, or by another process
  on the same file (``dief post`` while ``dief node`` runs), go out;
- in memory, while :meth:`OutboxRelay.run` runs: every entry committed through the same
  :class:`Outbox` object is handed over as soon as it is durable (:meth:`Outbox.listen`),
  so the relay does not read back what it was just given.

Entries are sent in batches without waiting on one record at a time; the relay waits for
every acknowledgement of a batch (``acks=all``) before it counts the batch as published.
Recording that in the file (``published_at``) is coalesced: one transaction per ``batch``
entries or per ``mark_interval`` seconds, at the end of :meth:`OutboxRelay.drain_once`,
before any read of the file, and on stop. A crash between an acknowledgement and its mark
only publishes those entries once more, as does a retried batch: the aggregator absorbs
duplicates by record id. Nothing is marked that the broker did not acknowledge, and on any
failure the relay waits with capped exponential backoff and starts again from the file: a
broker outage or a node restart loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence

from dief.exceptions import BrokerError, StorageError
from dief.node._outbox import Outbox, PendingEntry
from dief.seams import Backoff, Publisher

__all__ = [
    "OutboxRelay",
]

log = logging.getLogger("dief.node.relay")


class OutboxRelay:
    """Moves entries from an :class:`Outbox` to a :class:`Publisher` (one relay per outbox)."""

    def __init__(
        self,
        outbox: Outbox,
        publisher: Publisher,
        *,
        batch: int = 2000,
        backoff: Backoff | None = None,
        mark_interval: float = 1.0,
        idle_read: float = 1.0,
        resync_interval: float = 10.0,
    ) -> None:
        self._outbox = outbox
        self._publisher = publisher
        self._batch = batch
        self._backoff = backoff or Backoff()
        self._mark_interval = mark_interval
        self._idle_read = idle_read
        self._resync_interval = resync_interval
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()  # one drain at a time
        self._connected = False
        # Entries handed over in memory, in commit order; only trusted while `_synced`
        # (the file was read since the last failure and nothing handed over was dropped).
        self._queue: deque[PendingEntry] = deque()
        self._listening = False
        self._synced = False
        self._dropped = False
        self._last_read = 0.0
        # The highest sequence number sent: a handed-over entry at or below it went out
        # with a read of the file.
        self._high = 0
        # Acknowledged, not yet marked published in the file.
        self._unmarked: list[int] = []
        self._mark_due = 0.0
        self.published = 0
        self.failures = 0

    def __repr__(self) -> str:
        return f"OutboxRelay(outbox={self._outbox!r}, published={self.published})"

    def notify(self) -> None:
        """Tell the relay new entries are waiting (entries added through the outbox it
        relays wake it by themselves)."""
        self._wake.set()

    def _hand_over(self, entries: list[PendingEntry]) -> None:
        if len(self._queue) < 4 * self._batch:
            self._queue.extend(entries)
        else:  # a backlog (a broker outage): the file keeps them, read them from there
            self._dropped = True
            self._synced = False
        self._wake.set()

    async def _connect(self) -> None:
        if not self._connected:
            await self._publisher.connect()
            self._connected = True

    async def drain_once(self) -> int:
        """Publish everything pending now and mark it published; returns how many entries
        were published.

        Raises :class:`BrokerError` on the first failure (nothing is marked published
        that the broker did not acknowledge).
        """
        async with self._lock:
            total = await self._drain()
            await self._flush()
        return total

    async def _drain(self) -> int:
        total = 0
        if not self._synced or time.monotonic() - self._last_read > self._resync_interval:
            total += await self._read_file()
        queue = self._queue
        while queue:
            batch: list[PendingEntry] = []
            while queue and len(batch) < self._batch:
                item = queue.popleft()
                if item.seq > self._high:
                    batch.append(item)
            if batch:
                await self._send(batch)
                total += len(batch)
        return total

    async def _read_file(self) -> int:
        """Publish every pending entry in the file, oldest first, a batch at a time."""
        await self._flush()  # then "pending" in the file is exactly what was not sent
        total = 0
        after = 0
        self._synced = False
        self._dropped = False
        while True:
            page = await self._outbox.pending(self._batch, after=after)
            if page:
                await self._send(page)
                total += len(page)
                after = page[-1].seq
            if len(page) == self._batch:
                continue
            if not self._dropped:
                break
            # Entries handed over meanwhile were dropped (the queue was full): they were
            # committed after the pages read so far, so they come after *after*.
            self._dropped = False
        self._synced = self._listening
        self._last_read = time.monotonic()
        return total

    async def _send(self, entries: Sequence[PendingEntry]) -> None:
        await self._connect()
        await self._publisher.publish([p.entry for p in entries])
        now = time.monotonic()
        if not self._unmarked:
            self._mark_due = now + self._mark_interval
        self._unmarked.extend(p.seq for p in entries)
        self._high = max(self._high, max(p.seq for p in entries))
        self.published += len(entries)
        if len(self._unmarked) >= self._batch or now >= self._mark_due:
            await self._flush()

    async def _flush(self) -> None:
        """Mark what was acknowledged as published (one transaction)."""
        if not self._unmarked:
            return
        seqs, self._unmarked = self._unmarked, []
        try:
            await self._outbox.mark_published(seqs)
        except BaseException:
            self._unmarked = seqs + self._unmarked
            raise

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until *stop* is set, retrying with backoff on broker failures."""
        self._outbox.listen(self._hand_over)
        self._listening = True
        self._synced = False
        stopper = asyncio.ensure_future(stop.wait())
        stopper.add_done_callback(lambda _: self._wake.set())
        attempt = 0
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    async with self._lock:
                        await self._drain()
                        if self._unmarked and time.monotonic() >= self._mark_due:
                            await self._flush()
                    attempt = 0
                except (BrokerError, StorageError) as exc:
                    # The broker is away, or the outbox cannot be read right now (disk
                    # full, locked): nothing is lost either way, so keep trying.
                    await self._failed(exc)
                    delay = self._backoff.delay(attempt)
                    attempt += 1
                    log.warning("publishing failed (%s); retrying in %.1fs", exc.message, delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), delay)
                    continue
                idle = not self._unmarked
                timeout = self._idle_read if idle else self._mark_due - time.monotonic()
                if not await self._sleep(timeout) and idle:
                    self._synced = False  # look in the file for entries written elsewhere
        finally:
            stopper.cancel()
            self._outbox.listen(None)
            self._listening = False
            self._synced = False
            self._queue.clear()
            with contextlib.suppress(StorageError):
                await self._flush()

    async def _sleep(self, seconds: float) -> bool:
        """Wait until woken (True: entries, or stop) or *seconds* passed (False)."""
        wake = self._wake
        if wake.is_set():
            return True
        if seconds <= 0:
            return False
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            wake.set()

        timer = asyncio.get_running_loop().call_later(seconds, expire)
        try:
            await wake.wait()
        finally:
            timer.cancel()
        return not expired

    async def _failed(self, exc: BrokerError | StorageError) -> None:
        self.failures += 1
        self._connected = self._connected and isinstance(exc, StorageError)
        self._synced = False
        self._queue.clear()  # all in the file: the next attempt reads it from there
        with contextlib.suppress(StorageError):  # what was acknowledged before the failure
            await self._flush()

    async def close(self) -> None:
        await self._publisher.close()
        self._connected = False

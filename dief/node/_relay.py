"""The outbox relay: publishes pending entries until the broker acknowledged each one.

Where entries come from:

- the outbox file, oldest first, one batch at a time: at start-up, after any failure, when
  the relay has been idle for ``idle_read`` seconds and at least every ``resync_interval``
  seconds while busy. This is how entries written before a restart, or by another process
  on the same file (``dief post`` while ``dief node`` runs), go out;
- in memory, while :meth:`OutboxRelay.run` runs: every entry committed through the same
  :class:`Outbox` object is handed over as soon as it is durable (:meth:`Outbox.listen`),
  so the relay does not read back what it was just given.

Random delays per pseudonym (DESIGN §11). Arrival times could let an aggregator link records
of different pseudonyms of one node that arrive together, so entries wait, per group (the
opaque per-pseudonym tag :attr:`OutboxEntry.group`), for a delay drawn uniformly in
``[0, max_delay]`` seconds, independently for every group: when an entry finds its group with
nothing waiting, the group draws its release time; entries joining a waiting group go with
it. A group's entries go out in the order they were accepted. An urgent entry (an alert)
releases its group at once, with what waits ahead of it in that group (the exception DESIGN
§11 states). Release times live in memory only: a restarted relay reads the pending entries
from the file and draws again, so a restart loses nothing (at worst an entry waits twice).
Times come from an injectable :class:`Clock`, so tests move time instead of sleeping; with
``max_delay=0`` (simulations, ``dief run``) everything goes out at once, as before.
:meth:`OutboxRelay.drain_once` publishes what is due and leaves the rest in the outbox.

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
import bisect
import contextlib
import heapq
import logging
import math
import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.exceptions import BrokerError, ConfigurationError, StorageError
from dief.seams import Backoff, Clock, Publisher, SystemClock

if TYPE_CHECKING:
    from collections.abc import Sequence

    from dief.node._outbox import Outbox, PendingEntry

__all__ = [
    "OutboxRelay",
]

log = logging.getLogger("dief.node.relay")


def _seq(item: PendingEntry) -> int:
    return item.seq


@dataclass(slots=True)
class _Group:
    """The entries of one group waiting for its release time (in sequence order)."""

    due: float
    entries: list[PendingEntry] = field(default_factory=list)


class _Schedule:
    """Entries held for their group's random delay (see the module docstring)."""

    __slots__ = ("_clock", "_groups", "_held", "_max_delay", "_rng")

    def __init__(self, max_delay: float, clock: Clock, rng: random.Random) -> None:
        self._max_delay = max_delay
        self._clock = clock
        self._rng = rng
        self._groups: dict[str, _Group] = {}
        self._held: set[int] = set()

    def __len__(self) -> int:
        return len(self._held)

    def holds(self, seq: int) -> bool:
        return seq in self._held

    def add(self, item: PendingEntry) -> None:
        now = self._clock.now()
        key = item.entry.group
        group = self._groups.get(key)
        if group is None:
            delay = self._rng.uniform(0.0, self._max_delay) if self._max_delay > 0 else 0.0
            group = self._groups[key] = _Group(now + delay)
        if item.entry.urgent:
            group.due = min(group.due, now)
        bisect.insort(group.entries, item, key=_seq)
        self._held.add(item.seq)

    def due(self, limit: int) -> list[PendingEntry]:
        """Up to *limit* entries of the groups due now, in sequence order (each group's
        oldest first); they stay held until :meth:`sent`."""
        now = self._clock.now()
        ready = [g.entries for g in self._groups.values() if g.due <= now]
        if not ready:
            return []
        merged = heapq.merge(*ready, key=_seq)
        return [item for _, item in zip(range(limit), merged, strict=False)]

    def sent(self, items: Sequence[PendingEntry]) -> None:
        """Forget *items* (published): each is the oldest held of its group."""
        for item in items:
            group = self._groups[item.entry.group]
            group.entries.remove(item)
            self._held.discard(item.seq)
            if not group.entries:
                del self._groups[item.entry.group]

    def next_due(self) -> float | None:
        """The earliest release time of a waiting group (epoch seconds), if any."""
        return min((g.due for g in self._groups.values()), default=None)

    def clear(self) -> None:
        self._groups.clear()
        self._held.clear()


class OutboxRelay:
    """Moves entries from an :class:`Outbox` to a :class:`Publisher` (one relay per outbox).

    *max_delay* is the longest random delay (seconds) of a group's entries (0: none);
    *clock* tells the time the delays are measured on and *rng* draws them (by default the
    system clock and the operating system's randomness).
    """

    def __init__(  # noqa: PLR0913  public constructor, used outside dief/node
        self,
        outbox: Outbox,
        publisher: Publisher,
        *,
        batch: int = 2000,
        backoff: Backoff | None = None,
        mark_interval: float = 1.0,
        idle_read: float = 1.0,
        resync_interval: float = 10.0,
        max_delay: float = 0.0,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not (math.isfinite(max_delay) and max_delay >= 0):
            raise ConfigurationError("the relay's longest delay is a finite number >= 0 seconds")
        self._outbox = outbox
        self._publisher = publisher
        self._batch = batch
        self._backoff = backoff or Backoff()
        self._mark_interval = mark_interval
        self._idle_read = idle_read
        self._resync_interval = resync_interval
        self._clock: Clock = clock if clock is not None else SystemClock()
        # Held for their group's delay; at most 4 batches are read in from the file.
        self._schedule = _Schedule(max_delay, self._clock, rng or random.SystemRandom())
        self._capacity = 4 * batch
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
        # The highest sequence number taken in (held or sent): a handed-over entry at or
        # below it came in with a read of the file.
        self._high = 0
        # Acknowledged, not yet marked published in the file.
        self._unmarked: list[int] = []
        self._mark_due = 0.0
        self.published = 0
        self.failures = 0

    def __repr__(self) -> str:
        return f"OutboxRelay(outbox={self._outbox!r}, published={self.published})"

    def notify(self) -> None:
        """Tell the relay new entries are waiting, or that its clock moved (entries added
        through the outbox it relays wake it by themselves)."""
        self._wake.set()

    @property
    def held(self) -> int:
        """Entries taken in and waiting for their group's delay (or about to be sent)."""
        return len(self._schedule)

    @property
    def next_due(self) -> float | None:
        """When the next waiting group is released (epoch seconds on the relay's clock)."""
        return self._schedule.next_due()

    def _hand_over(self, entries: list[PendingEntry]) -> None:
        if len(self._queue) + len(self._schedule) < self._capacity:
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
        """Publish everything pending that is due now (everything, without delays) and mark it
        published; returns how many entries were published. Entries still waiting for
        their group's delay stay in the outbox (and in this relay, until due).

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
            item = queue.popleft()
            if item.seq > self._high:
                self._take(item)
            if len(self._schedule) >= self._batch:
                total += await self._send_due()
        return total + await self._send_due()

    def _take(self, item: PendingEntry) -> None:
        """Hold *item* for its group's delay."""
        self._schedule.add(item)
        self._high = max(self._high, item.seq)

    async def _send_due(self) -> int:
        """Publish the held entries that are due, a batch at a time."""
        total = 0
        while batch := self._schedule.due(self._batch):
            await self._send(batch)
            self._schedule.sent(batch)
            total += len(batch)
            if len(self._unmarked) >= self._batch or time.monotonic() >= self._mark_due:
                await self._flush()
        return total

    async def _read_file(self) -> int:
        """Take in every pending entry of the file not held yet, oldest first, a batch at a
        time, publishing what is due as it goes; stops (unsynced) once
        :attr:`_capacity` entries are held, to read on when some have gone."""
        await self._flush()  # then "pending" in the file is exactly what was not sent
        total = 0
        after = 0
        self._synced = False
        self._dropped = False
        complete = True
        while True:
            page = await self._outbox.pending(self._batch, after=after)
            for item in page:
                if not self._schedule.holds(item.seq):
                    self._take(item)
            if page:
                after = page[-1].seq
                total += await self._send_due()
            if len(page) == self._batch:
                if len(self._schedule) >= self._capacity:
                    complete = False
                    break
                continue
            if not self._dropped:
                break
            # Entries handed over meanwhile were dropped (the queue was full): they were
            # committed after the pages read so far, so they come after *after*.
            self._dropped = False
        self._synced = self._listening and complete
        self._last_read = time.monotonic()
        return total

    async def _send(self, entries: Sequence[PendingEntry]) -> None:
        """Publish *entries* and note them for marking (raises on a broker failure)."""
        await self._connect()
        await self._publisher.publish([p.entry for p in entries])
        if not self._unmarked:
            self._mark_due = time.monotonic() + self._mark_interval
        self._unmarked.extend(p.seq for p in entries)
        self.published += len(entries)

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
                due = self._schedule.next_due()
                if due is not None and due - self._clock.now() < timeout:
                    timeout = due - self._clock.now()  # a group's delay ends first
                    idle = False
                if not await self._sleep(timeout) and idle:
                    self._synced = False  # look in the file for entries written elsewhere
        finally:
            stopper.cancel()
            self._outbox.listen(None)
            self._listening = False
            self._synced = False
            self._queue.clear()
            self._schedule.clear()  # still pending in the file
            self._high = 0
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

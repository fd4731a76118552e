"""The outbox relay: publishes pending entries until the broker acknowledged each one.

Entries are sent in batches without waiting on one record at a time; a batch is marked
published only when every send in it was acknowledged. On any broker failure the relay
waits with capped exponential backoff and tries again from the outbox: a broker outage or
a node restart loses nothing (a retried batch may publish a record twice; the aggregator
absorbs duplicates by record id).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from dief.exceptions import BrokerError, StorageError
from dief.node._outbox import Outbox, OutboxEntry

__all__ = ["Backoff", "OutboxRelay", "Publisher"]

log = logging.getLogger("dief.node.relay")


class Publisher(Protocol):
    """Publishes sealed records with ``acks=all``; raises :class:`BrokerError` on failure."""

    async def connect(self) -> None: ...

    async def publish(self, entries: Sequence[OutboxEntry]) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with full jitter."""

    initial: float = 0.2
    maximum: float = 30.0
    factor: float = 2.0

    def delay(self, attempt: int) -> float:
        try:
            ceiling = min(self.maximum, self.initial * self.factor**attempt)
        except OverflowError:  # ~1,000 failures in a row (hours of outage) overflow a float
            ceiling = self.maximum
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography


class OutboxRelay:
    """Moves entries from an :class:`Outbox` to a :class:`Publisher`."""

    def __init__(
        self,
        outbox: Outbox,
        publisher: Publisher,
        *,
        batch: int = 2000,
        backoff: Backoff | None = None,
    ) -> None:
        self._outbox = outbox
        self._publisher = publisher
        self._batch = batch
        self._backoff = backoff or Backoff()
        self._wake = asyncio.Event()
        self._connected = False
        self.published = 0
        self.failures = 0

    def __repr__(self) -> str:
        return f"OutboxRelay(outbox={self._outbox!r}, published={self.published})"

    def notify(self) -> None:
        """Tell the relay new entries are waiting."""
        self._wake.set()

    async def _connect(self) -> None:
        if not self._connected:
            await self._publisher.connect()
            self._connected = True

    async def drain_once(self) -> int:
        """Publish everything pending now; returns how many entries were published.

        Raises :class:`BrokerError` on the first failure (nothing is marked published
        that the broker did not acknowledge).
        """
        total = 0
        while True:
            pending = await self._outbox.pending(self._batch)
            if not pending:
                return total
            await self._connect()
            await self._publisher.publish([p.entry for p in pending])
            await self._outbox.mark_published([p.seq for p in pending])
            total += len(pending)
            self.published += len(pending)
            if len(pending) < self._batch:
                return total  # that was everything pending; new entries come with notify()

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until *stop* is set, retrying with backoff on broker failures."""
        attempt = 0
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.drain_once()
                attempt = 0
            except (BrokerError, StorageError) as exc:
                # The broker is away, or the outbox cannot be read right now (disk full,
                # locked): nothing is lost either way, so keep trying.
                self.failures += 1
                self._connected = self._connected and isinstance(exc, StorageError)
                delay = self._backoff.delay(attempt)
                attempt += 1
                log.warning("publishing failed (%s); retrying in %.1fs", exc.message, delay)
                await _wait_any(stop, None, delay)
                continue
            await _wait_any(stop, self._wake, 1.0)

    async def close(self) -> None:
        await self._publisher.close()
        self._connected = False


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event | None, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()

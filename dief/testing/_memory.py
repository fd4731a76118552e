"""The record seams in memory: :class:`MemoryRecordSink`, :class:`MemoryDeadLetterSink`,
:class:`MemoryReceiptSink` and :class:`MemoryPublisher`, each keeping what it accepted, in
order, in ``.sent``, and failing on demand through its ``.faults``
(:class:`~dief.testing.Faults`)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, NamedTuple

from dief.testing._faults import Faults

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from dief.seams import (
        DeadLetter,
        DeadLetterSink,
        OutboxEntry,
        Publisher,
        ReceiptRecord,
        ReceiptSink,
        RecordSink,
    )

#: How long the ``wait_*`` methods of :class:`MemoryPublisher` wait, unless told (seconds).
DEFAULT_WAIT = 30.0


class SentRecord(NamedTuple):
    """One record a :class:`MemoryRecordSink` accepted (unpacks as ``topic, key, value``)."""

    topic: str
    key: bytes
    value: bytes


class MemoryRecordSink:
    """A :class:`dief.seams.RecordSink` keeping every record it accepted in :attr:`sent`."""

    __slots__ = ("faults", "sent")

    def __init__(self) -> None:
        #: The records accepted, in order (a test may clear it).
        self.sent: list[SentRecord] = []
        #: Failure injection for :meth:`send`.
        self.faults = Faults()

    def __repr__(self) -> str:
        return f"MemoryRecordSink(sent={len(self.sent)}, faults={self.faults!r})"

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        self.faults.check(f"publishing to {topic}")
        self.sent.append(SentRecord(topic, key, value))

    def on(self, topic: str) -> list[SentRecord]:
        """The records accepted for *topic*, in order."""
        return [record for record in self.sent if record.topic == topic]


class MemoryDeadLetterSink:
    """A :class:`dief.seams.DeadLetterSink` (one DLQ topic) keeping the letters it accepted
    in :attr:`sent`; a failed :meth:`send` keeps none of its letters."""

    __slots__ = ("faults", "sent")

    def __init__(self) -> None:
        #: The dead letters accepted, in order.
        self.sent: list[DeadLetter] = []
        #: Failure injection for :meth:`send`.
        self.faults = Faults()

    def __repr__(self) -> str:
        return f"MemoryDeadLetterSink(sent={len(self.sent)}, faults={self.faults!r})"

    async def send(self, letters: Sequence[DeadLetter]) -> None:
        self.faults.check("dead-lettering")
        self.sent.extend(letters)

    def reasons(self) -> list[str]:
        """The reason of every letter accepted, in order."""
        return [letter.reason for letter in self.sent]


class MemoryReceiptSink:
    """A :class:`dief.seams.ReceiptSink` keeping the receipts it accepted in :attr:`sent`;
    a failed :meth:`send` keeps none of them."""

    __slots__ = ("faults", "sent")

    def __init__(self) -> None:
        #: The receipts accepted, in order.
        self.sent: list[ReceiptRecord] = []
        #: Failure injection for :meth:`send`.
        self.faults = Faults()

    def __repr__(self) -> str:
        return f"MemoryReceiptSink(sent={len(self.sent)}, faults={self.faults!r})"

    async def send(self, receipts: Sequence[ReceiptRecord]) -> None:
        self.faults.check(f"sending {len(receipts)} receipts")
        self.sent.extend(receipts)


class MemoryPublisher:
    """A :class:`dief.seams.Publisher` that acknowledges in memory, or a spy on a real one.

    Without *inner*, a batch is acknowledged one turn of the event loop after ``publish``
    (as a broker's acknowledgement comes after the send); with *inner*, every call goes to
    it and its outcome is recorded. What a test can see:

    - :attr:`sent`: every entry acknowledged (by *inner*, if any), in order;
    - :attr:`calls`, :attr:`batches`, :attr:`failures`: ``publish`` calls made, batches
      acknowledged, and ``connect``/``publish`` calls that raised (injected or from *inner*);
    - :attr:`held`: ``publish`` calls acknowledged but not returned yet (see :meth:`hold`).

    What it can do: :attr:`faults` fails ``publish`` calls before they reach *inner*;
    :meth:`hold` keeps acknowledged batches from returning to the caller (a slow broker, or
    a node that dies between the acknowledgement and its mark) until :meth:`release`;
    :meth:`hold_after` holds once so many batches are acknowledged. ``wait_*`` wait for
    progress, raising :class:`TimeoutError` after *time_limit* seconds.
    """

    def __init__(self, inner: Publisher | None = None) -> None:
        self._inner = inner
        #: Every entry acknowledged, in order.
        self.sent: list[OutboxEntry] = []
        #: Failure injection for :meth:`publish`.
        self.faults = Faults()
        self.calls = 0
        self.batches = 0
        self.failures = 0
        self.held = 0
        self._hold_at: int | None = None
        self._released = asyncio.Event()
        self._released.set()
        self._changed = asyncio.Event()

    def __repr__(self) -> str:
        inner = f"{self._inner!r}, " if self._inner is not None else ""
        return (
            f"MemoryPublisher({inner}sent={len(self.sent)}, batches={self.batches}, "
            f"failures={self.failures}, held={self.held})"
        )

    # -- the Publisher seam ---------------------------------------------------------------

    async def connect(self) -> None:
        if self._inner is None:
            return
        try:
            await self._inner.connect()
        except Exception:
            self._failed()
            raise

    async def publish(self, entries: Sequence[OutboxEntry]) -> None:
        self.calls += 1
        self._changed.set()
        try:
            self.faults.check(f"publishing {len(entries)} records")
            if self._inner is not None:
                await self._inner.publish(entries)
            else:
                await asyncio.sleep(0)
        except Exception:
            self._failed()
            raise
        self.sent.extend(entries)
        self.batches += 1
        if self._hold_at is not None and self.batches >= self._hold_at:
            self._hold_at = None
            self.hold()
        self._changed.set()
        if not self._released.is_set():
            self.held += 1
            self._changed.set()
            try:
                await self._released.wait()
            finally:
                self.held -= 1

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()

    # -- control --------------------------------------------------------------------------

    def hold(self) -> None:
        """From now on, acknowledged batches wait in ``publish`` until :meth:`release`."""
        self._released.clear()

    def hold_after(self, batches: int) -> None:
        """:meth:`hold` once *batches* batches in all are acknowledged (that one included)."""
        self._hold_at = batches

    def release(self) -> None:
        """Let held and later acknowledgements return to the caller."""
        self._hold_at = None
        self._released.set()

    # -- waiting --------------------------------------------------------------------------

    async def wait_sent(self, count: int, *, time_limit: float = DEFAULT_WAIT) -> None:
        """Until at least *count* entries are acknowledged."""
        await self._wait(lambda: len(self.sent) >= count, f"{count} entries sent", time_limit)

    async def wait_batches(self, count: int, *, time_limit: float = DEFAULT_WAIT) -> None:
        """Until at least *count* batches are acknowledged."""
        await self._wait(lambda: self.batches >= count, f"{count} batches", time_limit)

    async def wait_failures(self, count: int, *, time_limit: float = DEFAULT_WAIT) -> None:
        """Until at least *count* ``connect``/``publish`` calls have raised."""
        await self._wait(lambda: self.failures >= count, f"{count} failures", time_limit)

    async def wait_held(self, *, time_limit: float = DEFAULT_WAIT) -> None:
        """Until a ``publish`` call is held (see :meth:`hold`)."""
        await self._wait(lambda: self.held > 0, "a held batch", time_limit)

    def _failed(self) -> None:
        self.failures += 1
        self._changed.set()

    async def _wait(self, done: Callable[[], bool], what: str, time_limit: float) -> None:
        try:
            async with asyncio.timeout(time_limit):
                while not done():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise TimeoutError(f"{what} not reached within {time_limit:g} s: {self!r}") from None


if TYPE_CHECKING:  # mypy checks that each fake implements its seam
    _SEAMS: tuple[type[RecordSink], type[DeadLetterSink], type[ReceiptSink], type[Publisher]] = (
        MemoryRecordSink,
        MemoryDeadLetterSink,
        MemoryReceiptSink,
        MemoryPublisher,
    )

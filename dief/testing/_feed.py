"""A topic in memory for the :class:`dief.seams.RecordFeed` seam: :class:`MemoryRecordFeed`."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from dief.exceptions import BrokerError
from dief.seams import InboundRecord, RecordFeed
from dief.testing._faults import Faults

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["MemoryRecordFeed"]


class MemoryRecordFeed:
    """A :class:`dief.seams.RecordFeed` over records a test appends (:meth:`append`), on
    *partitions* partitions of *topic*. ``fetch`` returns at most *batch* records, waiting
    (up to its *wait*) only when there are none; :attr:`faults` fails ``start`` and
    ``fetch``; :attr:`starts` counts the starts and :attr:`positions` keeps the positions of
    the last one."""

    def __init__(
        self, topic: str = "dief.receipts", *, partitions: int = 1, batch: int = 100
    ) -> None:
        self.topic = topic
        self.log: dict[int, list[InboundRecord]] = {p: [] for p in range(partitions)}
        self.faults = Faults()
        self.starts = 0
        self.positions: dict[int, int] = {}
        self._batch = batch
        self._cursor: dict[int, int] | None = None
        self._appended = asyncio.Event()

    def __repr__(self) -> str:
        sizes = {p: len(records) for p, records in self.log.items()}
        return f"MemoryRecordFeed(topic={self.topic!r}, records={sizes}, faults={self.faults!r})"

    def append(self, key: bytes | None, value: bytes | None, *, partition: int = 0) -> int:
        """Add a record at the end of *partition*; returns its offset."""
        records = self.log[partition]
        records.append(InboundRecord(self.topic, partition, len(records), key, value))
        self._appended.set()
        return len(records) - 1

    async def start(self, positions: Mapping[int, int]) -> None:
        if self._cursor is not None:
            return
        self.faults.check(f"reading {self.topic}")
        self.starts += 1
        self.positions = dict(positions)
        self._cursor = {p: positions.get(p, 0) for p in self.log}

    async def fetch(self, wait: float) -> list[InboundRecord]:
        cursor = self._require()
        self.faults.check(f"reading {self.topic}")
        if await self.caught_up():
            self._appended.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._appended.wait(), wait)
        out: list[InboundRecord] = []
        for partition, records in self.log.items():
            taken = records[cursor[partition] : cursor[partition] + self._batch - len(out)]
            cursor[partition] += len(taken)
            out.extend(taken)
        return out

    async def caught_up(self) -> bool:
        cursor = self._require()
        return all(cursor[p] >= len(records) for p, records in self.log.items())

    async def close(self) -> None:
        self._cursor = None

    def _require(self) -> dict[int, int]:
        if self._cursor is None:
            raise BrokerError(f"the feed of {self.topic} is not started")
        return self._cursor


if TYPE_CHECKING:  # mypy checks that the fake implements its seam
    _SEAM: type[RecordFeed] = MemoryRecordFeed

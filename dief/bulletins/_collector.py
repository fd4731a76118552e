"""The aggregator side: collecting applied alerts into batches (DESIGN §13 ⚑).

:class:`BulletinCollector` is told of every record the aggregator applied
(:meth:`~BulletinCollector.offer`). An eligible revision queues a bulletin under a fresh
random id; a later revision or a withdrawal of a case whose bulletin went out queues a
retraction of that id (and the new revision's bulletin, if it is still eligible). The ids
sent are remembered by case in a :class:`BulletinMemory`, which stays at the aggregator.

Batches fall due every *interval* seconds plus a uniform jitter (10 to 15 minutes by default,
:data:`DEFAULT_INTERVAL`, :data:`DEFAULT_JITTER`) on the injectable clock.
:meth:`~BulletinCollector.take` hands over what is due: retractions always, and each
bulletin the :class:`~dief.seams.BulletinRelease` rule lets out; a bulletin held back stays
queued for the next batch.

With a :class:`~dief.bulletins.BulletinLedger` (the aggregator service's is its database),
every bulletin handed over is kept there before the next one is asked about (so the audit
counts it at once), each retraction marks its bulletin there before any bulletin of the
batch is asked about, and :meth:`~BulletinCollector.recall` fills the case → id memory from
it at start: after a restart a revised case's bulletin is still retracted.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from dief.bulletins._generalise import eligible, generalise, new_bulletin_id, retraction
from dief.exceptions import ConfigurationError
from dief.seams import BulletinRelease, Clock, SystemClock

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from dief.bulletins._ledger import BulletinLedger
    from dief.wire import BulletinEntry, CaseRecord

__all__ = [
    "DEFAULT_INTERVAL",
    "DEFAULT_JITTER",
    "BulletinCollector",
    "BulletinMemory",
    "FileBulletinMemory",
    "MemoryBulletinMemory",
]

#: Seconds between two batches, before jitter (10 minutes).
DEFAULT_INTERVAL = 600.0
#: Largest random addition to :data:`DEFAULT_INTERVAL` (up to 15 minutes in all).
DEFAULT_JITTER = 300.0


class BulletinMemory(Protocol):
    """Which bulletin id went out for which case (kept at the aggregator only)."""

    def get(self, case_id: str) -> str | None: ...

    def put(self, case_id: str, bulletin_id: str | None) -> None: ...


class MemoryBulletinMemory:
    """A :class:`BulletinMemory` in memory (tests, and a service that may forget on restart)."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"MemoryBulletinMemory({len(self._ids)} bulletins)"

    def get(self, case_id: str) -> str | None:
        return self._ids.get(case_id)

    def put(self, case_id: str, bulletin_id: str | None) -> None:
        if bulletin_id is None:
            self._ids.pop(case_id, None)
        else:
            self._ids[case_id] = bulletin_id


class FileBulletinMemory(MemoryBulletinMemory):
    """A :class:`BulletinMemory` kept in a JSON file beside the aggregator's state."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path
        self._loaded = False

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            if self._path.is_file():
                self._ids.update(json.loads(self._path.read_text("utf-8")))

    def get(self, case_id: str) -> str | None:
        self._load()
        return super().get(case_id)

    def put(self, case_id: str, bulletin_id: str | None) -> None:
        self._load()
        super().put(case_id, bulletin_id)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._ids, sort_keys=True), "utf-8")
        tmp.replace(self._path)


@dataclass(frozen=True, slots=True)
class _Queued:
    entry: BulletinEntry
    case_id: str
    cycle: str
    revision: int = 0


class BulletinCollector:
    """Queues one region's bulletins and retractions; hands them over when a batch is due."""

    def __init__(  # noqa: PLR0913  a public keyword signature, used outside dief/bulletins
        self,
        region: str,
        *,
        release: BulletinRelease | None = None,
        any_case: bool = False,
        interval: float = DEFAULT_INTERVAL,
        jitter: float = DEFAULT_JITTER,
        clock: Clock | None = None,
        memory: BulletinMemory | None = None,
        rng: random.Random | None = None,
        ledger: BulletinLedger | None = None,
    ) -> None:
        if interval < 0 or jitter < 0:
            raise ConfigurationError("the bulletin interval and jitter must not be negative")
        self.region = region
        self._release = release
        self._any_case = any_case
        self._interval = interval
        self._jitter = jitter
        self._clock = clock if clock is not None else SystemClock()
        self._memory = memory if memory is not None else MemoryBulletinMemory()
        self._rng = rng if rng is not None else random.SystemRandom()
        self._ledger = ledger
        self._queue: list[_Queued] = []
        self._taken: list[_Queued] = []
        self._due_at: float | None = None

    def __repr__(self) -> str:
        return f"BulletinCollector(region={self.region!r}, queued={len(self._queue)})"

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def due_at(self) -> float:
        """When the next batch falls due (epoch seconds)."""
        if self._due_at is None:
            self._due_at = self._next()
        return self._due_at

    def _next(self) -> float:
        return self._clock.now() + self._interval + self._rng.uniform(0.0, self._jitter)

    def due(self) -> bool:
        return self._clock.now() >= self.due_at

    def offer(self, record: CaseRecord) -> None:
        """Note a revision the aggregator applied (not a duplicate or a stale one)."""
        case_id = record.case_id
        # a bulletin of this case still queued never went out: drop it, nothing to retract
        self._queue = [
            q for q in self._queue if not (q.case_id == case_id and q.entry.action == "publish")
        ]
        sent = self._memory.get(case_id)
        if sent is not None:
            self._queue.append(_Queued(retraction(sent), case_id, record.cycle))
            self._memory.put(case_id, None)
        if eligible(record, any_case=self._any_case):
            entry = generalise(record, new_bulletin_id())
            self._queue.append(_Queued(entry, case_id, record.cycle, record.revision))

    async def recall(self, current: Mapping[str, tuple[int, str]] | None = None) -> int:
        """Fill the case → bulletin id memory from the ledger (at start); how many.

        *current* (case id → its stored revision and status): a kept bulletin whose case
        was revised or withdrawn since it went out (while the service was down, or before a
        queued retraction was sent) is retracted with the next batch instead."""
        if self._ledger is None:
            return 0
        kept = await self._ledger.released(self.region)
        for bulletin in kept:
            now = (current or {}).get(bulletin.case_id)
            if now is not None and (now[0] > bulletin.revision or now[1] != "active"):
                self._queue.append(_Queued(retraction(bulletin.bulletin_id), bulletin.case_id, ""))
            else:
                self._memory.put(bulletin.case_id, bulletin.bulletin_id)
        return len(kept)

    async def take(self, *, force: bool = False) -> list[BulletinEntry]:
        """The entries of the batch now due (none before it is, unless *force*); the next
        batch is scheduled. Retractions always go; a bulletin goes when the release rule
        lets it, else it waits for the next batch. If sending the batch fails, the caller
        puts it back with :meth:`restore`."""
        if not force and not self.due():
            return []
        self._due_at = self._next()
        if self._ledger is not None:  # retracted first: no longer a case the audit counts
            for queued in self._queue:
                if queued.entry.action == "retract":
                    await self._ledger.retract(queued.entry.bulletin_id)
        taken: list[_Queued] = []
        kept: list[_Queued] = []
        for queued in self._queue:
            entry = queued.entry
            if entry.action == "publish" and not await self._may_release(queued):
                kept.append(queued)
                continue
            if entry.action == "publish":
                self._memory.put(queued.case_id, entry.bulletin_id)
                await self._keep(queued)
            taken.append(queued)
        self._queue = kept
        self._taken = taken
        return [q.entry for q in taken]

    def restore(self) -> int:
        """Put the entries of the last batch taken back at the head of the queue (sending
        it failed: they go with the next batch, in the same order); how many."""
        taken, self._taken = self._taken, []
        self._queue = taken + self._queue
        return len(taken)

    async def _keep(self, queued: _Queued) -> None:
        if self._ledger is None:
            return
        facts = queued.entry.model_dump_json(exclude={"lesson"})  # free text stays sealed
        await self._ledger.keep(
            bulletin_id=queued.entry.bulletin_id,
            region=self.region,
            case_id=queued.case_id,
            revision=queued.revision,
            cycle=queued.cycle,
            facts=facts,
        )

    async def _may_release(self, queued: _Queued) -> bool:
        if self._release is None:
            return True
        facts = queued.entry.model_dump(mode="json")
        return await self._release.may_release(self.region, queued.cycle, facts)

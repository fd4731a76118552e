"""The producing side of the pipeline benchmark: simulated national nodes, as in ``dief run``.

One :class:`NationalNode` per ``submitted_by``, with the node secret and the wallet of real
contributor tokens its simulated node holds in the benchmark's :class:`bench._common.Forum`
(sealing to the region keys of the signed directory), its own :class:`Outbox`, one
:class:`OutboxRelay` per node running as ``dief node`` runs it (handed each submit's entries
by the outbox), and one shared :class:`NodePublisher`. Every step is timed in place (busy
seconds).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import starmap
from typing import TYPE_CHECKING, Any

from dief.kafka import NodePublisher
from dief.node import Accepted, NationalNode, NodeIdentity, Outbox, OutboxRelay, PendingEntry
from dief.periods import DEFAULT_CYCLE_START_MONTH
from dief.settings import KafkaSettings
from dief.vocab import Region
from dief.wire import CaseInput, CaseValidationError, parse_case

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import date
    from pathlib import Path

    from bench._common import Forum
    from dief.exceptions import ValidationError
    from dief.seams import OutboxEntry

__all__ = ["InputLine", "NodeFleet", "NodeTimes"]


@dataclass(frozen=True, slots=True)
class InputLine:
    """One JSON Lines input line and the simulated node that posts it."""

    line: int
    state: str
    raw: bytes


@dataclass(slots=True)
class NodeTimes:
    validate: float = 0.0  # JSON decode + CaseInput validation
    submit: float = 0.0  # NationalNode.submit: screen, generalise, seal, outbox write
    outbox_add: float = 0.0  # of which: the outbox transaction
    publish: float = 0.0  # NodePublisher.publish (send + every acknowledgement)
    outbox_read: float = 0.0  # relay: pending()
    outbox_mark: float = 0.0  # relay: mark_published()
    cases: int = 0
    accepted: int = 0
    rejected: int = 0
    records: int = 0
    published: int = 0
    first_publish: float | None = None
    last_ack: float = 0.0
    reasons: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def to_json(self) -> dict[str, object]:
        return {
            # Wall time inside each step, summed over the nodes (they run concurrently, so
            # these add up to more than the run): for proportions only.
            "step_seconds_summed_over_nodes": {
                "validate": round(self.validate, 3),
                "screen_generalise_seal": round(self.submit - self.outbox_add, 3),
                "outbox_write": round(self.outbox_add, 3),
                "relay_outbox_read": round(self.outbox_read, 3),
                "relay_publish": round(self.publish, 3),
                "relay_outbox_mark": round(self.outbox_mark, 3),
            },
            "cases": self.cases,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "rejected_reasons": dict(self.reasons),
            "records": self.records,
            "published": self.published,
        }


class _TimedOutbox(Outbox):
    def __init__(self, path: Path, times: NodeTimes) -> None:
        super().__init__(path)
        self._times = times

    async def add(self, *args: Any, **kwargs: Any) -> list[PendingEntry]:  # noqa: ANN401  forwards to Outbox.add as it is, timing it
        t0 = time.perf_counter()
        try:
            return await super().add(*args, **kwargs)
        finally:
            self._times.outbox_add += time.perf_counter() - t0

    async def pending(self, limit: int, *, after: int = 0) -> list[PendingEntry]:
        t0 = time.perf_counter()
        try:
            return await super().pending(limit, after=after)
        finally:
            self._times.outbox_read += time.perf_counter() - t0

    async def mark_published(self, seqs: Sequence[int]) -> None:
        t0 = time.perf_counter()
        try:
            await super().mark_published(seqs)
        finally:
            self._times.outbox_mark += time.perf_counter() - t0


class _TimedPublisher(NodePublisher):
    def __init__(self, settings: KafkaSettings, times: NodeTimes) -> None:
        super().__init__(settings, client_id="dief-node")
        self._times = times

    async def publish(self, entries: Sequence[OutboxEntry]) -> None:
        t0 = time.perf_counter()
        if self._times.first_publish is None:
            self._times.first_publish = time.monotonic()
        await super().publish(entries)
        self._times.publish += time.perf_counter() - t0
        self._times.published += len(entries)
        self._times.last_ack = time.monotonic()


class NodeFleet:
    """Simulated national nodes, one per State, sharing one publisher."""

    def __init__(
        self,
        work: Path,
        forum: Forum,
        bootstrap: str | KafkaSettings,
        *,
        catalogue_version: str,
        today: date,
    ) -> None:
        self._work = work
        self._forum = forum
        self._settings = (
            bootstrap
            if isinstance(bootstrap, KafkaSettings)
            else KafkaSettings(bootstrap=bootstrap, embedded=True)
        )
        self._catalogue_version = catalogue_version
        self._today = today
        self.times = NodeTimes()
        self._publisher = _TimedPublisher(self._settings, self.times)
        self._nodes: dict[str, tuple[NationalNode, OutboxRelay]] = {}
        self._outboxes: list[Outbox] = []
        self._stop = asyncio.Event()
        self._relay_tasks: list[asyncio.Task[None]] = []
        self._keys = {r: forum.sealing_keys(r) for r in Region}
        #: called with each submit's accepted cases before the relay is woken
        self.on_accepted: Callable[[Sequence[Accepted]], None] | None = None

    async def start(self, states: Sequence[str]) -> None:
        await self._publisher.connect()
        for state in sorted(set(states)):
            await self._node(state)

    async def _node(self, state: str) -> tuple[NationalNode, OutboxRelay]:
        found = self._nodes.get(state)
        if found is not None:
            return found
        index = len(self._nodes)  # outbox files are named by an opaque index, not the State
        outbox = _TimedOutbox(self._work / "nodes" / f"node-{index:03d}.sqlite", self.times)
        await outbox.start()
        self._outboxes.append(outbox)
        simulated = self._forum.node(state)  # its secret and its tokens, as dief run's
        node = NationalNode.for_regions(
            NodeIdentity(simulated.secret),
            outbox,
            self._keys,
            credentials=simulated.wallet,
            start_month=DEFAULT_CYCLE_START_MONTH,
            catalogue_version=self._catalogue_version,
        )
        relay = OutboxRelay(outbox, self._publisher)
        self._relay_tasks.append(asyncio.ensure_future(relay.run(self._stop)))
        self._nodes[state] = (node, relay)
        return node, relay

    async def submit(self, lines: Sequence[InputLine]) -> None:
        """Post *lines*: each State's node submits its share, all nodes at once (they are
        independent machines in reality), and wakes its relay."""
        by_state: dict[str, list[InputLine]] = defaultdict(list)
        for item in lines:
            by_state[item.state].append(item)
        await asyncio.gather(*starmap(self._submit, by_state.items()))

    async def _submit(self, state: str, items: list[InputLine]) -> None:
        t0 = time.perf_counter()
        parsed: list[tuple[int, CaseInput | ValidationError]] = []
        for item in items:
            try:
                case = parse_case(json.loads(item.raw), line=item.line, today=self._today)
                parsed.append((item.line, case))
            except CaseValidationError as err:
                parsed.append((item.line, err))
        t1 = time.perf_counter()
        node, relay = await self._node(state)
        report = await node.submit(parsed)
        t2 = time.perf_counter()
        self.times.validate += t1 - t0
        self.times.submit += t2 - t1
        self.times.cases += len(items)
        self.times.accepted += len(report.accepted)
        self.times.rejected += len(report.rejected)
        self.times.records += report.records
        for r in report.rejected:
            self.times.reasons[r.reason] += 1
        if self.on_accepted is not None:
            self.on_accepted(report.accepted)
        relay.notify()

    async def wait_published(self, time_limit: float) -> float:
        """Wait until every accepted record was acknowledged; the time of the last ack."""
        deadline = time.monotonic() + time_limit
        while self.times.published < self.times.records:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"only {self.times.published} of {self.times.records} records published"
                )
            await asyncio.sleep(0.01)
        return self.times.last_ack

    def reset_times(self) -> None:
        self.times.__init__()  # type: ignore[misc]  # noqa: PLC2801  reset in place: the outbox and publisher wrappers hold this object

    def outbox_paths(self) -> list[Path]:
        return sorted((self._work / "nodes").glob("node-*.sqlite"))

    async def close(self) -> None:
        self._stop.set()
        for task in self._relay_tasks:
            try:
                await asyncio.wait_for(task, 10)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        await self._publisher.close()
        for box in self._outboxes:
            await box.stop()

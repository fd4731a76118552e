"""``dief run``: the whole pipeline in one process, on the embedded broker or a given one.

Cases from a JSON Lines file are posted by simulated national nodes (one per
``submitted_by``, each with its own node secret and outbox), published to the regions'
topics, applied by the regional aggregators, and the outputs are written once every
accepted case has been applied or dead-lettered (DESIGN §9). Then every region issues its
sealed, signed digests on ``dief.digests``; an in-process Secretariat verifies them and
publishes a signed summary per cycle on ``csp.reporting``, which the run writes out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol, TypedDict

from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from pydantic import SecretStr

from dief.aggregator import BatchReport, RegionAggregator
from dief.aggregator.store import CaseStore, sqlite_url
from dief.broker import EmbeddedBroker
from dief.broker._process import is_embedded_broker
from dief.catalogue import load_catalogue
from dief.crypto.envelope import Opener
from dief.digests import SummaryCollector, issue_every_digest, load_lessons
from dief.exceptions import ConfigurationError, DiefError, ValidationError
from dief.kafka import (
    KafkaDeadLetterSink,
    KafkaRecordSink,
    NodePublisher,
    dief_topics,
    ensure_topics,
    make_broker,
)
from dief.keyring import Keyring, KeyRole
from dief.node import (
    NationalNode,
    NodeIdentity,
    Outbox,
    OutboxRelay,
    Rejection,
    write_rejections,
)
from dief.render import write_outputs
from dief.secretariat import SecretariatStore
from dief.settings import KafkaSettings
from dief.vocab import Region
from dief.wire import CaseInput, CaseValidationError, load_cases

__all__ = [
    "NullProgress",
    "PipelineError",
    "Progress",
    "RunOptions",
    "RunResult",
    "RunSummary",
    "run_pipeline",
]

log = logging.getLogger("dief.run")


class PipelineError(DiefError):
    """The pipeline could not complete (the reason says which step and why)."""

    code = "pipeline"


class Progress(Protocol):
    """Progress callbacks; the CLI renders them as bars."""

    def start(self, task: str, total: int) -> None:
        """A step with *total* units starts."""

    def advance(self, task: str, done: int) -> None:
        """*done* units of *task* are complete (absolute, not a delta)."""

    def finish(self, task: str) -> None:
        """*task* is complete."""


class NullProgress:
    """Reports nothing."""

    def start(self, task: str, total: int) -> None:
        pass

    def advance(self, task: str, done: int) -> None:
        pass

    def finish(self, task: str) -> None:
        pass


@dataclass(frozen=True, slots=True)
class RunOptions:
    input: Path
    out: Path
    work_dir: Path
    bootstrap: str | None = None
    database_url: str | None = None
    broker_bin: Path | None = None
    k_meeting: int = 2
    k_csp: int = 3
    start_month: int = 9
    timeout: float = 600.0
    today: date | None = None
    #: An existing forum keyring (``dief keys init``) instead of a throw-away one.
    keys: Path | None = None
    passphrase: SecretStr | None = field(default=None, repr=False)


class RunSummary(TypedDict):
    """:meth:`RunResult.to_json`: the counts and step timings (seconds) of a run."""

    read: int
    accepted: int
    rejected: int
    published: int
    applied: int
    dead_lettered: int
    timings: dict[str, float]


@dataclass(slots=True)
class RunResult:
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    published: int = 0
    applied: int = 0
    dead_lettered: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)

    def to_json(self) -> RunSummary:
        return {
            "read": self.read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "published": self.published,
            "applied": self.applied,
            "dead_lettered": self.dead_lettered,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


@contextlib.contextmanager
def _timed(result: RunResult, name: str) -> Iterator[None]:
    """Record how long the block took in ``result.timings[name]`` (also when it raises)."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        result.timings[name] = time.perf_counter() - t0


class _Applied:
    """Counts records the aggregators finished with (applied or dead-lettered), and wakes
    the waiter when the expected number is reached."""

    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()
        self.expected: int | None = None
        self.done = asyncio.Event()
        self.changed = asyncio.Event()

    @property
    def finished(self) -> int:
        return sum(n for k, n in self.outcomes.items() if k != "duplicate")

    def __call__(self, _region: Region, report: BatchReport) -> None:
        self.outcomes.update(report.outcomes)
        self.changed.set()
        if self.expected is not None and self.finished >= self.expected:
            self.done.set()


def _read_input(
    options: RunOptions, result: RunResult
) -> tuple[dict[str, list[tuple[int, CaseInput | ValidationError]]], list[Rejection]]:
    by_state: dict[str, list[tuple[int, CaseInput | ValidationError]]] = defaultdict(list)
    rejected: list[Rejection] = []
    for line, item in load_cases(options.input, today=options.today, fmt="jsonl"):
        result.read += 1
        if isinstance(item, ValidationError):
            cid = item.case_id if isinstance(item, CaseValidationError) else None
            rejected.append(Rejection(line, cid, item.code, item.message))
        elif not item.submitted_by:
            rejected.append(
                Rejection(
                    line,
                    str(item.case_id) if item.case_id else None,
                    "missing_submitted_by",
                    "submitted_by: required in batch input (it names the simulated node "
                    "that posts the case; it never leaves that node)",
                )
            )
        else:
            by_state[item.submitted_by].append((line, item))
    return by_state, rejected


async def run_pipeline(options: RunOptions, progress: Progress | None = None) -> RunResult:
    """Run the pipeline on *options.input*; raises :class:`PipelineError` if it cannot
    complete. Outputs are written under *options.out*."""
    progress = progress or NullProgress()
    result = RunResult()
    t_start = time.perf_counter()
    if not options.input.is_file():
        raise ConfigurationError(f"input file {options.input} does not exist")
    work = options.work_dir / "run"
    if work.exists():
        shutil.rmtree(work)
    (work / "nodes").mkdir(parents=True)

    with _timed(result, "read"):
        by_state, rejected = _read_input(options, result)
    catalogue = load_catalogue()

    with _timed(result, "keys"):
        if options.keys is not None:
            # An existing forum keyring: the digests' lessons stay readable afterwards
            # (`dief digest --keys`), and summaries verify against known keys.
            if options.passphrase is None:
                raise ConfigurationError(f"the keyring {options.keys} needs its passphrase")
            ring = Keyring.load(options.keys, passphrase=options.passphrase.get_secret_value())
        else:
            # A throw-away forum for this run; its passphrase is never stored.
            ring = Keyring.init_forum(work / "keys", secrets.token_urlsafe(24))
        sealers_keys = {r: ring.sealing_keys(KeyRole.REGION, r.value) for r in Region}
        opening = {r: ring.opening_keys(KeyRole.REGION, r.value) for r in Region}

    embedded: EmbeddedBroker | None = None
    on_embedded = False
    store: CaseStore | None = None
    secretariat_store: SecretariatStore | None = None
    consumers: list[KafkaBroker] = []
    consumer_started: asyncio.Future[list[None]] | None = None
    publisher: NodePublisher | None = None
    outboxes: list[Outbox] = []
    try:
        with _timed(result, "broker"):
            if options.bootstrap is None:
                embedded = EmbeddedBroker(binary=options.broker_bin, log_path=work / "broker.log")
                await embedded.start()
                bootstrap = embedded.bootstrap
            else:
                bootstrap = options.bootstrap
                await ensure_topics(bootstrap, dief_topics())
                # An embedded broker started elsewhere (`dief broker`) has no idempotent
                # producers either: its clients need the embedded profile too.
                on_embedded = await is_embedded_broker(bootstrap)
        kafka = KafkaSettings(bootstrap=bootstrap, embedded=embedded is not None or on_embedded)

        with _timed(result, "store"):
            url = options.database_url or sqlite_url(work / "aggregator.sqlite")
            store = CaseStore(url)
            await store.start()

        applied = _Applied()
        with _timed(result, "aggregators_start"):
            from consumers.aggregator import register_aggregators

            # One client per region, as the regional services run in production; their
            # group joins (seconds on the embedded broker) run in parallel, while the
            # nodes work.
            for r in Region:
                client = make_broker(kafka, client_id="dief-aggregator")
                aggregator = RegionAggregator(
                    r, Opener(opening[r]), store, KafkaDeadLetterSink(client, r)
                )
                register_aggregators(
                    client, {r: aggregator}, embedded=kafka.embedded, on_report=applied
                )
                consumers.append(client)
            # The Secretariat, joining its group in parallel with the aggregators.
            from consumers.secretariat import register_secretariat, secretariat_from_keyring

            secretariat_store = SecretariatStore(sqlite_url(work / "secretariat.sqlite"))
            await secretariat_store.start()
            signed = SummaryCollector()
            client = make_broker(kafka, client_id="dief-secretariat")
            secretariat = secretariat_from_keyring(
                ring,
                secretariat_store,
                client,
                k_csp=options.k_csp,
                start_month=options.start_month,
                on_summary=signed,
            )
            register_secretariat(client, secretariat, embedded=kafka.embedded)
            consumers.append(client)
            consumer_started = asyncio.ensure_future(
                asyncio.gather(*(c.start() for c in consumers))
            )

        with _timed(result, "nodes"):
            publisher = NodePublisher(kafka, client_id="dief-node")
            relays: list[OutboxRelay] = []
            total_cases = sum(len(v) for v in by_state.values())
            progress.start("post", total_cases)
            posted = 0
            for index, (_state, items) in enumerate(sorted(by_state.items())):
                # Outbox files are named by an opaque index, never by the State.
                outbox = Outbox(work / "nodes" / f"node-{index:03d}.sqlite")
                await outbox.start()
                outboxes.append(outbox)
                node = NationalNode.for_regions(
                    NodeIdentity(os.urandom(32)),
                    outbox,
                    sealers_keys,
                    start_month=options.start_month,
                    catalogue_version=catalogue.version,
                )
                report = await node.submit(items)
                rejected.extend(report.rejected)
                result.accepted += len(report.accepted)
                result.published += report.records
                relays.append(OutboxRelay(outbox, publisher))
                posted += len(items)
                progress.advance("post", posted)
            progress.finish("post")
        result.rejected = len(rejected)
        applied.expected = result.published
        if applied.finished >= result.published:
            applied.done.set()

        with _timed(result, "publish"):
            progress.start("publish", result.published)
            sent = 0
            for relay in relays:
                sent += await relay.drain_once()
                progress.advance("publish", sent)
            progress.finish("publish")

        with _timed(result, "aggregators_join"):
            try:
                await consumer_started
            except (KafkaError, OSError) as exc:
                raise PipelineError(
                    f"the regional aggregators could not start on {bootstrap}: {type(exc).__name__}"
                ) from exc

        with _timed(result, "aggregate"):
            progress.start("aggregate", result.published)
            deadline = time.monotonic() + options.timeout
            while not applied.done.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PipelineError(
                        f"only {applied.finished} of {result.published} records were applied "
                        f"within {options.timeout:.0f}s; see {work / 'broker.log'}"
                    )
                applied.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(applied.changed.wait(), timeout=min(remaining, 5.0))
                progress.advance("aggregate", applied.finished)
            progress.finish("aggregate")
        result.dead_lettered = sum(n for k, n in applied.outcomes.items() if k.startswith("dlq:"))
        result.applied = applied.finished - result.dead_lettered

        with _timed(result, "lessons"):
            # the shareable summaries, opened with each region's key (O(cases), once)
            lessons = {
                r: (await load_lessons(store, r, Opener(opening[r]))).lessons for r in Region
            }

        with _timed(result, "digests"):
            # each region's digests from its own aggregator client (the first ones, in
            # Region order), as its aggregator publishes them
            _published, cycles = await issue_every_digest(
                store,
                ring,
                {r: KafkaRecordSink(c) for r, c in zip(Region, consumers, strict=False)},
                catalogue=catalogue,
                k_meeting=options.k_meeting,
                start_month=options.start_month,
                lessons=lessons,
            )
            remaining = max(1.0, deadline - time.monotonic())
            if not await signed.wait_for(cycles, remaining):
                missing = ", ".join(sorted(cycles - signed.summaries.keys()))
                raise PipelineError(
                    f"the Secretariat published no signed summary for {missing} within "
                    f"{options.timeout:.0f}s; see {work / 'broker.log'}"
                )

        with _timed(result, "outputs"):
            index_ = await write_outputs(
                options.out,
                store,
                regions=list(Region),
                k_meeting=options.k_meeting,
                k_csp=options.k_csp,
                catalogue=catalogue,
                start_month=options.start_month,
                lessons=lessons,
                summaries=signed.summaries,
            )
            result.outputs = list(index_.paths)
            write_rejections(options.out / "rejected.jsonl", rejected)
    finally:
        for box in outboxes:
            await box.stop()
        if publisher is not None:
            await publisher.close()
        if consumer_started is not None:
            # Stop a join in progress and retrieve the outcome: a failed start is reported
            # by the step that failed, and an unretrieved one prints a traceback at exit.
            consumer_started.cancel()
            await asyncio.gather(consumer_started, return_exceptions=True)
        for client in consumers:
            await client.stop()
        if store is not None:
            await store.stop()
        if secretariat_store is not None:
            await secretariat_store.stop()
        if embedded is not None:
            await embedded.stop()
    result.timings["total"] = time.perf_counter() - t_start
    (options.out / "run.json").write_text(
        json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8"
    )
    return result

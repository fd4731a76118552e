"""The broker and the services that consume from it: the regional aggregators, each with
its own client, and the Secretariat; and waiting until they have applied every record."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiokafka.errors import KafkaError

from dief.aggregator import BatchReport, RegionAggregator
from dief.aggregator.store import CaseStore
from dief.broker import EmbeddedBroker
from dief.crypto.envelope import Opener
from dief.database import sqlite_url
from dief.digests import SummaryCollector
from dief.kafka import (
    KafkaDeadLetterSink,
    KafkaReceiptSink,
    dief_topics,
    ensure_topics,
    make_broker,
    probe_capabilities,
)
from dief.pipeline._options import PipelineError, RunContext
from dief.pipeline._resources import Resources, reap
from dief.secretariat import SecretariatStore
from dief.settings import AGGREGATOR_FILE, SECRETARIAT_FILE, KafkaSettings
from dief.vocab import Region

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker

    from dief.pipeline._keys import ForumKeys

__all__ = [
    "Applied",
    "Consumers",
    "join_consumers",
    "start_broker",
    "start_consumers",
    "start_store",
    "wait_until_applied",
]


async def start_broker(run: RunContext, stack: Resources) -> KafkaSettings:
    """Start the embedded broker (it creates the topics), or ensure the topics on the
    given one; returns the clients' settings for it."""
    options = run.options
    if options.bootstrap is None:
        embedded = EmbeddedBroker(binary=options.broker_bin, log_path=run.work / "broker.log")
        await stack.enter_async_context(embedded)
        return KafkaSettings(bootstrap=embedded.bootstrap, embedded=True)
    # Ask the broker what it supports (DESIGN §9): a broker without idempotent producers
    # (the embedded Tansu, wherever it was started) gets the embedded profile.
    capabilities = await probe_capabilities(KafkaSettings(bootstrap=options.bootstrap))
    for note in capabilities.notes:
        logging.getLogger("dief.pipeline").warning("%s", note)
    await ensure_topics(options.bootstrap, dief_topics())
    return KafkaSettings(bootstrap=options.bootstrap, embedded=not capabilities.idempotence)


async def start_store(run: RunContext, stack: Resources) -> CaseStore:
    """The aggregators' database: the given one, or SQLite in the work folder."""
    url = run.options.database_url or sqlite_url(run.work / AGGREGATOR_FILE)
    return await stack.enter_async_context(CaseStore(url))


class Applied:
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

    @property
    def dead_lettered(self) -> int:
        return sum(n for k, n in self.outcomes.items() if k.startswith("dlq:"))

    def expect(self, total: int) -> None:
        """*total* records were published: done once that many are finished."""
        self.expected = total
        if self.finished >= total:
            self.done.set()

    def __call__(self, _region: Region, report: BatchReport) -> None:
        self.outcomes.update(report.outcomes)
        self.changed.set()
        if self.expected is not None and self.finished >= self.expected:
            self.done.set()


@dataclass(frozen=True, slots=True)
class Consumers:
    """The consumer clients, joining their groups in the background (``joined``): each
    region's aggregator client by region, and the Secretariat's signed summaries."""

    aggregators: dict[Region, KafkaBroker]
    summaries: SummaryCollector
    joined: asyncio.Future[list[None]]


async def start_consumers(  # noqa: PLR0913, PLR0917  one step of the run: the run's parts it needs, passed in order
    run: RunContext,
    stack: Resources,
    kafka: KafkaSettings,
    keys: ForumKeys,
    store: CaseStore,
    applied: Applied,
) -> Consumers:
    """One client per region, as the regional services run in production, and the
    Secretariat's; their group joins (seconds on the embedded broker) run in parallel,
    while the nodes work. Each client's stop is registered when it is made: its start
    runs in the background and may be cut off half-way; stopping an unstarted client is
    harmless. Cancelling the joins is registered after, so it runs before those stops."""
    from consumers.aggregator import register_aggregators  # noqa: PLC0415  consumers/ (the services' package) imports dief: loaded only when a run starts

    # One producer for every region's receipts (DESIGN §8); it connects on its first send.
    receipts = KafkaReceiptSink(kafka)
    stack.push_async_callback(receipts.close)
    aggregators: dict[Region, KafkaBroker] = {}
    for r in Region:
        client = make_broker(kafka, client_id="dief-aggregator")
        stack.push_async_callback(client.stop)
        aggregator = RegionAggregator(
            r,
            Opener(keys.opening[r]),
            store,
            KafkaDeadLetterSink(client, r),
            # RFC 9474 tokens under the directory's issuer key of each (cycle, region)
            credentials=keys.verifier,
            start_month=run.options.start_month,
            receipts=receipts,
        )
        register_aggregators(client, {r: aggregator}, embedded=kafka.embedded, on_report=applied)
        aggregators[r] = client
    summaries = SummaryCollector()
    secretariat = await _start_secretariat(run, stack, kafka, keys, summaries)
    clients = [*aggregators.values(), secretariat]
    joined = asyncio.ensure_future(asyncio.gather(*(c.start() for c in clients)))
    stack.push_async_callback(reap, joined)
    return Consumers(aggregators, summaries, joined)


async def _start_secretariat(
    run: RunContext,
    stack: Resources,
    kafka: KafkaSettings,
    keys: ForumKeys,
    summaries: SummaryCollector,
) -> KafkaBroker:
    """The Secretariat's store (started) and its client (to start), which hands each
    signed summary it publishes to *summaries*."""
    from consumers.secretariat import register_secretariat, secretariat_from_keyring  # noqa: PLC0415  consumers/ (the services' package) imports dief: loaded only when a run starts

    secretariat_store = SecretariatStore(sqlite_url(run.work / SECRETARIAT_FILE))
    await stack.enter_async_context(secretariat_store)
    client = make_broker(kafka, client_id="dief-secretariat")
    stack.push_async_callback(client.stop)
    secretariat = secretariat_from_keyring(
        keys.forum,
        secretariat_store,
        client,
        k_csp=run.options.k_csp,
        start_month=run.options.start_month,
        on_summary=summaries,
    )
    register_secretariat(client, secretariat, embedded=kafka.embedded)
    return client


async def join_consumers(consumers: Consumers, kafka: KafkaSettings) -> None:
    """Wait until every consumer client has started and joined its group."""
    try:
        await consumers.joined
    except (KafkaError, OSError) as exc:
        raise PipelineError(
            f"the regional aggregators could not start on {kafka.bootstrap}: {type(exc).__name__}"
        ) from exc


async def wait_until_applied(run: RunContext, applied: Applied, deadline: float) -> None:
    """Wait until every published record is applied or dead-lettered, or fail at
    *deadline* (``time.monotonic``)."""
    published, progress = run.result.published, run.progress
    progress.start("aggregate", published)
    while not applied.done.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PipelineError(
                f"only {applied.finished} of {published} records were applied "
                f"within {run.options.timeout:.0f}s; see {run.work / 'broker.log'}"
            )
        applied.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(applied.changed.wait(), timeout=min(remaining, 5.0))
        progress.advance("aggregate", applied.finished)
    progress.finish("aggregate")

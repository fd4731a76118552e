"""The run's outputs: the regions' lessons, their sealed digests and the Secretariat's
signed summaries on the broker, then every file under the output folder."""

from __future__ import annotations

import shutil
import time
from typing import TYPE_CHECKING

from dief.crypto.envelope import Opener
from dief.digests import CaseLesson, issue_every_digest, issue_every_route_table, load_lessons
from dief.exceptions import BrokerError
from dief.kafka import ROUTES_TOPIC, KafkaRecordFeed, KafkaRecordSink
from dief.keyring import KeyRole
from dief.node import Rejection, write_rejections
from dief.pipeline._intake import ACCEPTED_FILE
from dief.pipeline._options import PipelineError, RunContext
from dief.render import write_index, write_outputs
from dief.routes import RouteInbox, RouteOutcome
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from dief.aggregator.store import CaseStore
    from dief.pipeline._consumers import Consumers
    from dief.pipeline._keys import ForumKeys
    from dief.settings import KafkaSettings
    from dief.wire import CspSummary

__all__ = ["Lessons", "exchange_route_tables", "issue_digests", "open_lessons", "write_run_outputs"]

#: Each region's shareable lessons, by region.
Lessons = dict[Region, tuple[CaseLesson, ...]]


async def open_lessons(store: CaseStore, keys: ForumKeys) -> Lessons:
    """The shareable summaries, opened with each region's key (O(cases), once)."""
    return {r: (await load_lessons(store, r, Opener(keys.opening[r]))).lessons for r in Region}


async def exchange_route_tables(  # noqa: PLR0913, PLR0917  one step of the run: the run's parts it needs, passed in order
    run: RunContext,
    store: CaseStore,
    keys: ForumKeys,
    consumers: Consumers,
    kafka: KafkaSettings,
    deadline: float,
) -> int:
    """Each region sends its route tables on ``dief.routes`` from its own client; each
    receiving aggregator reads the topic back, opens the tables sealed to it, verifies
    them under the sender's signing keys in the directory and stores them, so that its
    digests show them. Returns how many were stored; fails if not all arrive in time."""
    options = run.options
    sent = await issue_every_route_table(
        store,
        keys.forum,
        {r: KafkaRecordSink(client) for r, client in consumers.aggregators.items()},
        k_meeting=options.k_meeting,
        k_csp=options.k_csp,
        start_month=options.start_month,
    )
    if not sent:
        return 0
    inboxes = [
        RouteInbox(
            region,
            store,
            keys=keys.opening[region],
            keys_for=lambda r: keys.forum.verify_keys(KeyRole.REGION, r.value),
        )
        for region in Region
    ]
    feed = KafkaRecordFeed(kafka, ROUTES_TOPIC, client_id="dief-aggregator")
    stored = refused = 0
    try:  # noqa: PLW0717  one reading loop: a broker failure anywhere in it is the same error
        await feed.start({})
        while stored + refused < len(sent):
            if time.monotonic() > deadline:
                raise PipelineError(
                    f"{len(sent) - stored - refused} of {len(sent)} route tables did not "
                    f"arrive within {options.timeout:.0f}s"
                )
            for record in await feed.fetch(1.0):
                if record.value is None:
                    continue
                for inbox in inboxes:
                    outcome = (await inbox.receive(record.value)).outcome
                    if outcome is RouteOutcome.NOT_FOR_US:
                        continue
                    stored += outcome in {RouteOutcome.STORED, RouteOutcome.STALE}
                    refused += outcome is RouteOutcome.REFUSED
                    break
    except BrokerError as exc:
        raise PipelineError(f"reading the route tables failed: {exc.message}") from exc
    finally:
        await feed.close()
    if refused:
        raise PipelineError(f"{refused} route tables were refused by their receivers")
    return stored


async def issue_digests(  # noqa: PLR0913, PLR0917  one step of the run: the run's parts it needs, passed in order
    run: RunContext,
    store: CaseStore,
    keys: ForumKeys,
    consumers: Consumers,
    lessons: Lessons,
    deadline: float,
) -> Mapping[str, CspSummary]:
    """Each region issues its digests from its own aggregator client, as its aggregator
    publishes them; returns the Secretariat's signed summary of every cycle with data, or
    fails if one is not in by *deadline* (at least a second from now)."""
    options = run.options
    _published, cycles = await issue_every_digest(
        store,
        keys.forum,
        {r: KafkaRecordSink(client) for r, client in consumers.aggregators.items()},
        catalogue=run.catalogue,
        k_meeting=options.k_meeting,
        start_month=options.start_month,
        lessons=lessons,
    )
    signed = consumers.summaries
    remaining = max(1.0, deadline - time.monotonic())
    if not await signed.wait_for(cycles, remaining):
        missing = ", ".join(sorted(cycles - signed.summaries.keys()))
        raise PipelineError(
            f"the Secretariat published no signed summary for {missing} within "
            f"{options.timeout:.0f}s; see {run.work / 'broker.log'}"
        )
    return signed.summaries


def _documents(run: RunContext) -> Callable[[int, int], None]:
    """The ``outputs`` step's progress, in documents written."""

    def report(done: int, total: int) -> None:
        if done == 0:
            run.progress.start("outputs", total)
        else:
            run.progress.advance("outputs", done)

    return report


async def write_run_outputs(
    run: RunContext,
    store: CaseStore,
    lessons: Lessons,
    summaries: Mapping[str, CspSummary],
    rejected: Sequence[Rejection],
) -> None:
    """Every digest and summary, ``accepted.jsonl`` (each accepted line with the case id
    its node derived), ``rejected.jsonl`` and ``index.html`` (linking them all, with the
    records-versus-cases sentence), under the output folder; the paths written go into the
    result."""
    options = run.options
    index = await write_outputs(
        options.out,
        store,
        regions=list(Region),
        k_meeting=options.k_meeting,
        k_csp=options.k_csp,
        catalogue=run.catalogue,
        start_month=options.start_month,
        lessons=lessons,
        summaries=summaries,
        progress=_documents(run),
    )
    run.progress.finish("outputs")
    write_rejections(options.out / "rejected.jsonl", rejected)
    noted = run.work / ACCEPTED_FILE
    if noted.is_file():
        shutil.copyfile(noted, options.out / ACCEPTED_FILE)
    files = [ACCEPTED_FILE] if noted.is_file() else []
    page = write_index(
        index,
        explanation=run.result.records_explained(),
        run_files=[*files, "rejected.jsonl", "run.json"],  # run.json: written last
        start_month=options.start_month,
    )
    run.result.outputs = [*index.paths, page]

"""The input side: read the cases, post them through simulated national nodes, publish."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from typing import TYPE_CHECKING

from dief.exceptions import ValidationError
from dief.kafka import NodePublisher
from dief.node import (
    Accepted,
    NationalNode,
    NodeIdentity,
    Outbox,
    OutboxRelay,
    Rejection,
    write_accepted,
)
from dief.pipeline._keys import ForumKeys, node_label
from dief.vocab import CaseStatus
from dief.wire import CaseInput, CaseValidationError, load_cases

if TYPE_CHECKING:
    from collections.abc import Sequence

    from dief.pipeline._options import Progress, RunContext, RunOptions, RunResult
    from dief.pipeline._resources import Resources
    from dief.settings import KafkaSettings

__all__ = [
    "ACCEPTED_FILE",
    "CasesByState",
    "node_cycles",
    "post_through_nodes",
    "publish",
    "read_input",
]

#: Where the nodes of a run note what they accepted (the run's work folder); the outputs
#: stage writes it out as ``accepted.jsonl`` (DESIGN §9 ⚑).
ACCEPTED_FILE = "accepted.jsonl"

#: Each State's input lines (line number, case or the reason it is invalid).
CasesByState = dict[str, list[tuple[int, CaseInput | ValidationError]]]


def read_input(options: RunOptions, result: RunResult) -> tuple[CasesByState, list[Rejection]]:
    """The cases by the State that posts them (``submitted_by``), and the lines refused."""
    by_state: CasesByState = defaultdict(list)
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


def _count_versions(
    result: RunResult,
    accepted: Sequence[Accepted],
    items: Sequence[tuple[int, CaseInput | ValidationError]],
) -> None:
    """Add to *result* the cases, revisions, withdrawals and held lines among one node's
    *accepted* lines (each node derives its own case ids: no case spans two nodes)."""
    withdrawn = {
        line
        for line, item in items
        if isinstance(item, CaseInput) and item.status is CaseStatus.WITHDRAWN
    }
    seen: set[str] = set()
    for entry in sorted(accepted, key=lambda a: a.line):
        first = entry.case_id not in seen
        seen.add(entry.case_id)
        if entry.held:
            result.held += 1
        elif entry.line in withdrawn:
            result.withdrawals += 1
        elif not first:
            result.revisions += 1
    result.cases += len(seen)


def node_cycles(by_state: CasesByState, start_month: int) -> dict[str, set[str]]:
    """The CSP cycles each simulated node posts in (by its label), so that it holds a
    contributor token for every region of each before it posts."""
    out: dict[str, set[str]] = {}
    for index, (_state, items) in enumerate(sorted(by_state.items())):
        cycles = out.setdefault(node_label(index), set())
        for _line, item in items:
            if isinstance(item, CaseInput):
                with contextlib.suppress(ValueError):  # before CSP1: the node refuses it
                    cycles.add(str(item.detected_month.cycle(start_month)))
    return out


async def post_through_nodes(  # noqa: PLR0913, PLR0917  one step of the run: the run's parts it needs, passed in order
    run: RunContext,
    stack: Resources,
    kafka: KafkaSettings,
    keys: ForumKeys,
    by_state: CasesByState,
    rejected: list[Rejection],
) -> list[OutboxRelay]:
    """One node per State, each with its own secret and outbox, submits that State's
    cases; returns a relay per outbox, over one shared publisher. Counts the accepted
    cases and the records written, adds the node's rejections to *rejected*, and writes
    every accepted line with the case id its node derived to the work folder's
    ``accepted.jsonl``."""
    publisher = NodePublisher(kafka, client_id="dief-node")
    stack.push_async_callback(publisher.close)  # it connects on the first relay's drain
    relays: list[OutboxRelay] = []
    progress, result = run.progress, run.result
    progress.start("post", sum(len(v) for v in by_state.values()))
    posted = 0
    accepted: list[Accepted] = []
    for index, (_state, items) in enumerate(sorted(by_state.items())):
        label = node_label(index)  # outbox files and keys by an opaque label, never the State
        outbox = Outbox(run.work / "nodes" / f"{label}.sqlite")
        await outbox.start()
        stack.push_async_callback(outbox.stop)
        simulated = keys.nodes[label]
        node = NationalNode.for_regions(
            NodeIdentity(simulated.secret),
            outbox,
            keys.sealing,
            credentials=simulated.wallet,  # real RFC 9474 tokens from the simulated issuer
            start_month=run.options.start_month,
            catalogue_version=run.catalogue.version,
        )
        report = await node.submit(items)
        rejected.extend(report.rejected)
        accepted.extend(report.accepted)
        result.accepted += len(report.accepted)
        result.published += report.records
        result.duplicates += len(report.already)
        _count_versions(result, report.accepted, items)
        relays.append(OutboxRelay(outbox, publisher))
        posted += len(items)
        progress.advance("post", posted)
    progress.finish("post")
    write_accepted(run.work / ACCEPTED_FILE, accepted)
    return relays


async def publish(relays: Sequence[OutboxRelay], total: int, progress: Progress) -> None:
    """Drain every outbox to the broker once."""
    progress.start("publish", total)
    sent = 0
    for relay in relays:
        sent += await relay.drain_once()
        progress.advance("publish", sent)
    progress.finish("publish")

"""One FastStream batch subscriber: raw batch → :class:`InboundRecord` values → a handler.

Offsets are committed by FastStream (``AckPolicy.NACK_ON_ERROR``) only after the handler
returned. On any failure the subscriber backs off, logs the error's type or message (never
a record's content), and raises FastStream's ``NackMessage`` from it: FastStream seeks the
batch's partitions back and the records come again (DESIGN §8). Not the error itself:
FastStream logs a handler's error with its traceback, and the chain of a database error
carries the failing statement's bound values (a case's facts, its owner key); a
``NackMessage`` it logs by its message alone.

Per-batch cost. The subscriber's *decoder* turns the raw batch into the
:class:`InboundRecord` list and the handler takes it as its message body. FastStream's
default batch decoder would build a message object and try ``json.loads`` on every record
(about 9 μs each for a sealed envelope), all thrown away; and taking the message through a
``Context`` annotation instead makes FastDepends resolve it with a synchronous call, which
it runs in a worker thread: a thread hand-off for every batch.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, TypeVar, cast

from faststream import AckPolicy
from faststream.exceptions import NackMessage

from dief.exceptions import BrokerError, StorageError
from dief.seams import Backoff, FaultPoints, InboundRecord

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from faststream.kafka import KafkaBroker
    from faststream.kafka.annotations import KafkaMessage

__all__ = [
    "BATCH_TIME_LIMIT",
    "DEFAULT_SESSION_TIMEOUT_MS",
    "EMBEDDED_SESSION_TIMEOUT_MS",
    "subscribe_batches",
]

#: Consumer options for the embedded broker: Tansu answers a group join after half the
#: session timeout, so a shorter one makes start-up faster (see docs/broker.md).
EMBEDDED_SESSION_TIMEOUT_MS = 4000
DEFAULT_SESSION_TIMEOUT_MS = 10000

#: How long a fetch waits at the broker for data. Apache Kafka answers a waiting fetch as
#: soon as data arrives, so its default (500 ms) costs no latency there; Tansu was measured
#: to answer only when the wait is over, which put up to half a second on every quiet
#: partition's next batch (post → applied p99 at 1,000 cases/s: 1,184 ms at 500, 818 ms at
#: 50, 787 ms at 10). 50 ms keeps an idle consumer at ~20 fetches/s per topic.
EMBEDDED_FETCH_MAX_WAIT_MS = 50
DEFAULT_FETCH_MAX_WAIT_MS = 500

#: Seconds an aggregator's batch may take before it is given up and comes again (the
#: default of ``DIEF_BATCH_TIME_LIMIT``). Its handler waits on a database and on Kafka; a
#: connection left half-open (a network partition, a database host that vanished: neither
#: side hears of it) would otherwise hold its partition for good, and every later case of
#: it with it. A batch of 2,000 records opens and applies in a few seconds at most; the
#: consumer's max.poll.interval.ms (300 s) is longer.
BATCH_TIME_LIMIT = 120.0

R = TypeVar("R")


async def _inbound_records(msg: KafkaMessage) -> list[InboundRecord]:  # noqa: RUF029  FastStream awaits its decoder
    """The decoder: the batch's records copied out of the Kafka client."""
    raw = msg.raw_message
    # A tuple from the real consumer, a list from FastStream's TestKafkaBroker.
    batch = raw if isinstance(raw, tuple | list) else (raw,)
    return [InboundRecord(r.topic, r.partition, r.offset, r.key, r.value) for r in batch]


async def _within(
    limit: asyncio.Timeout,
    handle: Callable[[Sequence[InboundRecord]], Awaitable[R]],
    records: Sequence[InboundRecord],
    faults: FaultPoints | None,
) -> R:
    """*handle* (*records*) within *limit*, with the fault points around it (tests)."""
    if faults is not None:
        faults.reached("after_fetch")
    async with limit:
        result = await handle(records)
    if faults is not None:
        faults.reached("after_commit")
    return result


def subscribe_batches(  # noqa: PLR0913  a public keyword signature, used outside dief/kafka
    broker: KafkaBroker,
    topic: str,
    *,
    group_id: str,
    title: str,
    max_records: int,
    embedded: bool,
    backoff: Backoff,
    handle: Callable[[Sequence[InboundRecord]], Awaitable[R]],
    on_result: Callable[[R], None] | None = None,
    log: logging.Logger | None = None,
    label: str | None = None,
    faults: FaultPoints | None = None,
    time_limit: float | None = None,
) -> None:
    """Subscribe *broker* to *topic* in *group_id*; each batch goes to *handle*.

    *on_result* hears each handled batch's result. A failure, or a handler still running
    after *time_limit* seconds if given (then cancelled: only for a handler that waits on
    I/O, whose work takes far less; a handler that computes for longer would never
    finish), is logged on *log* as "*label*: batch of N not applied" (*label* defaults to
    *title*); the offsets are not committed and the batch comes again. *faults* (tests
    only) is told when a batch was fetched (``after_fetch``) and when *handle* returned,
    before the offsets are committed (``after_commit``).
    """
    logger = log or logging.getLogger("dief.kafka")
    name = title if label is None else label
    session_ms = EMBEDDED_SESSION_TIMEOUT_MS if embedded else DEFAULT_SESSION_TIMEOUT_MS
    failures = 0

    @broker.subscriber(
        topic,
        group_id=group_id,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=50,
        fetch_max_wait_ms=EMBEDDED_FETCH_MAX_WAIT_MS if embedded else DEFAULT_FETCH_MAX_WAIT_MS,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=title,
        session_timeout_ms=session_ms,
        heartbeat_interval_ms=session_ms // 4,
        decoder=_inbound_records,
    )
    async def _handle(body: object) -> None:
        # Annotated ``object`` so that FastDepends passes the decoder's list through as is.
        nonlocal failures
        records = cast("list[InboundRecord]", body)
        limit = asyncio.timeout(time_limit)
        try:
            result = await _within(limit, handle, records, faults)
        except Exception as exc:
            # Database or broker away, or a bug: nothing of the batch was committed. Back off
            # before FastStream seeks back, so a persistent failure never spins.
            delay = backoff.delay(failures)
            failures += 1
            if limit.expired():
                why = f"still running after {time_limit:g}s, cancelled"
            elif isinstance(exc, StorageError | BrokerError):
                why = exc.message
            else:
                why = type(exc).__name__
            logger.error(  # noqa: TRY400  the reason is logged, never a traceback that could carry a record's data
                "%s: batch of %d not applied (%s); offsets not committed, retrying in %.1fs",
                name,
                len(records),
                why,
                delay,
            )
            await asyncio.sleep(delay)
            # the cause is kept on the exception; FastStream logs only this message
            raise NackMessage from exc
        failures = 0
        if on_result is not None:
            on_result(result)

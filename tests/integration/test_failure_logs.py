"""A batch that fails on a real consumer (the embedded broker) comes again, and its failure
reaches the logs as one line: never a traceback, whose chain would carry what the failing
statement was given (an SQLAlchemy error's message lists the statement's bound values: a
case's facts, its owner key).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.exc import OperationalError

from dief.broker import EmbeddedBroker
from dief.exceptions import StorageError
from dief.kafka import cases_topic, make_broker, subscribe_batches
from dief.seams import Backoff, InboundRecord, OutboxEntry
from dief.settings import KafkaSettings
from dief.vocab import Region
from tests.integration._pipeline_helpers import publish_raw

if TYPE_CHECKING:
    from collections.abc import Sequence

pytestmark = [pytest.mark.integration]

SECRET = "owner-key-5f3a9c"


async def test_a_failed_batch_comes_again_and_logs_no_bound_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    topic = cases_topic(Region.AFR)
    seen: list[list[int]] = []
    applied = asyncio.Event()

    async def handle(records: Sequence[InboundRecord]) -> int:
        seen.append([r.offset for r in records])
        if len(seen) == 1:
            cause = OperationalError("INSERT INTO cases VALUES (?)", (SECRET,), OSError("gone"))
            raise StorageError("applying a batch for AFR failed: gone") from cause
        return len(records)

    async with EmbeddedBroker() as broker:
        await publish_raw(broker.bootstrap, [OutboxEntry(topic, b"k", b"case text", 0)])
        client = make_broker(KafkaSettings(bootstrap=broker.bootstrap, embedded=True))
        subscribe_batches(
            client,
            topic,
            group_id="dief-aggregator-afr",
            title="aggregate-afr",
            max_records=10,
            embedded=True,
            backoff=Backoff(initial=0.01, maximum=0.01),
            handle=handle,
            on_result=lambda _n: applied.set(),
            label="AFR",
        )
        with caplog.at_level(logging.DEBUG):
            await client.start()
            try:
                await asyncio.wait_for(applied.wait(), 60)
            finally:
                await client.stop()

    assert seen == [[0], [0]], "the failed batch came again, once"
    logged = "\n".join(logging.Formatter().format(r) for r in caplog.records)
    assert "AFR: batch of 1 not applied (applying a batch for AFR failed: gone)" in logged
    assert SECRET not in logged
    assert "Traceback" not in logged

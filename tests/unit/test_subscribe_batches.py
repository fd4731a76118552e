"""subscribe_batches on FastStream's in-memory TestKafkaBroker: what the handler receives, what
a failure does, and that a batch costs no thread hand-off.

The real consumer (a tuple per batch, offsets committed after the handler) is exercised by
``test_aggregator_wiring.py`` on the embedded broker.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from faststream.kafka import KafkaBroker, TestKafkaBroker

from dief.exceptions import StorageError
from dief.kafka import subscribe_batches
from dief.seams import Backoff, InboundRecord

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import pytest

TOPIC = "dief.afr.cases"


def subscribe(
    broker: KafkaBroker,
    handle: Callable[[Sequence[InboundRecord]], Any],
    results: list[object],
    log: logging.Logger,
) -> None:
    subscribe_batches(
        broker,
        TOPIC,
        group_id="g",
        title="aggregate-afr",
        max_records=10,
        embedded=True,
        backoff=Backoff(initial=0.01, maximum=0.01),
        handle=handle,
        on_result=results.append,
        log=log,
        label="AFR",
    )


async def test_the_handler_gets_inbound_records_without_a_thread_hand_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The decoder hands the records over as the message body: no per-record JSON decoding,
    and no synchronous dependency that FastDepends would run in a worker thread per batch."""
    hops: list[object] = []
    run_sync = anyio.to_thread.run_sync

    async def counting_run_sync(func: Callable[..., object], *args: object, **kw: Any) -> object:  # noqa: ANN401  a JSON document or an untyped library object, as the test builds it
        hops.append(func)
        return await run_sync(func, *args, **kw)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting_run_sync)
    seen: list[list[InboundRecord]] = []
    results: list[object] = []

    async def handle(records: Sequence[InboundRecord]) -> str:
        seen.append(list(records))
        return "done"

    broker = KafkaBroker()
    subscribe(broker, handle, results, logging.getLogger("test.subscribe"))
    async with TestKafkaBroker(broker) as br:
        await br.publish(b'{"v": 1, "not": "decoded"}', TOPIC, key=b"case-1")
        await br.publish(b"\xff not json", TOPIC, key=b"case-2")

    assert [[(r.topic, r.key, r.value) for r in batch] for batch in seen] == [
        [(TOPIC, b"case-1", b'{"v": 1, "not": "decoded"}')],
        [(TOPIC, b"case-2", b"\xff not json")],
    ]
    assert all(isinstance(r, InboundRecord) for batch in seen for r in batch)
    assert results == ["done", "done"]
    assert hops == []


async def test_a_failed_batch_is_logged_without_content_and_nacked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The handler's error becomes FastStream's ``NackMessage`` (the batch comes again on a
    real consumer: ``tests/integration/test_failure_logs.py``), logged on one line."""
    results: list[object] = []

    async def handle(records: Sequence[InboundRecord]) -> None:
        raise StorageError("database unavailable")

    broker = KafkaBroker()
    subscribe(broker, handle, results, logging.getLogger("test.subscribe"))
    with caplog.at_level(logging.ERROR, logger="test.subscribe"):
        async with TestKafkaBroker(broker) as br:
            await br.publish(b"secret case text", TOPIC, key=b"k")
    assert results == []
    messages = [r.getMessage() for r in caplog.records if r.name == "test.subscribe"]
    assert len(messages) == 1
    assert messages[0].startswith("AFR: batch of 1 not applied (database unavailable)")
    assert "secret" not in messages[0]

"""The pipeline's resource owner (:class:`dief.pipeline._resources.Resources`): whatever a
stage started is stopped, in reverse order, even when a stop fails, and the error that
matters surfaces. Fakes only; no broker."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Self

import pytest

from dief.pipeline import PipelineError
from dief.pipeline._consumers import Applied
from dief.pipeline._resources import Resources, reap

if TYPE_CHECKING:
    from types import TracebackType


class FakeResource:
    """Records its stop in *stopped*; raises *fail* from it if given."""

    def __init__(self, name: str, stopped: list[str], fail: Exception | None = None) -> None:
        self.name = name
        self.stopped = stopped
        self.fail = fail
        self.started = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped.append(self.name)
        if self.fail is not None:
            raise self.fail

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def _start_all(stack: Resources, resources: list[FakeResource]) -> None:
    """Register each the way the stages do: as a context, or its stop after its start."""
    for i, resource in enumerate(resources):
        if i % 2:
            await stack.enter_async_context(resource)
        else:
            await resource.start()
            stack.push_async_callback(resource.stop)


async def _run(resources: list[FakeResource], fail: BaseException | None = None) -> None:
    """A run that starts *resources* on one owner, then raises *fail* if given."""
    async with Resources() as stack:
        await _start_all(stack, resources)
        if fail is not None:
            raise fail


async def test_a_failing_stop_still_stops_the_others_in_reverse_order() -> None:
    stopped: list[str] = []
    failure = RuntimeError("the store would not close")
    resources = [
        FakeResource("broker", stopped),
        FakeResource("store", stopped, fail=failure),
        FakeResource("aggregator", stopped),
        FakeResource("outbox", stopped),
    ]
    with pytest.raises(RuntimeError, match="would not close") as raised:
        await _run(resources)
    assert raised.value is failure  # the run succeeded: the failing stop is the error
    assert stopped == ["outbox", "aggregator", "store", "broker"]


async def test_the_runs_error_surfaces_when_a_stop_fails_too() -> None:
    stopped: list[str] = []
    resources = [
        FakeResource("broker", stopped),
        FakeResource("store", stopped, fail=RuntimeError("the store would not close")),
        FakeResource("publisher", stopped, fail=OSError("connection reset")),
    ]
    with pytest.raises(PipelineError, match="not applied in time") as raised:
        await _run(resources, PipelineError("not applied in time"))
    assert stopped == ["publisher", "store", "broker"]
    # The failed stops are not lost either: each is told on the run's error.
    notes = "\n".join(raised.value.__notes__)
    assert "would not close" in notes
    assert "connection reset" in notes


async def test_several_failing_stops_all_run_and_none_is_lost() -> None:
    stopped: list[str] = []
    first = OSError("connection reset")
    last = RuntimeError("the broker would not stop")
    resources = [
        FakeResource("broker", stopped, fail=last),
        FakeResource("store", stopped),
        FakeResource("publisher", stopped, fail=first),
    ]
    with pytest.raises(OSError, match="connection reset") as raised:
        await _run(resources)
    assert stopped == ["publisher", "store", "broker"]
    # The run succeeded: the first failed stop is the error, the later one a note on it.
    assert raised.value is first
    assert any("would not stop" in note for note in raised.value.__notes__)


async def test_a_cancelled_run_stops_everything_and_stays_cancelled() -> None:
    stopped: list[str] = []
    resources = [
        FakeResource("broker", stopped),
        FakeResource("store", stopped, fail=RuntimeError("the store would not close")),
    ]
    with pytest.raises(asyncio.CancelledError):
        await _run(resources, asyncio.CancelledError())
    assert stopped == ["store", "broker"]


async def test_a_resource_whose_start_failed_is_not_stopped() -> None:
    stopped: list[str] = []

    class Unstartable(FakeResource):
        async def start(self) -> None:
            raise OSError("no such binary")

    with pytest.raises(OSError, match="no such binary"):
        await _run([FakeResource("broker", stopped), Unstartable("store", stopped)])
    assert stopped == ["broker"]


async def test_reap_cancels_a_join_in_progress_and_retrieves_a_failed_one() -> None:
    pending = asyncio.ensure_future(asyncio.Event().wait())  # never set: pending until reaped
    await reap(pending)
    assert pending.cancelled()

    async def fail() -> None:
        raise OSError("group join failed")

    failed = asyncio.ensure_future(fail())
    await asyncio.wait([failed])  # until it has failed
    await reap(failed)  # retrieved, not raised: the step that awaited it reported it
    assert failed.done()
    assert isinstance(failed.exception(), OSError)


def test_applied_is_done_once_every_published_record_is_finished() -> None:
    applied = Applied()
    applied.expect(0)
    assert applied.done.is_set()  # nothing published: nothing to wait for

    applied = Applied()
    applied.outcomes.update({"applied": 2, "duplicate": 5, "dlq:schema": 1})
    applied.expect(4)
    assert not applied.done.is_set()
    assert applied.finished == 3
    assert applied.dead_lettered == 1

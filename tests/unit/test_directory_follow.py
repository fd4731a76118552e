"""Following the directory (DESIGN §4 ⚑): a holder keeps the newest valid version, refuses
the rest with a logged reason and never raises into its caller; the follower picks up v2
after v1 from a record feed, without a restart."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import pytest

from dief.keyring import (
    DirectoryFollower,
    DirectoryHolder,
    ForumDirectory,
    OfferOutcome,
    SimulatedForum,
    publish_directory,
)
from dief.testing import FakeClock, MemoryRecordFeed, MemoryRecordSink

if TYPE_CHECKING:
    from pathlib import Path

PASS = "pw"
T0 = 1_790_000_000.0


@pytest.fixture
def forum(tmp_path: Path) -> SimulatedForum:
    return SimulatedForum.create(tmp_path / "f", PASS, clock=FakeClock(T0))


def test_the_holder_accepts_newer_ignores_same_and_refuses_the_rest(
    forum: SimulatedForum, caplog: pytest.LogCaptureFixture
) -> None:
    v1 = forum.directory
    v2 = forum.issue_directory()
    clock = FakeClock(T0 + 60)
    holder = DirectoryHolder(forum.root_fingerprint, clock=clock)
    changes: list[int] = []
    holder.on_change(lambda d: changes.append(d.version))
    assert holder.offer(v1.raw).outcome is OfferOutcome.ACCEPTED
    assert holder.offer(v2.raw).outcome is OfferOutcome.ACCEPTED
    assert holder.offer(v2.raw).outcome is OfferOutcome.SAME
    with caplog.at_level(logging.INFO, logger="dief.directory"):
        old = holder.offer(v1.raw)
        junk = holder.offer(b'{"format": "dief-directory/1"}')
        unsigned = holder.offer(v2.raw.replace(b'"version":2', b'"version":3'))
        empty = holder.offer(None)
    assert (old.outcome, old.reason) == (OfferOutcome.REFUSED, "rollback")
    assert (junk.outcome, junk.reason) == (OfferOutcome.REFUSED, "malformed")
    assert (unsigned.outcome, unsigned.reason) == (OfferOutcome.REFUSED, "bad_signature")
    assert empty.outcome is OfferOutcome.REFUSED
    assert "rollback" in caplog.text
    assert "bad_signature" in caplog.text
    assert changes == [1, 2]
    assert holder.require().version == 2
    clock.jump_to(v2.expires + 1)
    expired = DirectoryHolder(forum.root_fingerprint, clock=clock).offer(v2.raw)
    assert expired.reason in {"expired", "certificate"}


def test_a_failing_callback_does_not_stop_the_holder(forum: SimulatedForum) -> None:
    holder = DirectoryHolder(forum.root_fingerprint, clock=FakeClock(T0 + 1))
    seen: list[ForumDirectory] = []

    def broken(_: ForumDirectory) -> None:
        raise RuntimeError("subscriber bug")

    holder.on_change(broken)
    holder.on_change(seen.append)
    assert holder.offer(forum.directory.raw).outcome is OfferOutcome.ACCEPTED
    assert [d.version for d in seen] == [1]


async def test_the_follower_picks_up_v2_after_v1_without_a_restart(
    forum: SimulatedForum,
) -> None:
    sink = MemoryRecordSink()
    await publish_directory(sink, forum.directory)
    assert [(r.topic, r.key) for r in sink.sent] == [
        ("dief.directory", b"v1"),
        ("dief.directory", b"current"),
    ]
    feed = MemoryRecordFeed("dief.directory")
    for record in sink.sent:
        feed.append(record.key, record.value)
    holder = DirectoryHolder(forum.root_fingerprint, clock=FakeClock(T0 + 60))
    follower = DirectoryFollower(feed, holder, wait=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(follower.run(stop))
    try:
        assert (await holder.wait_for_version(1, 5.0)).version == 1
        v2 = forum.issue_directory()
        await publish_directory(sink, v2)
        for record in sink.sent[2:]:
            feed.append(record.key, record.value)
        assert (await holder.wait_for_version(2, 5.0)).raw == v2.raw
        assert feed.starts == 1  # no restart
    finally:
        stop.set()
        await asyncio.wait_for(task, 5.0)

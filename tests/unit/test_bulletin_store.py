"""The running node follows bulletins into its own database (issue 18, DESIGN §13 ⚑):
:class:`BulletinFollower` over a topic in memory, :class:`BulletinStore` in the node's outbox
file. What ``dief alerts`` and the portal read comes from here, never from the topic."""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING, Self

import pytest

from dief.bulletins import (
    BULLETINS_TOPIC,
    GROUP_KEY_PREFIX,
    BulletinCollector,
    BulletinFollower,
    BulletinSealer,
    BulletinStore,
    WatchStore,
)
from dief.crypto import KemPrivateKey, SigningKey, b64url_encode
from dief.keyring import KeyRole, SimulatedForum, issue_bulletin_group_key
from dief.node import Outbox
from dief.testing import MemoryRecordFeed
from dief.vocab import CaseStatus
from dief.wire import BulletinEntry, BulletinGroupKeyRelease, CaseRecord
from tests.unit.record_helpers import case_doc, signed_record

if TYPE_CHECKING:
    from pathlib import Path

PASSPHRASE = "bulletin-store-passphrase"
NODES = ("node-a", "node-b")


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory) -> SimulatedForum:
    return SimulatedForum.create(tmp_path_factory.mktemp("forum"), PASSPHRASE, nodes=NODES)


def _release(forum: SimulatedForum) -> tuple[BulletinGroupKeyRelease, BulletinSealer]:
    signer = forum.secretariat().ring.signing_key(forum.directory.document.certificate.subject_kid)
    release, group = issue_bulletin_group_key(forum.directory, signer)
    sealer = BulletinSealer("AFR", forum.signing_key(KeyRole.REGION, "AFR"), group.public_key)
    return release, sealer


def _alert(**more: object) -> CaseRecord:
    doc = case_doc(kind="alert", tlp="green", **more)
    return signed_record(doc, index=random.randrange(1 << 30))


def _put_release(feed: MemoryRecordFeed, release: BulletinGroupKeyRelease) -> None:
    key = GROUP_KEY_PREFIX + f"v{release.directory_version}".encode()
    feed.append(key, release.model_dump_json().encode())


class _Node:
    """One node's outbox, store, watches and follower over *feed*."""

    def __init__(
        self, forum: SimulatedForum, name: str, folder: Path, feed: MemoryRecordFeed
    ) -> None:
        self.outbox = Outbox(folder / "outbox.sqlite")
        self.store = BulletinStore(self.outbox)
        self.watches = WatchStore(folder / "watches.json")
        self.follower = BulletinFollower(
            self.store,
            feed,
            directory=lambda: forum.directory,
            node_key=forum.node(name).kem_key(),
            watches=self.watches.all,
        )

    async def __aenter__(self) -> Self:
        await self.outbox.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.follower.close()
        await self.outbox.stop()

    async def read(self) -> None:
        assert await self.follower.read_to_end(5.0)


async def test_the_node_keeps_what_it_opens_with_watch_matches_and_goes_on_after_a_restart(
    forum: SimulatedForum, tmp_path: Path
) -> None:
    release, sealer = _release(forum)
    feed = MemoryRecordFeed(BULLETINS_TOPIC)
    _put_release(feed, release)
    collector = BulletinCollector("AFR")
    collector.offer(
        _alert(items=[{"category": "small_arms", "quantity": 3}], risk_indicators=["DOC-01"])
    )
    feed.append(b"k1", sealer.seal(await collector.take(force=True)))
    async with _Node(forum, "node-a", tmp_path, feed) as node:
        watch = node.watches.add(item_categories=["small_arms"], label="SALW")
        node.watches.add(item_categories=["ammunition"])
        await node.read()
        (kept,) = await node.store.bulletins()
        assert kept.region == "AFR"
        assert kept.in_force
        (match,) = await node.store.matches()
        assert (match.bulletin_id, match.watch_id) == (kept.bulletin_id, watch.watch_id)
        assert match.reason == "item categories: small_arms"
        (line,) = await node.store.listing(node.watches.all())
        assert line.questions[0][0] == "DOC-01"
        assert line.questions[0][1]
        assert [m.watch_id for m in line.matches] == [watch.watch_id]
        assert node.follower.group_keys == 1

    # a restart: the kept group key opens the next batch; nothing read twice
    collector.offer(_alert(items=[{"category": "ammunition", "quantity": 1}]))
    feed.append(b"k2", sealer.seal(await collector.take(force=True)))
    async with _Node(forum, "node-a", tmp_path, feed) as node:
        await node.read()
        assert feed.positions == {0: 2}  # started after the release and the first batch
        assert node.follower.added == 1
        assert len(await node.store.bulletins()) == 2
        assert (await node.store.counts()).matches == 2


async def test_a_retraction_takes_the_bulletin_out_even_when_read_before_it(
    forum: SimulatedForum, tmp_path: Path
) -> None:
    release, sealer = _release(forum)
    feed = MemoryRecordFeed(BULLETINS_TOPIC)
    _put_release(feed, release)
    collector = BulletinCollector("AFR")
    alert = _alert()
    collector.offer(alert)
    first = await collector.take(force=True)
    collector.offer(alert.model_copy(update={"revision": 2, "status": CaseStatus.WITHDRAWN}))
    retraction = await collector.take(force=True)
    assert [e.action for e in retraction] == ["retract"]
    async with _Node(forum, "node-a", tmp_path / "a", feed) as node:
        feed.append(b"k1", sealer.seal(first))
        await node.read()
        assert len(await node.store.bulletins()) == 1
        feed.append(b"k2", sealer.seal(retraction))
        await node.read()
        assert await node.store.bulletins() == []
        (gone,) = await node.store.bulletins(include_retracted=True)
        assert gone.retracted_at is not None
        assert node.follower.retracted == 1
    # another node reads the retraction first (a later partition's batch): kept out
    late = MemoryRecordFeed(BULLETINS_TOPIC)
    _put_release(late, release)
    late.append(b"k2", sealer.seal(retraction))
    late.append(b"k1", sealer.seal(first))
    async with _Node(forum, "node-b", tmp_path / "b", late) as node:
        await node.read()
        assert await node.store.bulletins() == []
        assert (await node.store.counts()).in_force == 0


async def test_a_forged_batch_and_a_foreign_release_change_nothing(
    forum: SimulatedForum, tmp_path: Path
) -> None:
    release, sealer = _release(forum)
    feed = MemoryRecordFeed(BULLETINS_TOPIC)
    # a release whose key was swapped after the directory signer signed it
    swap = KemPrivateKey.generate(release.suite)
    _put_release(
        feed,
        release.model_copy(
            update={
                "group_kid": swap.kid,
                "group_public": b64url_encode(swap.public_key.public_bytes()),
            }
        ),
    )
    _put_release(feed, release)
    group_public = sealer._group  # the released key, to forge under
    forged = BulletinSealer("AFR", SigningKey.generate(), group_public)
    entry = BulletinEntry(bulletin_id="f" * 32, action="publish", kind="alert")
    feed.append(b"x", forged.seal([entry]))
    feed.append(b"y", b"not an envelope")
    async with _Node(forum, "node-a", tmp_path, feed) as node:
        await node.read()
        assert await node.store.bulletins() == []
        assert node.follower.group_keys == 1
        assert node.follower.reader.ignored["bad_signature"] == 1
        assert node.follower.ignored == 2


async def test_wait_for_returns_once_the_follower_applied_a_bulletin(
    forum: SimulatedForum, tmp_path: Path
) -> None:
    release, sealer = _release(forum)
    feed = MemoryRecordFeed(BULLETINS_TOPIC)
    _put_release(feed, release)
    collector = BulletinCollector("AFR")
    collector.offer(_alert())
    async with _Node(forum, "node-b", tmp_path, feed) as node:
        stop = asyncio.Event()
        task = asyncio.create_task(node.follower.run(stop))

        async def one() -> bool:
            return (await node.store.counts()).in_force == 1

        feed.append(b"k", sealer.seal(await collector.take(force=True)))
        assert await node.follower.wait_for(one, 10.0)
        stop.set()
        await task


async def test_a_release_met_before_its_directory_waits_and_opens_what_came_meanwhile(
    tmp_path: Path,
) -> None:
    """The Secretariat publishes a new directory version and its group key at once; the
    node may read the key first. The release waits for the directory, and the batches
    sealed to the new key met meanwhile are opened once it arrives."""
    forum = SimulatedForum.create(tmp_path / "forum", PASSPHRASE, nodes=NODES)
    old = forum.directory
    forum.issue_directory()
    release, sealer = _release(forum)  # the new version's key
    assert release.directory_version == old.version + 1
    feed = MemoryRecordFeed(BULLETINS_TOPIC)
    _put_release(feed, release)
    collector = BulletinCollector("AFR")
    collector.offer(_alert())
    feed.append(b"k", sealer.seal(await collector.take(force=True)))
    held = [old]
    outbox = Outbox(tmp_path / "outbox.sqlite")
    store = BulletinStore(outbox)
    follower = BulletinFollower(
        store, feed, directory=lambda: held[0], node_key=forum.node("node-a").kem_key()
    )
    await outbox.start()
    try:
        assert await follower.read_to_end(5.0)
        assert await store.bulletins() == []  # no key yet: nothing opened, nothing lost
        assert not follower.keys_due()
        held[0] = forum.directory  # the node's directory follower got the new version
        assert follower.keys_due()
        await follower.handle([])
        (kept,) = await store.bulletins()
        assert kept.region == "AFR"
        assert follower.group_keys == 1
    finally:
        await follower.close()
        await outbox.stop()

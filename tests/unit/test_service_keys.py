"""What the node and aggregator services run with, without a broker (DESIGN §4 ⚑, §11 ⚑):
which keyring may serve what, the first directory read from ``dief.directory``, and the
node's intake directory.

The logic lives in :mod:`dief.node` and :mod:`dief.aggregator`; ``producers/node.py`` and
``consumers/aggregator.py`` only wire it (their end-to-end tests:
``tests/integration/test_services_forum.py``).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import pytest

import dief.aggregator
import dief.node
from dief.exceptions import ConfigurationError
from dief.kafka import DIRECTORY_TOPIC
from dief.keyring import DirectoryFollower, DirectoryHolder, PartyView, SimulatedForum, open_party
from dief.node import FileResult, Rejection, SubmitReport, watch_intake
from dief.testing import MemoryRecordFeed
from dief.vocab import Region

if TYPE_CHECKING:
    from pathlib import Path

PASSPHRASE = "service keys test"
FirstDirectory = Callable[..., Awaitable[None]]
FIRST_DIRECTORY: list[FirstDirectory] = [
    dief.node.first_directory,
    dief.aggregator.first_directory,
]


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory) -> SimulatedForum:
    return SimulatedForum.create(tmp_path_factory.mktemp("forum"), PASSPHRASE, nodes=["alpha"])


@pytest.fixture(scope="module")
def other_forum(tmp_path_factory: pytest.TempPathFactory) -> SimulatedForum:
    """A forum under another root: its directory must never be taken."""
    return SimulatedForum.create(tmp_path_factory.mktemp("other"), PASSPHRASE)


def _party(forum: SimulatedForum, folder: Path) -> PartyView:
    view = open_party(
        folder, PASSPHRASE, root_fingerprint=forum.root_fingerprint, directory=forum.directory.raw
    )
    assert isinstance(view, PartyView)
    return view


# -- which keyring may serve what -------------------------------------------------------


def test_a_region_keyring_serves_its_own_region_only(forum: SimulatedForum) -> None:
    afr = _party(forum, forum.path / "regions" / "AFR")

    holder = dief.aggregator.region_holder(afr, [Region.AFR])
    assert holder.require().version == forum.directory.version
    with pytest.raises(ConfigurationError, match=r"cannot aggregate APG.*--region AFR"):
        dief.aggregator.region_holder(afr, [Region.AFR, Region.APG])
    with pytest.raises(ConfigurationError, match="not a national node's"):
        dief.node.own_keys(afr, "alpha")


def test_a_node_keyring_cannot_run_an_aggregator(forum: SimulatedForum) -> None:
    node = _party(forum, forum.node_path("alpha"))

    with pytest.raises(ConfigurationError, match="not a region's"):
        dief.aggregator.region_holder(node, [Region.AFR])
    keys = dief.node.own_keys(node, "alpha")
    assert keys.holder.require().version == forum.directory.version
    assert repr(keys) == "OwnKeys(<secret>)"  # no key material in a repr


def test_a_simulated_forum_may_serve_every_region(forum: SimulatedForum) -> None:
    holder = dief.aggregator.region_holder(forum, list(Region))
    assert holder.require().version == forum.directory.version


# -- the first directory, from the topic -----------------------------------------------


@pytest.mark.parametrize("first_directory", FIRST_DIRECTORY)
async def test_no_directory_on_the_topic_refuses_to_start(
    first_directory: FirstDirectory, forum: SimulatedForum, other_forum: SimulatedForum
) -> None:
    """Nothing published, or only a directory of another root: no directory is taken."""
    feed = MemoryRecordFeed(DIRECTORY_TOPIC)
    holder = DirectoryHolder(forum.root_fingerprint)
    follower = DirectoryFollower(feed, holder, wait=0.01)
    with pytest.raises(ConfigurationError, match=r"no forum directory.*none was published"):
        await first_directory(follower, holder, seconds=0.1)

    feed.append(b"current", other_forum.directory.raw)
    with pytest.raises(ConfigurationError, match="no forum directory"):
        await first_directory(follower, holder, seconds=0.1)
    assert holder.current is None


@pytest.mark.parametrize("first_directory", FIRST_DIRECTORY)
async def test_the_first_directory_is_read_from_the_topic(
    first_directory: FirstDirectory, forum: SimulatedForum
) -> None:
    feed = MemoryRecordFeed(DIRECTORY_TOPIC)
    feed.append(b"current", forum.directory.raw)
    holder = DirectoryHolder(forum.root_fingerprint)

    await first_directory(DirectoryFollower(feed, holder, wait=0.01), holder, seconds=5.0)

    assert holder.require().version == forum.directory.version


# -- the intake directory ------------------------------------------------------------------


async def test_the_intake_posts_settled_case_files_and_files_them_away(tmp_path: Path) -> None:
    intake = tmp_path / "intake"
    intake.mkdir()
    settled = intake / "a.jsonl"
    settled.write_text("{}\n", encoding="utf-8")
    old = time.time() - 120
    os.utime(settled, (old, old))
    fresh = intake / "b.json"  # perhaps half-written: left for a later tick
    fresh.write_text("{}", encoding="utf-8")
    other = intake / "notes.txt"  # not a case file
    other.write_text("x", encoding="utf-8")
    os.utime(other, (old, old))
    stop = asyncio.Event()
    posted: list[str] = []
    refusal = Rejection(line=1, case_id=None, reason="invalid", message="field missing")

    async def post(path: Path) -> FileResult:
        posted.append(path.name)
        stop.set()  # the watcher finishes this file, then stops
        return FileResult(path, SubmitReport(rejected=[refusal]))

    async with asyncio.timeout(10):
        await watch_intake(intake, post, stop, settle_seconds=60.0, tick_seconds=0.01)

    assert posted == ["a.jsonl"]
    assert not settled.exists()
    assert (intake / "done" / "a.jsonl").is_file()
    report = (intake / "done" / "a.jsonl.rejected.jsonl").read_text(encoding="utf-8")
    assert '"invalid"' in report
    assert fresh.is_file()
    assert other.is_file()

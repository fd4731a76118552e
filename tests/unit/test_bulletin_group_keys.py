"""The Secretariat issues the bulletin group key (issue 18, DESIGN §4 ⚑, §13): one release per
directory version, kept in its database across restarts and published again unchanged, never
a new key for the same version; a node removed from a version gets no copy, and a region
seals to the release of the directory it holds, not an older one."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from dief.bulletins import GROUP_KEY_PREFIX, RegionBulletins
from dief.database import sqlite_url
from dief.exceptions import DirectoryError
from dief.keyring import ForumDirectory, KeyRole, SimulatedForum, open_bulletin_group_key
from dief.secretariat import GroupKeyIssuer, GroupKeyStore
from dief.testing import MemoryRecordSink
from dief.wire import BulletinGroupKeyRelease

if TYPE_CHECKING:
    from pathlib import Path

PASSPHRASE = "group-key-test-passphrase"


def _issuer(forum: SimulatedForum, store: GroupKeyStore, sink: MemoryRecordSink) -> GroupKeyIssuer:
    ring = forum.secretariat().ring
    return GroupKeyIssuer(
        store, lambda d: ring.signing_key(d.document.certificate.subject_kid), sink
    )


def _revoke(forum: SimulatedForum, name: str) -> None:
    sec = forum.secretariat()
    kid = forum.node(name).kem_key().kid
    gone = next(r for r in sec.state().registry if r.kem.kid == kid)
    sec.revoke_node(gone.registration_kid)


async def test_one_release_per_directory_version_kept_across_restarts(tmp_path: Path) -> None:
    forum = SimulatedForum.create(tmp_path / "forum", PASSPHRASE, nodes=("a", "b"))
    url = sqlite_url(tmp_path / "secretariat.sqlite")
    sink = MemoryRecordSink()
    async with GroupKeyStore(url) as store:
        first = await _issuer(forum, store, sink).publish(forum.directory)
    async with GroupKeyStore(url) as store:  # the Secretariat restarted
        again = await _issuer(forum, store, sink).publish(forum.directory)
    assert again == first
    sent = sink.on("dief.bulletins")
    assert [s.key for s in sent] == [GROUP_KEY_PREFIX + b"v1"] * 2
    assert sent[0].value == sent[1].value  # the same release, byte for byte
    for name in ("a", "b"):
        key = open_bulletin_group_key(first, forum.directory, forum.node(name).kem_key())
        assert key.kid == first.group_kid


async def test_two_issuers_racing_on_one_version_keep_the_first(tmp_path: Path) -> None:
    forum = SimulatedForum.create(tmp_path / "forum", PASSPHRASE, nodes=("a",))
    url = sqlite_url(tmp_path / "secretariat.sqlite")
    async with GroupKeyStore(url) as one, GroupKeyStore(url) as two:
        made = await asyncio.gather(
            _issuer(forum, one, MemoryRecordSink()).release_for(forum.directory),
            _issuer(forum, two, MemoryRecordSink()).release_for(forum.directory),
        )
        held = await one.held(forum.directory.version)
    assert held is not None
    assert {r.group_kid for r in made} == {held.group_kid}


async def test_a_removed_node_gets_no_copy_and_regions_seal_to_the_newest_release(
    tmp_path: Path,
) -> None:
    forum = SimulatedForum.create(tmp_path / "forum", PASSPHRASE, nodes=("a", "b", "gone"))
    sink = MemoryRecordSink()
    async with GroupKeyStore(sqlite_url(tmp_path / "s.sqlite")) as store:
        issuer = _issuer(forum, store, sink)
        old = await issuer.publish(forum.directory)
        _revoke(forum, "gone")
        forum.issue_directory()
        new = await issuer.publish(forum.directory)
    assert new.directory_version == old.directory_version + 1
    assert new.group_kid != old.group_kid
    with pytest.raises(DirectoryError) as err:
        open_bulletin_group_key(new, forum.directory, forum.node("gone").kem_key())
    assert err.value.code == "not_registered"
    assert open_bulletin_group_key(new, forum.directory, forum.node("a").kem_key()).kid == (
        new.group_kid
    )

    held: list[ForumDirectory] = [forum.directory]
    region = RegionBulletins(
        ["AFR"],
        signing_key=lambda r: forum.signing_key(KeyRole.REGION, r),
        directory=lambda: held[0],
        sink=MemoryRecordSink(),
    )
    assert not region.take_release(old.model_dump_json().encode())  # an older version's
    assert region.take_release(new.model_dump_json().encode())
    assert "keyed=True" in repr(region)


async def test_a_kept_release_that_no_longer_verifies_is_not_published(tmp_path: Path) -> None:
    forum = SimulatedForum.create(tmp_path / "forum", PASSPHRASE, nodes=("a",))
    sink = MemoryRecordSink()
    async with GroupKeyStore(sqlite_url(tmp_path / "s.sqlite")) as store:
        release = await _issuer(forum, store, sink).release_for(forum.directory)
        other = BulletinGroupKeyRelease.model_validate(
            release.model_dump() | {"directory_version": release.directory_version + 7}
        )
        await store.keep(other)  # a row written by someone else, for a later version
        forum.issue_directory()
        while forum.directory.version < other.directory_version:
            forum.issue_directory()
        with pytest.raises(DirectoryError):
            await _issuer(forum, store, sink).publish(forum.directory)
    assert len(sink.on("dief.bulletins")) == 0

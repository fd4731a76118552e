"""The closed-period digest schedule: a pass at start, only changes later, failures logged
and retried without stopping it, a clean stop."""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import TYPE_CHECKING

import pytest
from pydantic import SecretStr

import consumers.aggregator
from dief.aggregator.store import CaseStore
from dief.database import sqlite_url
from dief.digests import (
    DigestSchedule,
    PublishedDigest,
    SchedulePass,
    closed_period_publisher,
    closed_periods,
    issuer_from_keyring,
    parse_payload,
    today_of,
)
from dief.exceptions import ConfigurationError, KeyNotFoundError, KeyringError, StorageError
from dief.kafka import DIGESTS_TOPIC
from dief.keyring import KeyRole, SimulatedForum, open_party
from dief.settings import AggregatorSettings, KeyringSettings
from dief.testing import FakeClock, MemoryRecordSink
from dief.vocab import Region
from tests.unit.secretariat_support import CATALOGUE, KEYS, NOW, fill, issuer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence
    from pathlib import Path

AFR, EEG = Region.AFR, Region.EEG
TIME_LIMIT = 10.0


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        await fill(s, 11, (AFR, EEG))
        yield s


class Passes:
    """A PassHook that lets a test wait for the n-th pass."""

    def __init__(self) -> None:
        self.seen: list[SchedulePass] = []
        self._changed = asyncio.Event()

    def __call__(self, done: SchedulePass) -> None:
        self.seen.append(done)
        self._changed.set()

    async def wait_for(self, n: int) -> list[SchedulePass]:
        async with asyncio.timeout(TIME_LIMIT):
            while len(self.seen) < n:
                self._changed.clear()
                await self._changed.wait()
        return self.seen


async def test_first_pass_at_start_issues_every_closed_period_then_only_changes(
    store: CaseStore,
) -> None:
    sink = MemoryRecordSink()
    issuers = {r: issuer(r, sink) for r in (AFR, EEG)}
    passes = Passes()
    schedule = DigestSchedule(
        [AFR, EEG],
        closed_period_publisher(store, issuers),
        interval=3600,
        clock=FakeClock(NOW),
        on_pass=passes,
    )
    schedule.start()
    try:
        (first,) = await passes.wait_for(1)
    finally:
        await schedule.stop()
    assert not schedule.running
    day = today_of(FakeClock(NOW))
    assert first.ok
    assert first.day == day == date(2026, 9, 1)
    for region in (AFR, EEG):
        expected = closed_periods(await store.periods_with_data(region.value), day)
        assert [d.period for d in first.published if d.region is region] == expected
    assert {d.version for d in first.published} == {1}
    assert len(sink.on(DIGESTS_TOPIC)) == len(first.published)
    payload = parse_payload(KEYS.opener().open(sink.sent[0].value).payload, KEYS.keys_for)
    assert payload.digest.notes.lessons_omitted  # no opener given
    # a later pass over unchanged data issues nothing
    again = await schedule.run_once()
    assert again.ok
    assert again.published == ()


async def test_a_failing_region_is_logged_and_retried_without_stopping_the_schedule(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[Region] = []

    async def flaky(region: Region, day: date) -> Sequence[PublishedDigest]:
        calls.append(region)
        if region is AFR and calls.count(AFR) == 1:
            raise StorageError("database is locked at aggregator.sqlite")
        if region is EEG and calls.count(EEG) == 2:
            raise RuntimeError("an unforeseen bug")
        return [PublishedDigest(region, "CSP12", calls.count(region), "h", 1)]

    passes = Passes()
    # hourly, but a failed pass is retried after the (short) retry delay
    schedule = DigestSchedule([AFR, EEG], flaky, interval=3600, on_pass=passes, retry_initial=0.01)
    with caplog.at_level(logging.ERROR, logger="dief.digests"):
        schedule.start()
        try:
            first, second, third = await passes.wait_for(3)
            assert schedule.running  # still alive after two failed passes
        finally:
            await schedule.stop()
    assert first.failed == ((AFR, "database is locked at aggregator.sqlite"),)
    assert [d.region for d in first.published] == [EEG]  # one failure does not stop the pass
    assert second.failed == ((EEG, "RuntimeError"),)
    assert third.ok
    assert [d.version for d in third.published] == [3, 3]
    messages = [r.getMessage() for r in caplog.records]
    assert (
        "AFR: digests not published (database is locked at aggregator.sqlite); "
        "retrying later" in messages
    )
    assert any(r.exc_info is not None for r in caplog.records)  # the bug with its traceback


async def test_stop_waits_for_the_pass_in_hand_and_cancels_it_after_the_grace() -> None:
    started = asyncio.Event()
    finished: list[Region] = []

    async def slow(region: Region, day: date) -> Sequence[PublishedDigest]:
        started.set()
        await asyncio.sleep(0.05)
        finished.append(region)
        return []

    schedule = DigestSchedule([AFR], slow, interval=3600)
    schedule.start()
    await asyncio.wait_for(started.wait(), TIME_LIMIT)
    await schedule.stop()
    assert finished == [AFR]
    assert not schedule.running

    stuck = asyncio.Event()

    async def hangs(region: Region, day: date) -> Sequence[PublishedDigest]:
        stuck.set()
        await asyncio.Event().wait()
        return []

    schedule = DigestSchedule([AFR], hangs, interval=3600)
    schedule.start()
    await asyncio.wait_for(stuck.wait(), TIME_LIMIT)
    await asyncio.wait_for(schedule.stop(grace=0.05), TIME_LIMIT)
    assert not schedule.running


def test_the_interval_is_positive() -> None:
    async def nothing(region: Region, day: date) -> Sequence[PublishedDigest]:
        return []

    with pytest.raises(ConfigurationError, match="positive"):
        DigestSchedule([AFR], nothing, interval=0)


def test_issuer_from_keyring_uses_the_region_key_and_the_secretariat_kem_keys(
    tmp_path: Path,
) -> None:
    forum = SimulatedForum.create(tmp_path / "keys", "test")
    made = issuer_from_keyring(forum, EEG, MemoryRecordSink(), catalogue=CATALOGUE, k_meeting=3)
    assert made.signer.kid == forum.signing_key(KeyRole.REGION, "EEG").kid
    assert [k.kid for k in made.recipients] == [
        k.kid for k in forum.sealing_keys(KeyRole.SECRETARIAT)
    ]
    assert (made.region, made.k_meeting) == (EEG, 3)
    # another region's own keys and the directory: no EEG signing key to issue with
    afr = open_party(
        tmp_path / "keys" / "regions" / "AFR",
        "test",
        root_fingerprint=forum.root_fingerprint,
        directory=(tmp_path / "keys" / "directory.json").read_bytes(),
    )
    with pytest.raises(KeyringError):
        issuer_from_keyring(afr, EEG, MemoryRecordSink(), catalogue=CATALOGUE)


async def test_the_aggregator_service_refuses_to_start_without_the_keys_to_issue_digests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_key(ring: object, region: Region, *args: object, **kwargs: object) -> None:
        raise KeyNotFoundError(f"no active region {region.value} signing key")

    monkeypatch.setattr(consumers.aggregator, "issuer_from_keyring", no_key)
    SimulatedForum.create(tmp_path / "keys", "test")
    settings = AggregatorSettings(
        regions=[AFR],
        keyring=KeyringSettings(path=tmp_path / "keys"),
        database_url=SecretStr(sqlite_url(tmp_path / "agg.db")),
    )
    service = consumers.aggregator.AggregatorService(settings, SecretStr("test"))
    with pytest.raises(ConfigurationError, match=r"no active region AFR signing key \(DIEF_DIG"):
        await service.start()
    await service.stop()
    assert not (tmp_path / "agg.db").exists()  # refused before opening anything

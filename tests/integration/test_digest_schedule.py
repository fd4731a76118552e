"""Digests "on every closed month and on demand" on the embedded broker.

The aggregator service (in process, as ``dief aggregate`` runs it) issues every closed period
of its regions at start; ``dief publish-digests`` (a subprocess) re-issues one with a higher
version; a late revision of a closed month is re-issued by a later scheduled pass; a pass
over unchanged data issues nothing; the service stops cleanly.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pydantic import SecretStr

from consumers.aggregator import AggregatorService
from dief.aggregator.store import CaseStore
from dief.crypto import Opener
from dief.database import sqlite_url
from dief.digests import DigestPayload, SchedulePass, closed_periods, content_hash, parse_payload
from dief.kafka import DIGESTS_TOPIC
from dief.keyring import KeyRole
from dief.settings import AggregatorSettings, KafkaSettings, KeyringSettings
from dief.testing import FakeClock
from dief.vocab import Region
from tests.integration._pipeline_helpers import (
    PASSPHRASE,
    TODAY,
    Forum,
    Nodes,
    case_doc,
    read_topic,
    revise,
    running_aggregators,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from aiokafka import ConsumerRecord

    from dief.broker import EmbeddedBroker

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DIEF = Path(sys.executable).parent / "dief"
AFR, EEG = Region.AFR, Region.EEG
MONTHS = ("2026-01", "2026-02", "2026-05")  # closed on TODAY (June); 2026-06 is not
SUBMITTERS = ("S-ONE", "S-TWO", "S-THREE")
TIME_LIMIT = 60.0
#: The helpers' TODAY at noon UTC.
NOON = datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC).timestamp()


class Passes:
    def __init__(self) -> None:
        self.seen: list[SchedulePass] = []
        self._changed = asyncio.Event()

    def __call__(self, done: SchedulePass) -> None:
        self.seen.append(done)
        self._changed.set()

    async def until(self, n: int) -> SchedulePass:
        """The n-th pass (1-based), once it has happened."""
        async with asyncio.timeout(TIME_LIMIT):
            while len(self.seen) < n:
                self._changed.clear()
                await self._changed.wait()
        return self.seen[n - 1]


def _payloads(forum: Forum, records: Iterable[ConsumerRecord]) -> list[DigestPayload]:
    opener = Opener(forum.ring.opening_keys(KeyRole.SECRETARIAT))
    out = []
    for record in records:
        payload = parse_payload(
            opener.open(record.value).payload,
            lambda r: forum.ring.verify_keys(KeyRole.REGION, r.value),
        )
        assert record.key == payload.region.value.encode()
        out.append(payload)
    return out


async def test_closed_periods_at_start_on_demand_and_after_a_late_revision(
    module_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    bootstrap = module_broker.bootstrap
    forum = Forum(tmp_path / "keys")
    database = sqlite_url(tmp_path / "aggregator.sqlite")
    docs = [
        case_doc(SUBMITTERS[i % 3], region.value, detected=MONTHS[i % 3])
        for region in (AFR, EEG)
        for i in range(9)
    ]

    # cases applied before the service starts
    nodes = Nodes(forum, bootstrap, tmp_path)
    try:
        async with CaseStore(database) as store:
            async with running_aggregators(bootstrap, forum, store, (AFR, EEG)) as processed:
                sent = await nodes.post(docs)
                await processed.wait_for(len(sent), time_limit=TIME_LIMIT)
            with_data = {r: await store.periods_with_data(r.value) for r in (AFR, EEG)}
        expected = {(r, p) for r in (AFR, EEG) for p in closed_periods(with_data[r], TODAY)}
        assert ("AFR", "2026-Q1") in {(r.value, p) for r, p in expected}
        assert not any(p in {"2026-06", "2026-Q2", "CSP12"} for _r, p in expected)

        settings = AggregatorSettings(
            regions=[AFR, EEG],
            kafka=KafkaSettings(bootstrap=bootstrap, embedded=True),
            keyring=KeyringSettings(path=forum.path),
            database_url=SecretStr(database),
            digest_interval=2.0,
        )
        passes = Passes()
        service = AggregatorService(settings, SecretStr(PASSPHRASE), clock=FakeClock(NOON))
        await service.start(on_digests=passes)
        try:
            # at start: every closed period of both regions, version 1
            first = await passes.until(1)
            assert first.ok, first.failed
            assert {(d.region, d.period) for d in first.published} == expected
            assert {d.version for d in first.published} == {1}
            issued = _payloads(forum, await read_topic(bootstrap, DIGESTS_TOPIC, len(expected)))
            assert {(p.region, p.period, p.version) for p in issued} == {
                (r, p, 1) for r, p in expected
            }
            assert all(p.issued_at == datetime(2026, 6, 15, 12, tzinfo=UTC) for p in issued)

            # on demand: a re-issue of AFR 2026-01 carries version 2, same content
            pass_file = tmp_path / "passphrase"
            pass_file.write_text(PASSPHRASE + "\n", encoding="utf-8")
            command = [
                str(DIEF), "publish-digests", "--region", "AFR", "--period", "2026-01",
                "--database-url", database, "--keys", str(forum.path),
                "--passphrase-file", str(pass_file), "--bootstrap", bootstrap, "--embedded",
            ]  # fmt: skip
            shown = await asyncio.to_thread(
                subprocess.run,
                command,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=TIME_LIMIT,
                check=False,
            )
            assert shown.returncode == 0, shown.stderr
            assert shown.stdout.startswith("AFR 2026-01 version 2 ("), shown.stdout
            # a scheduled pass after the re-issue: nothing changed, nothing issued
            quiet = await passes.until(len(passes.seen) + 1)
            assert quiet.ok, quiet.failed
            assert quiet.published == ()
            records = await read_topic(bootstrap, DIGESTS_TOPIC, len(expected) + 1)
            reissue = _payloads(forum, records)[len(expected)]
            (original,) = [p for p in issued if (p.region, p.period) == (AFR, "2026-01")]
            assert (reissue.region, reissue.period, reissue.version) == (AFR, "2026-01", 2)
            assert content_hash(reissue) == content_hash(original)

            # a late revision of a closed month: later passes re-issue what it changed
            late = docs[1]
            assert (late["region"], late["detected"]) == ("AFR", "2026-02")
            seen = len(passes.seen)
            await nodes.post([revise(late, 2, methods=["shell_company"])])
            reissued: list[tuple[Region, str, int]] = []
            # the month, its quarter and its half-cycle (CSP12-H1, closed since March)
            changed = {(AFR, "2026-02"), (AFR, "2026-Q1"), (AFR, "CSP12-H1")}
            while not changed <= {(r, p) for r, p, _v in reissued}:
                seen += 1
                done = await passes.until(seen)
                assert done.ok, done.failed
                reissued.extend((d.region, d.period, d.version) for d in done.published)
            # ... and at most the digests that show a table it changed: January shows the
            # checklist window 2025-Q2 to 2026-Q1 (February's methods in it), which the
            # re-issue decides again (a window whose data changed may hide an entry anew:
            # its earlier count is no longer linked, docs/audit.md "Cells published earlier")
            may_change = changed | {(AFR, "2026-01")}
            versions = {(r, p): v for r, p, v in reissued}
            assert len(versions) == len(reissued)  # each re-issued once
            assert changed <= versions.keys() <= may_change
            # one version more than the last: January had its on-demand re-issue (2)
            assert versions == {key: 3 if key == (AFR, "2026-01") else 2 for key in versions}
        finally:
            await asyncio.wait_for(service.stop(), 30.0)
    finally:
        await nodes.close()
    assert len(passes.seen) >= 3

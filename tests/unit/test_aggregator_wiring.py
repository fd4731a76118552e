"""register_aggregators: the FastStream batch subscribers, on two brokers with one test body.

``memory`` is FastStream's in-memory ``TestKafkaBroker``: it runs the handler inline on
publish with a one-record batch (a ``list``, where the real consumer hands a ``tuple``)
and offset 0. ``embedded`` is the real Tansu broker (integration-marked). The records are
signed and sealed here as nodes do (``tests.unit.record_helpers``) and the expected cells
are written by hand.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage  # noqa: TC002  FastStream reads a handler's annotations at run time

from consumers.aggregator import register_aggregators
from dief.aggregator import BatchReport, RegionAggregator
from dief.aggregator.store import CaseStore
from dief.broker import EmbeddedBroker
from dief.catalogue import load_catalogue
from dief.crypto.envelope import Opener, Sealer
from dief.database import sqlite_url
from dief.digests import issuer_from_keyring
from dief.kafka import KafkaDeadLetterSink, cases_topic, dlq_topic, make_broker
from dief.keyring import KeyRole, SimulatedForum
from dief.settings import KafkaSettings
from dief.testing import FakeCredentials, MemoryRecordSink
from dief.vocab import Region
from dief.wire import TYPE_CASE, parse_case
from tests.unit.record_helpers import seal_record, signed_record

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Iterator
    from pathlib import Path


#: two nodes' secrets: their pseudonyms and owner keys derive from them
WHO_1 = b"a" * 32
WHO_2 = b"b" * 32


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> SimulatedForum:
    return SimulatedForum.create(tmp_path_factory.mktemp("forum") / "keys", "pw")


@dataclass
class Kafka:
    """A FastStream broker and how to run it: in memory, or against the embedded Tansu."""

    broker: KafkaBroker
    running: AbstractAsyncContextManager[object]


@asynccontextmanager
async def _real(broker: KafkaBroker) -> AsyncGenerator[object, None]:
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


@pytest.fixture(
    params=["memory", pytest.param("embedded", marks=[pytest.mark.integration])],
)
async def kafka(request: pytest.FixtureRequest) -> AsyncIterator[Kafka]:
    if request.param == "memory":
        broker = make_broker(KafkaSettings(bootstrap="127.0.0.1:9", embedded=True))
        yield Kafka(broker, TestKafkaBroker(broker))
        return
    async with EmbeddedBroker() as tansu:
        broker = make_broker(KafkaSettings(bootstrap=tansu.bootstrap, embedded=True))
        yield Kafka(broker, _real(broker))


def sealed(
    ring: SimulatedForum, doc: dict[str, object], *, index: int, revision: int, who: bytes
) -> tuple[str, bytes]:
    """The case id and sealed ``dief.case`` record node *who* makes of *doc* (its case
    *index*, its *revision*), sealed for the case's region."""
    case = parse_case(doc, today=date(2026, 6, 1))
    rec = signed_record(case, secret=who, index=index, revision=revision)
    region = str(case.region)
    sealer = Sealer(
        type=TYPE_CASE, region=region, recipients=ring.sealing_keys(KeyRole.REGION, region)
    )
    return rec.case_id, seal_record(sealer, rec)


def doc(region: str, detected: str, methods: list[str], **more: object) -> dict[str, object]:
    return {
        "confidence": "suspected",
        "region": region,
        "detected": detected,
        "items": [{"category": "small_arms", "quantity": 5}],
        "transfer_stage": "in_transit",
        "methods": methods,
        "transport_modes": ["land"],
        "end_user_type": "unknown",
        "risk_indicators": [],
        "detection_source": "other",
        "actions_taken": [],
        **more,
    }


def records(ring: SimulatedForum) -> Iterator[tuple[str, bytes, bytes]]:
    """(topic, key, value): case X (two revisions), case Y, and case Z of APG that names AFR
    on its route (it goes to APG only: AFR learns of it through route tables)."""
    afr, apg = cases_topic("AFR"), cases_topic("APG")
    x, value = sealed(ring, doc("AFR", "2026-01", ["corruption"]), index=1, revision=1, who=WHO_1)
    yield afr, x.encode(), value
    x2, value = sealed(
        ring,
        doc("AFR", "2026-02", ["corruption", "shell_company"]),
        index=1,
        revision=2,
        who=WHO_1,
    )
    assert x2 == x
    yield afr, x.encode(), value
    y, value = sealed(
        ring, doc("AFR", "2026-02", ["shell_company"]), index=1, revision=1, who=WHO_2
    )
    yield afr, y.encode(), value
    z_doc = doc("APG", "2026-03", ["theft_or_loss"], related_regions=["AFR"])
    z, value = sealed(ring, z_doc, index=2, revision=1, who=WHO_2)
    yield apg, z.encode(), value


class Reports:
    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()
        self.changed = asyncio.Event()

    def __call__(self, _region: Region, report: BatchReport) -> None:
        self.outcomes.update(report.outcomes)
        self.changed.set()

    async def wait_for(self, n: int, time_limit: float = 20.0) -> None:
        deadline = time.monotonic() + time_limit
        while sum(self.outcomes.values()) < n:
            self.changed.clear()
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"only {dict(self.outcomes)} of {n} records processed"
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                continue


async def test_batches_become_cells(kafka: Kafka, ring: SimulatedForum, tmp_path: Path) -> None:
    reports = Reports()
    async with CaseStore(sqlite_url(tmp_path / "agg.sqlite")) as store:
        aggregators = {
            r: RegionAggregator(
                r,
                Opener(ring.opening_keys(KeyRole.REGION, r.value)),
                store,
                KafkaDeadLetterSink(kafka.broker, r),
                credentials=FakeCredentials(),
            )
            for r in (Region.AFR, Region.APG)
        }
        register_aggregators(kafka.broker, aggregators, embedded=True, on_report=reports)
        published = list(records(ring))
        async with kafka.running:
            for topic, key, value in published:
                await kafka.broker.publish(value, topic=topic, key=key)
            await reports.wait_for(len(published))
        assert reports.outcomes == {"applied": 4}

        afr = await store.cell_rows("AFR", ["2026-01", "2026-02", "2026-Q1", "CSP12"])
        got = {
            (r.period, r.dimension, r.value): (r.count, r.contributors)
            for r in afr
            if r.dimension in {"_total", "method"}
        }
        assert got == {
            # X revision 2 (2026-02, WHO_1) replaced revision 1 (2026-01); Y (2026-02, WHO_2)
            ("2026-02", "_total", "_all"): (2, 2),
            ("2026-02", "method", "corruption"): (1, 1),
            ("2026-02", "method", "shell_company"): (2, 2),
            ("2026-Q1", "_total", "_all"): (2, 2),
            ("2026-Q1", "method", "corruption"): (1, 1),
            ("2026-Q1", "method", "shell_company"): (2, 2),
            ("CSP12", "_total", "_all"): (2, 2),
            ("CSP12", "method", "corruption"): (1, 1),
            ("CSP12", "method", "shell_company"): (2, 2),
        }
        apg = await store.cell_rows("APG", ["2026-03"])
        assert {(r.dimension, r.value, r.count) for r in apg} == {
            ("_total", "_all", 1),
            ("method", "theft_or_loss", 1),
            ("kind", "case", 1),
            ("confidence", "suspected", 1),
            ("item_category", "small_arms", 1),
            ("transfer_stage", "in_transit", 1),
            ("transfer_type", "unknown", 1),
            ("transport_mode", "land", 1),
            ("end_user_type", "unknown", 1),
            ("detection_source", "other", 1),
        }
        assert await store.outcome_counts("AFR") == {"applied": 3}


async def test_bad_records_reach_the_dlq(
    kafka: Kafka, ring: SimulatedForum, tmp_path: Path
) -> None:
    reports = Reports()
    letters: list[tuple[bytes | None, bytes | None, dict[str, bytes]]] = []
    arrived = asyncio.Event()

    @kafka.broker.subscriber(dlq_topic("AFR"), auto_offset_reset="earliest")
    async def dlq(msg: KafkaMessage) -> None:
        raw = msg.raw_message
        assert not isinstance(raw, tuple)
        letters.append((raw.key, raw.value, dict(raw.headers)))
        arrived.set()

    async with CaseStore(sqlite_url(tmp_path / "agg.sqlite")) as store:
        opener = Opener(ring.opening_keys(KeyRole.REGION, "AFR"))
        aggregator = RegionAggregator(
            Region.AFR,
            opener,
            store,
            KafkaDeadLetterSink(kafka.broker, Region.AFR),
            credentials=FakeCredentials(),
        )
        register_aggregators(
            kafka.broker, {Region.AFR: aggregator}, embedded=True, on_report=reports
        )
        good = next(iter(records(ring)))
        bad = [(b"k1", b"not an envelope"), (b"k2", good[2][:100])]
        async with kafka.running:
            for key, value in bad:
                await kafka.broker.publish(value, topic=cases_topic("AFR"), key=key)
            await kafka.broker.publish(good[2], topic=good[0], key=good[1])
            await reports.wait_for(3)
            while len(letters) < len(bad):
                arrived.clear()
                await asyncio.wait_for(arrived.wait(), 20)
        assert reports.outcomes == {"applied": 1, "dlq:malformed": 2}
        assert sorted((k, v) for k, v, _ in letters) == sorted(bad)
        assert all(h["dief-reason"] == b"malformed" for _, _, h in letters)
        assert await store.dead_letter_counts("AFR") == {"malformed": 2}


def test_route_tables_go_to_the_region_keys_the_directory_lists_when_sealed(
    tmp_path: Path,
) -> None:
    """The aggregator's route issuer (issued with its digests) looks each receiving region's
    KEM keys up in the directory at each table: a rotation needs no restart."""
    forum = SimulatedForum.create(tmp_path / "keys", "pw")
    issuer = issuer_from_keyring(
        forum, Region.AFR, MemoryRecordSink(), catalogue=load_catalogue(), routes=True, k_csp=4
    )
    routes = issuer.routes
    assert routes is not None
    assert (routes.k_meeting, routes.k_csp) == (issuer.k_meeting, 4)
    assert set(routes.recipients) == set(Region) - {Region.AFR}
    before = {k.kid for k in routes.recipients[Region.APG]}
    assert before == {k.kid for k in forum.sealing_keys(KeyRole.REGION, "APG")}
    sec = forum.secretariat()
    sec.add_region(forum.region("APG").endorse_kem())
    forum.issue_directory()
    after = {k.kid for k in routes.recipients[Region.APG]}
    assert before < after
    assert len(after) == 2
    assert (
        issuer_from_keyring(
            forum, Region.AFR, MemoryRecordSink(), catalogue=load_catalogue()
        ).routes
        is None
    )

"""The aggregator trusts nothing and never stalls: about 1,500 generated hostile records
(about 100 per class, :mod:`hostile`) interleaved with a few hundred good ones, in random
order and random batch sizes, through ``RegionAggregator.handle`` on SQLite and PostgreSQL.

At the end the stored cells are exactly those computed independently from the plain good
input (``_pipeline_helpers.expected_cells``), every hostile record was dead-lettered exactly
once with its expected reason, replays were absorbed as duplicates, and every good record
applied once. The time per hostile record (all handle time / hostile records) is printed.

The scenario is on the trust model: its nodes are registered in the test's simulated forum
and post with real RFC 9474 contributor tokens from its issuer, and the aggregator verifies
them with the forum's real check (``SimulatedIssuer.verifier()``), never a stand-in.

Focused tests follow: the genuine record's exact bytes refused first under another record
key, or on another region's topic (by that region's aggregator sharing the database), must
not make the genuine record a duplicate (both failed before commit d3ff93d, which made only
applied records duplicates); a record with no key must be a ``key_mismatch``; and every way
a token can fail to verify (an invented one, the stand-in issuer's that a stand-in check
accepts, a rogue issuer's, a real RFC 9474 token under a key not in the directory, another
pair's genuine token) is refused by the real check.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from typing import TYPE_CHECKING

import pytest

from dief.aggregator import RegionAggregator
from dief.aggregator.store import CaseStore
from dief.credentials import SimulatedIssuer, SimulatedNode
from dief.crypto import Opener
from dief.kafka import cases_topic
from dief.keyring import KeyRole, SimulatedForum
from dief.seams import ContributorCredential, InboundRecord
from dief.testing import FakeCredentials, MemoryDeadLetterSink
from dief.vocab import Region
from dief.wire import SUITE_X25519, CaseRecord
from tests.integration._pipeline_helpers import (
    DATABASE_KINDS,
    database_url,
    expected_cells,
    periods_of,
    store_cells,
)
from tests.integration.hostile import (
    BAD_CREDENTIALS,
    HOSTILE_CLASSES,
    REPLAY,
    World,
    build_scenario,
    scenario_nodes,
)

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration

SEED = 20260615
MAX_BATCH = 200


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> SimulatedForum:
    path = tmp_path_factory.mktemp("forum") / "keys"
    return SimulatedForum.create(path, "pw", suite=SUITE_X25519)


@pytest.fixture(scope="module")
def issuer(ring: SimulatedForum) -> SimulatedIssuer:
    """The forum's credential issuer (the Secretariat's, in process)."""
    return SimulatedIssuer(ring)


@pytest.fixture(scope="module")
def nodes(issuer: SimulatedIssuer) -> dict[str, SimulatedNode]:
    """The scenario's nodes, registered, each with a real token for every region of the
    scenario's cycles."""
    return scenario_nodes(issuer)


def aggregator(
    ring: SimulatedForum,
    issuer: SimulatedIssuer,
    store: CaseStore,
    sink: MemoryDeadLetterSink,
    region: Region = Region.AFR,
) -> RegionAggregator:
    """*region*'s aggregator as the services run it: its own opening keys, and the real
    token check under the directory's issuer keys."""
    opener = Opener(ring.opening_keys(KeyRole.REGION, region.value))
    return RegionAggregator(region, opener, store, sink, credentials=issuer.verifier())


@pytest.mark.parametrize("kind", DATABASE_KINDS)
async def test_hostile_records_are_dead_lettered_and_good_ones_counted_exactly(
    ring: SimulatedForum,
    issuer: SimulatedIssuer,
    nodes: dict[str, SimulatedNode],
    kind: str,
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    scenario = build_scenario(ring, nodes, rng)
    deliveries = scenario.interleave(rng)
    topic = cases_topic(Region.AFR)
    records = [
        InboundRecord(topic, 0, offset, d.key, d.value) for offset, d in enumerate(deliveries)
    ]
    expected_letters = {o: (d.kind, d.reason) for o, d in enumerate(deliveries) if d.reason}
    hostile = len(expected_letters)
    kinds = Counter(d.kind for d in deliveries)
    assert set(HOSTILE_CLASSES) <= kinds.keys()

    sink = MemoryDeadLetterSink()
    outcomes: Counter[str] = Counter()
    elapsed = 0.0
    batches = 0
    async with database_url(kind, tmp_path) as url, CaseStore(url) as store:
        agg = aggregator(ring, issuer, store, sink)
        start = 0
        while start < len(records):
            batch = records[start : start + rng.randint(1, MAX_BATCH)]
            began = time.perf_counter()
            report = await agg.handle(batch)
            elapsed += time.perf_counter() - began
            assert report.received == len(batch)
            outcomes.update(report.outcomes)
            start += len(batch)
            batches += 1

        expected = {
            include_red: expected_cells(scenario.good_docs, include_red=include_red)
            for include_red in (True, False)
        }
        periods = periods_of(expected[True])
        stored = {
            include_red: {
                r.value: await store_cells(store, r.value, periods, include_red=include_red)
                for r in Region
            }
            for include_red in (True, False)
        }
        cases = {c.case_id: (c.revision, c.status) for c in await store.stored_cases("AFR")}
        dead_counts = await store.dead_letter_counts("AFR")

    print(  # noqa: T201  figures printed for the test log (pytest -s)
        f"\n[{kind}] {hostile} hostile records among {len(records)} in {batches} batches: "
        f"handle {elapsed:.3f} s in all, {elapsed / hostile * 1e6:.0f} us per hostile record"
    )

    # (1) the cells are exactly those of the plain good input; other regions count nothing
    for include_red in (True, False):
        assert stored[include_red]["AFR"] == expected[include_red]["AFR"]
        assert {r: c for r, c in stored[include_red].items() if r != "AFR" and c} == {}
    assert cases == scenario.final

    # (2) every hostile record dead-lettered exactly once, with its expected reason
    letters = Counter(d.record.offset for d in sink.sent)
    assert {o: n for o, n in letters.items() if n != 1} == {}
    actual = {d.record.offset: (deliveries[d.record.offset].kind, d.reason) for d in sink.sent}
    assert Counter(actual.values()) == Counter(expected_letters.values())
    assert actual == expected_letters
    assert all(d.record is records[d.record.offset] for d in sink.sent)
    assert dead_counts == dict(Counter(reason for _, reason in expected_letters.values()))

    # (3) every good record applied once; replays absorbed as duplicates
    assert outcomes == Counter(
        {
            "applied": kinds["good"] + kinds["decoy"],
            "duplicate": kinds[REPLAY],
        }
    ) + Counter(f"dlq:{reason}" for _, reason in expected_letters.values())


# -- a refusal that depends on more than the value must not poison the genuine record ----


@pytest.mark.parametrize("kind", DATABASE_KINDS)
async def test_a_copy_under_another_key_does_not_make_the_genuine_record_a_duplicate(
    ring: SimulatedForum,
    issuer: SimulatedIssuer,
    nodes: dict[str, SimulatedNode],
    kind: str,
    tmp_path: Path,
) -> None:
    """The genuine record's exact bytes under another record key (on another partition,
    consumed first) are refused as ``key_mismatch``; the genuine record must still apply."""
    world = World(ring, nodes, random.Random(SEED))
    data = world.fresh_record()
    case_id = str(data["case_id"])
    value = world.seal(data)
    topic = cases_topic(Region.AFR)
    sink = MemoryDeadLetterSink()
    async with database_url(kind, tmp_path) as url, CaseStore(url) as store:
        agg = aggregator(ring, issuer, store, sink)
        copy = InboundRecord(topic, 1, 0, str(uuid.uuid4()).encode(), value)
        assert (await agg.handle([copy])).outcomes == {"dlq:key_mismatch": 1}
        report = await agg.handle([InboundRecord(topic, 0, 0, case_id.encode(), value)])
        assert report.outcomes == {"applied": 1}
        assert [c.case_id for c in await store.stored_cases("AFR")] == [case_id]


@pytest.mark.parametrize("kind", DATABASE_KINDS)
async def test_a_copy_on_another_regions_topic_does_not_make_the_genuine_record_a_duplicate(
    ring: SimulatedForum,
    issuer: SimulatedIssuer,
    nodes: dict[str, SimulatedNode],
    kind: str,
    tmp_path: Path,
) -> None:
    """The genuine AFR record's exact bytes published on the APG topic are refused there
    (``no_recipient_key``) by the APG aggregator sharing the database (as ``dief aggregate``
    runs them); the genuine record on the AFR topic must still apply."""
    world = World(ring, nodes, random.Random(SEED))
    data = world.fresh_record()
    case_id = str(data["case_id"])
    value = world.seal(data)
    sink = MemoryDeadLetterSink()
    async with database_url(kind, tmp_path) as url, CaseStore(url) as store:
        apg = aggregator(ring, issuer, store, sink, Region.APG)
        copy = InboundRecord(cases_topic(Region.APG), 0, 0, case_id.encode(), value)
        assert (await apg.handle([copy])).outcomes == {"dlq:no_recipient_key": 1}
        afr = aggregator(ring, issuer, store, sink)
        genuine = InboundRecord(cases_topic(Region.AFR), 0, 0, case_id.encode(), value)
        assert (await afr.handle([genuine])).outcomes == {"applied": 1}
        assert [c.case_id for c in await store.stored_cases("AFR")] == [case_id]


@pytest.mark.parametrize("kind", DATABASE_KINDS)
async def test_a_record_without_a_key_is_a_key_mismatch(
    ring: SimulatedForum,
    issuer: SimulatedIssuer,
    nodes: dict[str, SimulatedNode],
    kind: str,
    tmp_path: Path,
) -> None:
    """Key = case id is the rule (the partition a case's revisions share); a record with no
    key at all does not meet it, and must be refused like any other wrong key."""
    world = World(ring, nodes, random.Random(SEED))
    value = world.seal(world.fresh_record())
    sink = MemoryDeadLetterSink()
    async with database_url(kind, tmp_path) as url, CaseStore(url) as store:
        report = await aggregator(ring, issuer, store, sink).handle(
            [InboundRecord(cases_topic(Region.AFR), 0, 0, None, value)]
        )
        assert report.outcomes == {"dlq:key_mismatch": 1}
        assert await store.stored_cases("AFR") == []


# -- a token that does not verify under the directory's issuer key ----------------------


def _credential(data: dict[str, object]) -> ContributorCredential:
    return CaseRecord.model_validate(data).credential


@pytest.mark.parametrize("kind", DATABASE_KINDS)
@pytest.mark.parametrize("how", BAD_CREDENTIALS)
async def test_a_token_the_directory_did_not_issue_is_refused_by_the_real_check(
    ring: SimulatedForum,
    issuer: SimulatedIssuer,
    nodes: dict[str, SimulatedNode],
    how: str,
    kind: str,
    tmp_path: Path,
) -> None:
    """Each way of the ``bad_credential`` class, alone: refused as ``bad_credential`` by
    the aggregator's real check, while a genuine record of the same node applies. A stand-in
    check (what these tests used before the trust model) accepts the stand-in issuer's
    token: a test on it could not see a State that computes tokens itself."""
    world = World(ring, nodes, random.Random(f"{SEED}-{how}"))
    data = world.bad_credential_record(how)
    credential = _credential(data)
    assert not issuer.verifier().verify(credential)
    if how == "stand_in":
        assert FakeCredentials().verify(credential)
    genuine = world.fresh_record()
    assert issuer.verifier().verify(_credential(genuine))
    topic = cases_topic(Region.AFR)
    sink = MemoryDeadLetterSink()
    async with database_url(kind, tmp_path) as url, CaseStore(url) as store:
        agg = aggregator(ring, issuer, store, sink)
        records = [
            InboundRecord(topic, 0, offset, str(d["case_id"]).encode(), world.seal(d))
            for offset, d in enumerate((data, genuine))
        ]
        assert (await agg.handle(records)).outcomes == {"dlq:bad_credential": 1, "applied": 1}
        assert [d.record.offset for d in sink.sent] == [0]
        assert [c.case_id for c in await store.stored_cases("AFR")] == [genuine["case_id"]]
        assert await store.dead_letter_counts("AFR") == {"bad_credential": 1}

"""Counting through the whole path (DESIGN §5 ⚑, §8 ⚑): nodes → the embedded broker or
Apache Kafka (one test body, two brokers) → aggregators → SQLite or PostgreSQL. Revisions,
withdrawals, forged revisions (dead-lettered ``ownership``) and stale redeliveries, in one
batch and across batches, give exactly the cells computed from the plain case data."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CaseStore
from dief.kafka import dlq_topic
from dief.vocab import Region
from tests.integration._pipeline_helpers import (
    DATABASE_KINDS,
    Doc,
    Forum,
    Nodes,
    case_doc,
    database_url,
    expected_cells,
    periods_of,
    publish_raw,
    read_topic,
    revise,
    running_aggregators,
    store_cells,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.integration._brokers import BrokerStack

pytestmark = pytest.mark.integration

#: The regions this data touches (a consumer group joins in ~2 s each, one after another).
REGIONS = (Region.AFR, Region.APG, Region.WEOG)


@pytest.fixture(params=DATABASE_KINDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with database_url(request.param, tmp_path) as url, CaseStore(url) as s:
        yield s


def first_round() -> tuple[list[Doc], dict[str, Doc], Doc]:
    a1 = case_doc(
        "N1",
        "AFR",
        methods=["falsified_documents", "shell_company"],
        transfer_type="export",
        maritime=["ais_gap", "flag_change"],
        actor_roles=[
            {"role": "broker", "registered": "no"},
            {"role": "broker", "registered": "yes"},
            {"role": "carrier"},
        ],
        verification={"check": "on_site", "outcome": "items_missing"},
    )
    b1 = case_doc(
        "N1",
        "AFR",
        detected="2025-08-20",
        items=[
            {"category": "small_arms", "quantity": 40, "subcategory": "reactivated_firearm"},
            {"category": "ammunition", "quantity": 20000},
            {
                "category": "small_arms",
                "quantity": 3,
                "subcategory": "converted_non_lethal_firearm",
            },
        ],
        actor_roles=[{"role": "financier", "registered": "no"}],
        reassessment={"reassessed": False},
    )
    c1 = case_doc("N2", "AFR", detected="2025-09-03", tlp="red", kind="alert")
    d1 = case_doc(
        "N2",
        "APG",
        detected="2026-03",
        related_regions=["AFR", "WEOG"],
        transport_modes=["air", "sea"],
        transfer_type="trans_shipment",
        maritime=["transshipment_in_port"],
    )
    e1 = case_doc(
        "N3",
        "APG",
        detected="2026-04",
        risk_indicators=["DOC-01", "RTE-02"],
        verification={"check": "none"},
        reassessment={"reassessed": True, "outcome": "revoked"},
    )
    f1 = case_doc(
        "N3",
        "AFR",
        detected="2026-05-31",
        confidence="confirmed",
        transfer_type="brokering",
        maritime=["floating_armoury", "ais_gap"],
        actor_roles=[
            {"role": "broker", "registered": "no"},
            {"role": "shipping_agent", "registered": "unknown"},
        ],
        verification={"check": "documentary", "outcome": "inconsistent"},
        items=[{"category": "warships", "quantity": 2, "subcategory": "uncrewed_system"}],
    )
    docs = [
        a1,
        revise(
            a1,
            2,
            confidence="confirmed",
            methods=["shell_company"],
            detected="2026-02-10",
            maritime=["ais_gap"],
            verification={"check": "on_site"},
            reassessment={"reassessed": True},
        ),
        revise(a1, 3, status="withdrawn"),
        b1,
        revise(
            b1,
            2,
            actions_taken=["seizure", "prosecution"],
            reassessment={"reassessed": True, "outcome": "suspended"},
        ),
        c1,
        d1,
        revise(d1, 2, kind="alert"),
        e1,
        f1,
    ]
    # N3 "revises" N2's case: a forged revision (its node would refuse it, unknown_case: it
    # is sealed by hand, signed with N3's own key; the aggregator refuses its ownership).
    forged = revise(c1, 2, submitted_by="N3", status="withdrawn")
    return docs, {"a1": a1, "b1": b1, "c1": c1, "d1": d1, "e1": e1}, forged


async def test_cells_match_the_plain_data(
    store: CaseStore, tmp_path: Path, broker_stack: BrokerStack
) -> None:
    forum = Forum(tmp_path / "keys")
    docs, named, forged = first_round()
    async with broker_stack.running() as broker:
        nodes = Nodes(forum, broker, tmp_path / "nodes")
        try:
            # Round 1, all on the topics before the aggregators join, so the rules apply
            # within batches: the exact record value of a1 revision 1 again (a duplicate),
            # and b1 revision 1 sealed anew after revision 2 (stale).
            entries = await nodes.post(docs)
            assert len(entries) == len(docs)  # each case to its own region only
            redelivered = [
                entries[0],
                nodes.seal_as("N1", named["b1"]),
                nodes.seal_as("N3", forged),
            ]
            await publish_raw(broker, redelivered)
            round1 = len(entries) + len(redelivered)

            async with running_aggregators(broker, forum, store, REGIONS) as processed:
                await processed.wait_for(round1)
                await check_cells(store, [*docs, forged])
                assert await store.outcome_counts("AFR") == {
                    "applied": 7,  # a1 three times, b1 twice, c1, f1
                    "stale": 1,
                    "dlq:ownership": 1,
                }
                assert await store.outcome_counts("APG") == {"applied": 3}
                assert await store.outcome_counts("WEOG") == {}  # d1 went to APG only
                assert processed.outcomes["duplicate"] == 1

                # Round 2, across batches: redeliveries of applied records, a forged
                # revival of the withdrawn a1, and two genuine revisions.
                revival = revise(named["a1"], 4, submitted_by="N2", status="active")
                more = [
                    revise(named["b1"], 3, detected="2025-07"),  # within its cycle
                    revise(named["e1"], 2, status="withdrawn"),
                ]
                entries2 = await nodes.post(more)
                again = [entries[4], nodes.seal_as("N2", named["d1"]), nodes.seal_as("N2", revival)]
                await publish_raw(broker, again)
                await processed.wait_for(round1 + len(entries2) + len(again))
                await check_cells(store, [*docs, forged, *more, revival])
                assert (await store.outcome_counts("AFR"))["dlq:ownership"] == 2
                assert (await store.outcome_counts("APG"))["stale"] == 1
                assert processed.outcomes["duplicate"] == 2
                assert await store.dead_letter_counts("AFR") == {"ownership": 2}

            # The forged revisions are on the AFR DLQ, unchanged, with the reason.
            dlq = await read_topic(broker, dlq_topic(Region.AFR), 2)
            assert len(dlq) == 2
            assert {dict(r.headers)["dief-reason"] for r in dlq} == {b"ownership"}
            assert {r.key for r in dlq} == {
                nodes.case_id(named["c1"]).encode(),
                nodes.case_id(named["a1"]).encode(),
            }
        finally:
            await nodes.close()


async def check_cells(store: CaseStore, docs: list[Doc]) -> None:
    expected = expected_cells(docs)
    expected_no_red = expected_cells(docs, include_red=False)
    assert set(expected) == {"AFR", "APG"}
    for region in REGIONS:
        periods = sorted({*periods_of(expected), *await store.periods_with_data(region)})
        got = await store_cells(store, region, periods)
        assert got == expected.get(region, {}), region
        no_red = await store_cells(store, region, periods, include_red=False)
        assert no_red == expected_no_red.get(region, {}), region

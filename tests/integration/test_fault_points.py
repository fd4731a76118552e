"""Deterministic faults at every commit boundary of the aggregator (DESIGN §8 ⚑).

A :class:`dief.testing.FaultPlan` makes the delivery path fail, twice, at one of its commit
boundaries (:data:`dief.seams.FAULT_POINTS`): just after a batch was fetched; while the
batch's dead letters are being sent inside its database transaction; after the transaction
committed but before the offsets are. Each time the batch must come again, and at the end
the cells are exactly those computed from the plain input, every poison record is counted
once as a dead letter, and nothing is lost. Real process kills are in ``test_sigkill.py``.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

import pytest

from dief.aggregator import RegionAggregator
from dief.aggregator.store import CaseStore
from dief.broker import EmbeddedBroker
from dief.database import sqlite_url
from dief.kafka import KafkaDeadLetterSink, cases_topic, make_broker, subscribe_batches
from dief.seams import FAULT_POINTS, Backoff, OutboxEntry
from dief.settings import KafkaSettings
from dief.testing import FaultPlan
from dief.vocab import Region
from tests.integration._pipeline_helpers import (
    Forum,
    Nodes,
    case_doc,
    expected_cells,
    publish_raw,
    store_cells,
    wait_until,
)

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.integration]

AFR = Region.AFR


def _tampered(value: bytes) -> bytes:
    envelope = json.loads(value)
    raw = bytearray(base64.urlsafe_b64decode(envelope["ciphertext"] + "=="))
    raw[-1] ^= 0x01
    envelope["ciphertext"] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    return json.dumps(envelope).encode()


@pytest.mark.parametrize("point", FAULT_POINTS)
async def test_a_fault_at_a_commit_boundary_loses_nothing_and_counts_nothing_twice(
    point: str, tmp_path: Path
) -> None:
    forum = Forum(tmp_path / "keys")
    docs = [
        case_doc(
            f"N{i % 3}", "AFR", detected=f"2026-0{1 + i % 5}", kind="alert" if i % 4 else "case"
        )
        for i in range(40)
    ]
    revisions = [{**d, "revision": 2, "confidence": "confirmed"} for d in docs[:10]]
    plan = FaultPlan({point: {1, 2}})
    async with EmbeddedBroker() as broker, CaseStore(sqlite_url(tmp_path / "agg.sqlite")) as store:
        nodes = Nodes(forum, broker.bootstrap, tmp_path / "nodes")
        try:
            entries = await nodes.post(docs + revisions)
            poison = [OutboxEntry(e.topic, e.key, _tampered(e.value), 0) for e in entries[:3]]
            await publish_raw(broker.bootstrap, poison)
            client = make_broker(KafkaSettings(bootstrap=broker.bootstrap, embedded=True))
            aggregator = RegionAggregator(
                AFR,
                forum.opener(AFR),
                store,
                KafkaDeadLetterSink(client, AFR),
                faults=plan,
                credentials=forum.verifier(),
            )
            subscribe_batches(
                client,
                cases_topic(AFR),
                group_id="dief-aggregator-afr",
                title="aggregate-afr",
                max_records=25,
                embedded=True,
                backoff=Backoff(initial=0.01, maximum=0.05),
                handle=aggregator.handle,
                faults=plan,
            )
            await client.start()
            try:
                expected = expected_cells(docs + revisions)["AFR"]
                periods = sorted({p for p, *_ in expected})

                async def converged() -> bool:
                    cells = await store_cells(store, "AFR", periods)
                    dead = await store.dead_letter_counts("AFR")
                    return cells == expected and dead == {"authentication_failed": 3}

                await wait_until(converged, 60.0, f"exact cells and dead letters ({point})")
            finally:
                await client.stop()
        finally:
            await nodes.close()
    assert plan.injected[point] == 2, plan

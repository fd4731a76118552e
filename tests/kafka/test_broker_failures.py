"""Broker failures on a three-broker Apache Kafka cluster (DESIGN §8 ⚑, §12): replication
factor 3, ``min.insync.replicas=2``, idempotent producers with ``acks=all``.

- 5,000 cases in flight (nodes publishing, aggregators applying) when the broker leading
  ``dief.afr.cases[0]`` is SIGKILLed; it comes back, then all three brokers are restarted
  one after another with about 2,000 more cases in flight at each step. Nothing lost,
  nothing counted twice: every region's cells equal those computed from the plain input.
- Two instances of AFR's aggregator (``dief aggregate``, real processes) in one consumer
  group on one PostgreSQL database; one is SIGKILLed mid-run, the other takes its
  partitions over: the cells are exact.

Waits are on progress read from the store, each bounded; no sleeps.
"""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.kafka import cases_topic
from dief.synthetic import generate_cases
from dief.vocab import Region
from tests.integration._brokers import BrokerStack
from tests.integration._pipeline_helpers import (
    PASSPHRASE,
    TODAY,
    Doc,
    Forum,
    Nodes,
    expected_cells,
    running_aggregators,
    store_cells,
    wait_until,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from dief.kafka_cluster import KafkaCluster

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.integration]

FIRST = 5000  # in flight at the leader's SIGKILL
STEP = 2000  # in flight at each step of the rolling restart
WAIT = 240.0  # bound on each wait (two shared cores)


def _docs(n: int, seed: int) -> list[Doc]:
    ids = list(load_catalogue().ids)
    return [c.document for c in generate_cases(n, seed=seed, indicator_ids=ids, today=TODAY)]


async def _finished(store: CaseStore) -> int:
    """Distinct records the aggregators finished with (applied, stale, dead-lettered, …)."""
    return sum((await store.outcome_counts()).values())


async def _assert_cells(store: CaseStore, docs: Sequence[Doc], regions: Sequence[Region]) -> None:
    expected = expected_cells(docs)
    for region in regions:
        periods = sorted(
            {key[0] for key in expected.get(region.value, {})}
            | set(await store.periods_with_data(region.value))
        )
        got = await store_cells(store, region.value, periods)
        assert got == expected.get(region.value, {}), region
        assert await store.dead_letter_counts(region.value) == {}


async def _in_flight(
    nodes: Nodes,
    docs: Sequence[Doc],
    store: CaseStore,
    done_before: int,
    fault: Callable[[], Awaitable[None]],
) -> None:
    """Post *docs*; once some but not all of them are applied, run *fault* (a coroutine
    function); then wait until the posting finished."""
    posting = asyncio.create_task(nodes.post(docs))
    try:
        await wait_until(
            lambda: _progress(store, done_before + len(docs) // 10), WAIT, "a tenth applied"
        )
        assert not posting.done() or await _finished(store) < done_before + len(docs)
        await fault()
    finally:
        async with asyncio.timeout(WAIT):
            await posting


async def _progress(store: CaseStore, at_least: int) -> bool:
    return await _finished(store) >= at_least


async def test_leader_sigkill_then_a_rolling_restart_lose_nothing_and_count_nothing_twice(
    kafka_cluster_3: KafkaCluster, tmp_path: Path
) -> None:
    cluster = kafka_cluster_3
    await cluster.reset()
    stack = BrokerStack("kafka", cluster.bootstrap, cluster)
    forum = Forum(tmp_path / "keys")
    docs = _docs(FIRST + 3 * STEP, seed=31)
    chunks = [docs[:FIRST], *(docs[FIRST + i * STEP : FIRST + (i + 1) * STEP] for i in range(3))]
    timings: list[str] = []
    async with CaseStore(sqlite_url(tmp_path / "aggregator.sqlite")) as store:
        nodes = Nodes(forum, stack, tmp_path / "nodes")
        try:
            async with running_aggregators(stack, forum, store):
                leader = await cluster.leader_of(cases_topic(Region.AFR), 0)

                async def kill_leader() -> None:
                    await cluster.kill(leader)

                began = time.monotonic()
                await _in_flight(nodes, chunks[0], store, 0, kill_leader)
                await wait_until(lambda: _progress(store, FIRST), WAIT, "the first 5,000")
                timings.append(
                    f"after SIGKILL of broker {leader}: {time.monotonic() - began:.1f} s"
                )
                await cluster.restart(leader)
                await cluster.wait_fully_replicated()

                done = FIRST
                for node_id, chunk in zip(cluster.node_ids, chunks[1:], strict=True):

                    async def restart(node_id: int = node_id) -> None:
                        await cluster.terminate(node_id)
                        await cluster.restart(node_id)

                    began = time.monotonic()
                    await _in_flight(nodes, chunk, store, done, restart)
                    done += len(chunk)
                    progress = functools.partial(_progress, store, done)
                    await wait_until(progress, WAIT, f"{done} applied")
                    await cluster.wait_fully_replicated()
                    timings.append(f"restart of {node_id}: {time.monotonic() - began:.1f} s")
        finally:
            await nodes.close()
        assert await _finished(store) == len(docs)  # each record once (duplicates absorbed)
        await _assert_cells(store, docs, tuple(Region))
    print("\n" + "; ".join(timings))  # noqa: T201  the restart timings, printed for the test log (pytest -s)


class AggregatorProcess:
    """``dief aggregate --region AFR`` on the cluster as ``aggregator-afr`` (a child)."""

    def __init__(self, stack: BrokerStack, database: str, keys: Path, log: Path) -> None:
        self._argv = [
            str(Path(sys.executable).with_name("dief")),
            "aggregate",
            "--region",
            "AFR",
            "--database-url",
            database,
            "--keys",
            str(keys),
        ]
        self._env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DIEF_")},
            **stack.env("aggregator-afr"),
            "DIEF_KEYRING__PASSPHRASE": PASSPHRASE,
            "DIEF_MAX_BATCH": "100",
            "DIEF_DIGEST_INTERVAL": "0",
        }
        self._log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.killed = False

    def start(self) -> None:
        with self._log.open("ab") as out:
            self.proc = subprocess.Popen(
                self._argv, env=self._env, stdout=out, stderr=subprocess.STDOUT
            )

    def check(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            tail = self._log.read_text(errors="replace").splitlines()[-30:]
            pytest.fail(f"dief aggregate exited with {self.proc.returncode}:\n" + "\n".join(tail))

    def kill(self) -> None:
        assert self.proc is not None
        self.killed = True
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.mark.postgres
async def test_two_aggregators_in_one_group_one_killed_the_other_takes_over(
    kafka_cluster_3: KafkaCluster, postgres_url: str, tmp_path: Path
) -> None:
    cluster = kafka_cluster_3
    await cluster.reset()
    stack = BrokerStack("kafka", cluster.bootstrap, cluster)
    forum = Forum(tmp_path / "keys")
    docs = [d for d in _docs(7000, seed=47) if d["region"] == "AFR"]
    assert len(docs) > 1000
    async with CaseStore(postgres_url) as store:  # creates the schema before both start
        instances = [
            AggregatorProcess(stack, postgres_url, forum.path, tmp_path / f"aggregate-{i}.log")
            for i in (1, 2)
        ]
        nodes = Nodes(forum, stack, tmp_path / "nodes")
        try:
            for instance in instances:
                instance.start()
            # half before the kill, half after: the survivor must take over the killed
            # one's partitions to apply the second half (the aggregators may otherwise
            # finish everything before the kill lands)
            half = len(docs) // 2
            first = len(await nodes.post(docs[:half]))

            async def applied(at_least: int) -> bool:
                for instance in instances:
                    if not instance.killed:
                        instance.check()  # a survivor that died fails the test at once
                return await _progress(store, at_least)

            await wait_until(lambda: applied(first // 2), WAIT, "a quarter applied")
            instances[0].kill()
            posted = first + len(await nodes.post(docs[half:]))
            await wait_until(lambda: applied(posted), WAIT, f"all {posted} by the survivor")
        finally:
            await nodes.close()
            for instance in instances:
                instance.stop()
        assert await _finished(store) == posted
        await _assert_cells(store, docs, (Region.AFR,))

"""Fixtures of the Apache Kafka tests (the session's one-broker ``kafka_cluster`` is in
tests/conftest.py): ``kafka_cluster_3``, three brokers for one test module."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from dief.exceptions import KafkaUnavailableError
from dief.kafka_cluster import KafkaCluster
from tests.integration._brokers import local_runtime

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def kafka_cluster_3() -> AsyncIterator[KafkaCluster]:
    """Three brokers (replication factor 3, ``min.insync.replicas=2``) for one module."""
    try:
        cluster = KafkaCluster(brokers=3, heap_mb=384, runtime=local_runtime())
        await cluster.start()
    except KafkaUnavailableError as exc:
        pytest.skip(f"Apache Kafka cannot run here: {exc.message}")
    try:
        yield cluster
    finally:
        await cluster.stop()

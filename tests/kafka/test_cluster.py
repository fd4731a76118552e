"""KafkaCluster's life cycle: it stops cleanly (SIGTERM, the JVM's shutdown) and leaves no process
and no folder behind; a missing Java or class path is a KafkaUnavailableError that names
the fix."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from dief.exceptions import KafkaUnavailableError
from dief.kafka_cluster import KAFKA_POM, KafkaCluster, find_runtime
from tests.integration._brokers import local_runtime

if TYPE_CHECKING:
    from pathlib import Path


def test_no_java_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(KafkaUnavailableError) as caught:
        find_runtime(java=tmp_path / "java")
    assert str(tmp_path / "java") in caught.value.message
    assert "DIEF_KAFKA_JAVA" in caught.value.message


def test_no_cached_class_path_names_the_fix(tmp_path: Path) -> None:
    java = tmp_path / "java"
    java.write_text("#!/bin/sh\n")
    java.chmod(0o755)
    with pytest.raises(KafkaUnavailableError) as caught:
        find_runtime(KAFKA_POM, java=java, cache_dir=tmp_path / "cache")
    assert "./scripts/install" in caught.value.message


@pytest.mark.kafka
@pytest.mark.integration
async def test_a_cluster_stops_cleanly_and_leaves_nothing_behind() -> None:
    try:
        cluster = KafkaCluster(brokers=1, heap_mb=256, runtime=local_runtime())
    except KafkaUnavailableError as exc:
        pytest.skip(f"Apache Kafka cannot run here: {exc.message}")
    await cluster.start()
    folder = cluster.folder
    node = cluster.broker(cluster.node_ids[0])
    pid = node.pid
    assert folder is not None
    assert folder.is_dir()
    assert pid is not None
    await cluster.stop()
    # SIGTERM ran the JVM's shutdown (exit 143 = 128 + SIGTERM), not the SIGKILL fallback
    assert node.exit_code == 143
    assert not folder.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    await cluster.stop()  # safe to repeat

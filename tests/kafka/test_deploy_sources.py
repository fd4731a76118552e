"""Production and the tests run Kafka from one source: ``deploy/kafka/setup.sh`` is the
generated script, ``compose.yaml`` sets exactly the shared broker settings and the pinned
release, and a running test cluster reports the same settings (DESIGN §12)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from dief.kafka_cluster import (
    KAFKA_POM,
    SHARED_BROKER_SETTINGS,
    KafkaCluster,
    compose_env_name,
    render_setup_script,
    replication_settings,
)

ROOT = Path(__file__).resolve().parents[2]
#: compose.yaml's broker variables that are per deployment, not per cluster design.
DEPLOYMENT_ONLY = {
    "KAFKA_NODE_ID",
    "KAFKA_CONTROLLER_QUORUM_VOTERS",
    "KAFKA_LISTENERS",
    "KAFKA_ADVERTISED_LISTENERS",
    "KAFKA_SSL_KEYSTORE_LOCATION",
    "KAFKA_SSL_TRUSTSTORE_LOCATION",
}


def _compose() -> dict[str, object]:
    data = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _design() -> dict[str, str]:
    return {**SHARED_BROKER_SETTINGS, **replication_settings(3)}


def test_the_setup_script_is_generated_from_the_acl_matrix() -> None:
    script = (ROOT / "deploy" / "kafka" / "setup.sh").read_text(encoding="utf-8")
    assert script == render_setup_script(), (
        "deploy/kafka/setup.sh differs from the ACL matrix: run "
        "`python -m dief.kafka_cluster setup-script > deploy/kafka/setup.sh`"
    )


def test_compose_brokers_set_exactly_the_shared_settings() -> None:
    services = _compose()["services"]
    assert isinstance(services, dict)
    brokers = {n: s for n, s in services.items() if re.fullmatch(r"kafka-\d", n)}
    assert len(brokers) == 3
    expected = {compose_env_name(k): v for k, v in _design().items()}
    for name, service in brokers.items():
        env = {k: str(v) for k, v in service["environment"].items() if k.startswith("KAFKA_")}
        assert {k: env.get(k) for k in expected} == expected, name
        assert set(env) - set(expected) == DEPLOYMENT_ONLY, name
        node_id = env["KAFKA_NODE_ID"]
        assert name == f"kafka-{node_id}"
        assert f"{node_id}@{name}:9093" in env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"SASL_SSL://{name}:9094"


def test_compose_runs_the_release_the_tests_run() -> None:
    pom = KAFKA_POM.read_text(encoding="utf-8")
    version = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert version is not None
    services = _compose()["services"]
    assert isinstance(services, dict)
    images = {s["image"] for n, s in services.items() if n.startswith("kafka-")}
    assert images == {f"apache/kafka:{version.group(1)}"}


@pytest.mark.kafka
@pytest.mark.integration
async def test_the_test_cluster_runs_the_shared_settings(kafka_cluster: KafkaCluster) -> None:
    admin = AIOKafkaAdminClient(**kafka_cluster.client_options(), request_timeout_ms=10_000)
    await admin.start()
    try:
        node = str(kafka_cluster.node_ids[0])
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, node)])
    finally:
        await admin.close()
    entries = {str(e[0]): e[1] for r in response.resources for e in r[4]}
    # Most are reported (the authorizer's own and listener overrides are not); all agree.
    shared = {k: v for k, v in SHARED_BROKER_SETTINGS.items() if entries.get(k) is not None}
    assert len(shared) >= len(SHARED_BROKER_SETTINGS) - 4
    assert {k: entries[k] for k in shared} == shared
    assert entries["min.insync.replicas"] == replication_settings(1)["min.insync.replicas"]

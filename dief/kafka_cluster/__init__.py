"""Apache Kafka for real (DESIGN §9, §12): a throw-away KRaft cluster of one or three brokers
for the tests and ``dief kafka``, and the broker configuration and ACL matrix that
production (``compose.yaml``, ``deploy/kafka/setup.sh``) shares with it.

- :class:`KafkaCluster` starts the brokers with ``java`` from the jars of
  ``deploy/kafka/pom.xml`` (resolved by ``scripts/install``; :func:`find_runtime`),
  SASL_SSL with SCRAM-SHA-512, the StandardAuthorizer, the DIEF topics and every grant of
  :func:`acl_matrix`.
- :data:`SHARED_BROKER_SETTINGS`, :func:`replication_settings`: the broker configuration.
- :func:`acl_matrix` and :func:`render_setup_script`: who may do what (DESIGN §2), and the
  production setup script generated from it; :func:`create_acls` applies grants.
"""

from __future__ import annotations

from dief.kafka_cluster._acl_admin import create_acls, describe_acls, expected_acls
from dief.kafka_cluster._acls import (
    NODE_PRINCIPAL,
    REGION,
    SECRETARIAT_PRINCIPAL,
    AclGrant,
    acl_matrix,
    aggregator_principal,
    principals,
    region_template,
    shared_template,
)
from dief.kafka_cluster._cluster import KafkaCluster
from dief.kafka_cluster._config import (
    ADMIN_USER,
    LEAN_SETTINGS,
    SCRAM_MECHANISM,
    SHARED_BROKER_SETTINGS,
    compose_env_name,
    deployed_topics,
    replication_settings,
)
from dief.kafka_cluster._runtime import (
    KAFKA_POM,
    KafkaRuntime,
    classpath_file,
    find_runtime,
    resolve_classpath,
)
from dief.kafka_cluster._setup_script import render_setup_script

__all__ = [
    "ADMIN_USER",
    "KAFKA_POM",
    "LEAN_SETTINGS",
    "NODE_PRINCIPAL",
    "REGION",
    "SCRAM_MECHANISM",
    "SECRETARIAT_PRINCIPAL",
    "SHARED_BROKER_SETTINGS",
    "AclGrant",
    "KafkaCluster",
    "KafkaRuntime",
    "acl_matrix",
    "aggregator_principal",
    "classpath_file",
    "compose_env_name",
    "create_acls",
    "deployed_topics",
    "describe_acls",
    "expected_acls",
    "find_runtime",
    "principals",
    "region_template",
    "render_setup_script",
    "replication_settings",
    "resolve_classpath",
    "shared_template",
]

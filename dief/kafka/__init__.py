"""Everything that speaks Kafka (DESIGN §2, §9): topic names and creation, FastStream brokers
from settings, the node's publisher, the record and dead-letter sinks, batch subscriptions.

aiokafka and FastStream errors are translated here into :class:`dief.exceptions.BrokerError`.
"""

from __future__ import annotations

from dief.kafka._clients import (
    KafkaDeadLetterSink,
    KafkaRecordSink,
    NodePublisher,
    make_broker,
    producer_options,
)
from dief.kafka._dlq import (
    DeadLetterSnapshot,
    Replayed,
    StoredDeadLetter,
    read_dead_letters,
    replay_dead_letters,
    watch_dead_letters,
)
from dief.kafka._read import ConsumedRecord, TopicSnapshot, read_new, read_to_end
from dief.kafka._subscribe import (
    DEFAULT_SESSION_TIMEOUT_MS,
    EMBEDDED_SESSION_TIMEOUT_MS,
    subscribe_batches,
)
from dief.kafka._topics import (
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
    "DEFAULT_SESSION_TIMEOUT_MS",
    "DIGESTS_TOPIC",
    "EMBEDDED_SESSION_TIMEOUT_MS",
    "ConsumedRecord",
    "DeadLetterSnapshot",
    "EnsuredTopics",
    "KafkaDeadLetterSink",
    "KafkaRecordSink",
    "NodePublisher",
    "Replayed",
    "StoredDeadLetter",
    "TopicSnapshot",
    "TopicSpec",
    "cases_topic",
    "dief_topics",
    "dlq_topic",
    "ensure_topics",
    "make_broker",
    "producer_options",
    "read_dead_letters",
    "read_new",
    "read_to_end",
    "replay_dead_letters",
    "subscribe_batches",
    "watch_dead_letters",
]

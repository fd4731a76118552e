"""Everything that speaks Kafka (DESIGN §2, §9): topic names and creation, what a broker
supports (asked, never guessed from its name: :func:`probe_capabilities`), FastStream brokers
from settings, the node's publisher, the record, dead-letter and receipt sinks, batch
subscriptions, and following a topic without a group (the node's receipts).

aiokafka and FastStream errors are translated here into :class:`dief.exceptions.BrokerError`.
"""

from __future__ import annotations

from dief.kafka._capabilities import (
    BrokerCapabilities,
    explain_connection_failure,
    probe_capabilities,
)
from dief.kafka._clients import (
    KafkaDeadLetterSink,
    KafkaReceiptSink,
    KafkaRecordSink,
    NodePublisher,
    make_broker,
    producer_options,
    security_options,
)
from dief.kafka._dlq import (
    DeadLetterSnapshot,
    Replayed,
    StoredDeadLetter,
    read_dead_letters,
    replay_dead_letters,
    watch_dead_letters,
)
from dief.kafka._feed import KafkaRecordFeed, follow_feed
from dief.kafka._read import ConsumedRecord, TopicSnapshot, read_new, read_to_end
from dief.kafka._subscribe import (
    BATCH_TIME_LIMIT,
    DEFAULT_SESSION_TIMEOUT_MS,
    EMBEDDED_SESSION_TIMEOUT_MS,
    subscribe_batches,
)
from dief.kafka._topics import (
    BULLETINS_TOPIC,
    CREDENTIAL_ANSWERS_TOPIC,
    CREDENTIAL_REQUESTS_TOPIC,
    CSP_TOPIC,
    DEFAULT_CASE_PARTITIONS,
    DIGESTS_TOPIC,
    DIRECTORY_TOPIC,
    RECEIPTS_TOPIC,
    ROUTES_TOPIC,
    EnsuredTopics,
    TopicSpec,
    cases_topic,
    dief_topics,
    directory_topic,
    dlq_topic,
    ensure_topics,
)

__all__ = [
    "BATCH_TIME_LIMIT",
    "BULLETINS_TOPIC",
    "CREDENTIAL_ANSWERS_TOPIC",
    "CREDENTIAL_REQUESTS_TOPIC",
    "CSP_TOPIC",
    "DEFAULT_CASE_PARTITIONS",
    "DEFAULT_SESSION_TIMEOUT_MS",
    "DIGESTS_TOPIC",
    "DIRECTORY_TOPIC",
    "EMBEDDED_SESSION_TIMEOUT_MS",
    "RECEIPTS_TOPIC",
    "ROUTES_TOPIC",
    "BrokerCapabilities",
    "ConsumedRecord",
    "DeadLetterSnapshot",
    "EnsuredTopics",
    "KafkaDeadLetterSink",
    "KafkaReceiptSink",
    "KafkaRecordFeed",
    "KafkaRecordSink",
    "NodePublisher",
    "Replayed",
    "StoredDeadLetter",
    "TopicSnapshot",
    "TopicSpec",
    "cases_topic",
    "dief_topics",
    "directory_topic",
    "dlq_topic",
    "ensure_topics",
    "explain_connection_failure",
    "follow_feed",
    "make_broker",
    "probe_capabilities",
    "producer_options",
    "read_dead_letters",
    "read_new",
    "read_to_end",
    "replay_dead_letters",
    "security_options",
    "subscribe_batches",
    "watch_dead_letters",
]

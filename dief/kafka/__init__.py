"""The Kafka boundary: FastStream brokers from settings, the node's publisher, the DLQ sink.

aiokafka and FastStream errors are translated here into :class:`dief.exceptions.BrokerError`.
"""

from dief.kafka._clients import (
    KafkaDeadLetterSink,
    NodePublisher,
    coarse_timestamp_ms,
    make_broker,
    producer_options,
)
from dief.kafka._subscribe import (
    DEFAULT_SESSION_TIMEOUT_MS,
    EMBEDDED_SESSION_TIMEOUT_MS,
    subscribe_batches,
)

__all__ = [
    "DEFAULT_SESSION_TIMEOUT_MS",
    "EMBEDDED_SESSION_TIMEOUT_MS",
    "KafkaDeadLetterSink",
    "NodePublisher",
    "coarse_timestamp_ms",
    "make_broker",
    "producer_options",
    "subscribe_batches",
]

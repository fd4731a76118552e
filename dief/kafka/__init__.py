"""The Kafka boundary: FastStream brokers from settings, the node's publisher, the DLQ sink.

aiokafka and FastStream errors are translated here into :class:`dief.exceptions.BrokerError`.
"""

from dief.kafka._clients import (
    KafkaDeadLetterSink,
    KafkaPublisher,
    coarse_timestamp_ms,
    make_broker,
)

__all__ = ["KafkaDeadLetterSink", "KafkaPublisher", "coarse_timestamp_ms", "make_broker"]

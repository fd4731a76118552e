"""The regional aggregator: open, validate, apply idempotently, dead-letter (DESIGN §8)."""

from dief.aggregator._aggregator import (
    BatchReport,
    EnvelopeOpener,
    OpenedEnvelope,
    RegionAggregator,
    case_values,
)
from dief.seams import DLQ_HEADERS, DeadLetter, DeadLetterSink, InboundRecord

__all__ = [
    "DLQ_HEADERS",
    "BatchReport",
    "DeadLetter",
    "DeadLetterSink",
    "EnvelopeOpener",
    "InboundRecord",
    "OpenedEnvelope",
    "RegionAggregator",
    "case_values",
]

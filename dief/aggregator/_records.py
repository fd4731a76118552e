"""Kafka-free value objects at the aggregator's seams: inbound records and dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["DLQ_HEADERS", "DeadLetter", "DeadLetterSink", "InboundRecord"]

#: Header names on every dead letter (values UTF-8). They describe the failure and where the
#: record came from; nothing in them names a sender.
DLQ_HEADERS = (
    "dief-reason",
    "dief-detail",
    "dief-source-topic",
    "dief-source-partition",
    "dief-source-offset",
)


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """One consumed record, as the aggregator sees it (copied out of the Kafka client)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that cannot be applied: it goes to ``dief.<region>.dlq`` unchanged."""

    record: InboundRecord
    reason: str
    detail: str
    record_id: str | None = None

    def headers(self) -> list[tuple[str, bytes]]:
        values = (
            self.reason,
            self.detail,
            self.record.topic,
            str(self.record.partition),
            str(self.record.offset),
        )
        return [(k, v.encode("utf-8")) for k, v in zip(DLQ_HEADERS, values, strict=True)]


class DeadLetterSink(Protocol):
    """Where dead letters go; returns only once the broker acknowledged every one."""

    async def send(self, letters: Sequence[DeadLetter]) -> None: ...

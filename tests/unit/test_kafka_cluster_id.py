"""The cluster id given to ``kafka-storage format`` never starts with ``-``.

The attack on CI (stop 35): a base64url id of 16 random bytes starts with ``-`` once in 64
draws, and Kafka's StorageTool then reads it as an option ("argument --cluster-id/-t:
expected one argument"), so a Kafka test errored before any broker started. Kafka's own
``Uuid.randomUuid`` draws again in that case; so does ``new_cluster_id``."""

from __future__ import annotations

import base64
import uuid

from dief.kafka_cluster._prepare import new_cluster_id


def _drawn(*firsts: int) -> list[bytes]:
    return [bytes([first]) + bytes(15) for first in firsts]


def test_an_id_that_would_start_with_a_dash_is_drawn_again() -> None:
    made = new_cluster_id(iter(_drawn(0xF8, 0xFB, 0x10)).__next__)
    assert not made.startswith("-")
    assert made == base64.urlsafe_b64encode(_drawn(0x10)[0]).decode().rstrip("=")


def test_every_first_byte_gives_an_id_kafka_reads_as_a_value() -> None:
    for first in range(256):
        made = new_cluster_id(iter([*_drawn(first), *_drawn(0x10)]).__next__)
        assert not made.startswith("-"), first
        assert len(made) == 22
        assert uuid.UUID(bytes=base64.urlsafe_b64decode(made + "==")).bytes[1:] == bytes(15)


def test_the_default_source_is_random() -> None:
    assert new_cluster_id() != new_cluster_id()

"""The node's publisher on a bare aiokafka producer: the same producer settings and security
as ``make_broker`` (acks=all; idempotence off on the embedded broker only)."""

from __future__ import annotations

import ssl

import pytest
from pydantic import SecretStr

from dief.broker import pick_free_port
from dief.exceptions import BrokerError
from dief.kafka import NodePublisher, producer_options
from dief.seams import OutboxEntry
from dief.settings import KafkaSettings


def test_acks_all_and_idempotence_off_on_the_embedded_broker_only() -> None:
    embedded = producer_options(KafkaSettings(bootstrap="127.0.0.1:1", embedded=True))
    cluster = producer_options(KafkaSettings(bootstrap="kafka-1:9094,kafka-2:9094"))
    assert embedded["acks"] == cluster["acks"] == "all"
    assert embedded["enable_idempotence"] is False
    assert cluster["enable_idempotence"] is True
    assert cluster["bootstrap_servers"] == "kafka-1:9094,kafka-2:9094"
    assert "security_protocol" not in cluster  # PLAINTEXT: aiokafka's default
    assert producer_options(KafkaSettings(), request_timeout_ms=1500)["request_timeout_ms"] == 1500


@pytest.mark.parametrize(
    ("protocol", "mechanism", "tls", "sasl"),
    [
        ("SASL_SSL", "SCRAM-SHA-512", True, "SCRAM-SHA-512"),
        ("SASL_SSL", None, True, "SCRAM-SHA-256"),
        ("SASL_PLAINTEXT", "PLAIN", False, "PLAIN"),
        ("SSL", None, True, None),
    ],
)
def test_security_follows_the_settings(
    protocol: str, mechanism: str | None, tls: bool, sasl: str | None
) -> None:
    settings = KafkaSettings.model_validate(
        {
            "security_protocol": protocol,
            "sasl_mechanism": mechanism,
            "username": "node-7",
            "password": SecretStr("pw"),
        }
    )
    options = producer_options(settings)
    assert options["security_protocol"] == protocol
    assert isinstance(options.get("ssl_context"), ssl.SSLContext) is tls
    assert options.get("sasl_mechanism") == sasl
    if sasl is not None:
        assert options["sasl_plain_username"] == "node-7"
        assert options["sasl_plain_password"] == "pw"
    assert "pw" not in repr(NodePublisher(settings))


async def test_an_unreachable_broker_is_a_broker_error() -> None:
    publisher = NodePublisher(
        KafkaSettings(bootstrap=f"127.0.0.1:{pick_free_port()}", embedded=True),
        request_timeout_ms=1000,
    )
    with pytest.raises(BrokerError, match="not connected"):
        await publisher.publish([OutboxEntry("t", b"k", b"v", 0)])
    with pytest.raises(BrokerError, match="cannot connect to the broker"):
        await publisher.connect()
    await publisher.close()

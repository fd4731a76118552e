"""DIEF's Kafka clients with a bootstrap list of several brokers, as production gives it
(``DIEF_KAFKA__BOOTSTRAP: kafka-1:9094,kafka-2:9094,kafka-3:9094``): FastStream took the
comma-separated string for one host name and never connected."""

from __future__ import annotations

import pytest

from dief.broker import EmbeddedBroker
from dief.kafka import make_broker
from dief.settings import KafkaSettings

pytestmark = pytest.mark.integration


async def test_make_broker_connects_with_a_comma_separated_bootstrap() -> None:
    async with EmbeddedBroker(topics=()) as broker:
        listed = f"{broker.bootstrap}, {broker.bootstrap}"
        client = make_broker(KafkaSettings(bootstrap=listed, embedded=True))
        try:
            await client.connect()
            assert await client.ping(timeout=10)  # the cluster answers through the client
        finally:
            await client.stop()

"""Every record DIEF produces carries its timestamp coarsened to the hour (DESIGN §3 ⚑, §11),
read back from the embedded broker, one producer at a time, with a clock well inside an hour:
digests, CSP summaries and route tables (the record sink their issuers use), dead letters,
receipts and replayed dead letters. Case records: the node stamps them (``test_node.py``)
and its publisher keeps the stamp (``test_relay_publisher.py``); ``test_non_attribution.py``
checks every topic of a whole ``dief run``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from dief.kafka import (
    CSP_TOPIC,
    DIGESTS_TOPIC,
    RECEIPTS_TOPIC,
    ROUTES_TOPIC,
    KafkaDeadLetterSink,
    KafkaReceiptSink,
    KafkaRecordSink,
    cases_topic,
    dlq_topic,
    make_broker,
    read_dead_letters,
    replay_dead_letters,
)
from dief.seams import HOUR_MS, DeadLetter, InboundRecord, ReceiptRecord, coarse_timestamp_ms
from dief.settings import KafkaSettings
from dief.testing import FakeClock, read_topics
from dief.vocab import Region

if TYPE_CHECKING:
    from dief.broker import EmbeddedBroker

pytestmark = pytest.mark.integration

#: 37 minutes 12 seconds into an hour.
NOW = 1_795_343_832.0


async def test_every_producer_stamps_records_to_the_hour(module_broker: EmbeddedBroker) -> None:
    clock = FakeClock(NOW)
    hour = coarse_timestamp_ms(NOW)
    assert hour % HOUR_MS == 0
    assert hour != int(NOW * 1000)
    settings = KafkaSettings(bootstrap=module_broker.bootstrap, embedded=True)
    client = make_broker(settings)
    await client.start()
    try:
        sink = KafkaRecordSink(client, clock=clock)
        await sink.send(DIGESTS_TOPIC, b"AFR", b"a sealed digest")
        await sink.send(CSP_TOPIC, b"CSP13", b'{"summary":"public"}')
        await sink.send(ROUTES_TOPIC, b"AFR", b"a sealed route table")
        source = InboundRecord(cases_topic(Region.AFR), 0, 7, b"case-key", b"a refused record")
        letter = DeadLetter(source, "malformed", "test: a refused record")
        await KafkaDeadLetterSink(client, Region.AFR, clock=clock).send([letter])
    finally:
        await client.stop()
    receipts = KafkaReceiptSink(settings, clock=clock)
    try:
        await receipts.send([ReceiptRecord("ab" * 32, b"a sealed receipt")])
    finally:
        await receipts.close()
    snapshot = await read_dead_letters(settings, [Region.AFR])
    [stored] = snapshot.letters
    clock.advance(600.0)  # replayed ten minutes later: still the hour only
    [replayed] = await replay_dead_letters(settings, [stored], clock=clock)
    assert replayed.error is None

    topics = [
        DIGESTS_TOPIC,
        CSP_TOPIC,
        ROUTES_TOPIC,
        dlq_topic(Region.AFR),
        RECEIPTS_TOPIC,
        cases_topic(Region.AFR),
    ]
    records = await read_topics(module_broker.bootstrap, topics, expected=len(topics))
    stamps = {r.topic: r.timestamp_ms for r in records}
    assert set(stamps) == set(topics)  # one record from each producer
    assert stamps == dict.fromkeys(topics, hour)

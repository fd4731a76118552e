"""The embedded broker against the real Tansu binary: lifecycle, topics, records, CLI."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from dief.broker import EmbeddedBroker, pick_free_port
from dief.broker._process import is_embedded_broker
from dief.exceptions import BrokerError, BrokerStartError
from dief.kafka import (
    CSP_TOPIC,
    DIGESTS_TOPIC,
    RECEIPTS_TOPIC,
    TopicSpec,
    cases_topic,
    dief_topics,
    dlq_topic,
    ensure_topics,
)
from dief.testing import broker_behind_proxy, read_topics
from dief.vocab import Region

pytestmark = pytest.mark.integration

WAIT = 15.0  # upper bound on any single wait; the broker answers in milliseconds


async def _list_topics(bootstrap: str) -> dict[str, int]:
    """Topic name -> partition count, from the broker's metadata."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = await admin.list_topics()
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    return {t["topic"]: len(t["partitions"]) for t in described}


async def _produce(
    bootstrap: str, topic: str, key: bytes, value: bytes, *, request_timeout_ms: int = 40_000
) -> int:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=False,
        acks="all",
        request_timeout_ms=request_timeout_ms,
    )
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            topic, value, key=key, partition=0, headers=[("reason", b"test")]
        )
    finally:
        await producer.stop()
    return int(sent.offset)


async def _read_records(
    bootstrap: str, topic: str, count: int
) -> list[ConsumerRecord[bytes, bytes]]:
    """The first *count* records of partition 0, read without a consumer group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        got: list[ConsumerRecord[bytes, bytes]] = []
        async with asyncio.timeout(WAIT):
            while len(got) < count:
                got.append(await consumer.getone())
    finally:
        await consumer.stop()
    return got


async def _read_partition(bootstrap: str, topic: str, count: int) -> list[tuple[bytes, bytes]]:
    """(key, value) of the first *count* records of partition 0."""
    return [(r.key, r.value) for r in await _read_records(bootstrap, topic, count)]


def _refuses_connections(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2.0)
        try:
            sock.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        return False


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_session_broker_has_every_dief_topic(broker: EmbeddedBroker) -> None:
    topics = await _list_topics(broker.bootstrap)

    for region in Region:
        assert topics[cases_topic(region)] == 3
        assert topics[dlq_topic(region)] == 1
    assert topics[DIGESTS_TOPIC] == 1
    assert topics[CSP_TOPIC] == 1
    assert topics[RECEIPTS_TOPIC] == 1
    assert broker.bootstrap == f"127.0.0.1:{broker.port}"


async def test_one_record_round_trips_over_the_socket(
    broker: EmbeddedBroker, fresh_topic: str
) -> None:
    offset = await _produce(broker.bootstrap, fresh_topic, b"case-1", b'{"v":1}')

    [record] = await _read_records(broker.bootstrap, fresh_topic, 1)
    assert offset == 0
    assert (record.key, record.value) == (b"case-1", b'{"v":1}')
    assert tuple(record.headers) == (("reason", b"test"),)


async def test_read_topics_reads_every_partition_from_the_beginning(
    broker: EmbeddedBroker,
) -> None:
    name = f"test.{uuid.uuid4().hex[:12]}"
    await ensure_topics(broker.bootstrap, [TopicSpec(name, partitions=3)])
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        for i in range(9):
            await producer.send_and_wait(name, f"v{i}".encode(), key=b"k", partition=i % 3)
    finally:
        await producer.stop()

    records = await read_topics(broker.bootstrap, [name], expected=9, idle=0.3)

    assert sorted(r.value or b"" for r in records) == [f"v{i}".encode() for i in range(9)]
    assert {r.partition for r in records} == {0, 1, 2}
    with pytest.raises(BrokerError, match="read 9 of 10"):
        await read_topics(broker.bootstrap, [name], expected=10, idle=0.1, time_limit=1.0)
    with pytest.raises(BrokerError, match="no topic"):
        await read_topics(broker.bootstrap, [f"{name}.missing"], time_limit=5.0)


async def test_an_embedded_broker_is_recognised_by_its_cluster_id(broker: EmbeddedBroker) -> None:
    assert await is_embedded_broker(broker.bootstrap)
    with pytest.raises(BrokerError, match="does not answer"):
        await is_embedded_broker(f"127.0.0.1:{pick_free_port()}", time_limit=3.0)


async def test_ensure_topics_is_idempotent(broker: EmbeddedBroker) -> None:
    name = f"test.{uuid.uuid4().hex[:12]}"
    specs = [TopicSpec(name, partitions=2), TopicSpec(DIGESTS_TOPIC)]

    first = await ensure_topics(broker.bootstrap, specs)
    second = await ensure_topics(broker.bootstrap, specs)

    assert first.created == (name,)
    assert first.existing == (DIGESTS_TOPIC,)
    assert second.created == ()
    assert set(second.existing) == {name, DIGESTS_TOPIC}
    assert (await _list_topics(broker.bootstrap))[name] == 2


@pytest.mark.slow
async def test_consumer_group_receives_the_record(broker: EmbeddedBroker, fresh_topic: str) -> None:
    # Tansu answers a first JoinGroup after half the session timeout (1 s at the least):
    # 2 s here instead of the 5 s aiokafka's default session timeout of 10 s would cost.
    await _produce(broker.bootstrap, fresh_topic, b"k", b"grouped")
    consumer = AIOKafkaConsumer(
        fresh_topic,
        bootstrap_servers=broker.bootstrap,
        group_id=f"test-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=4000,
        heartbeat_interval_ms=1000,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), WAIT)
        await consumer.commit()
        committed = await consumer.committed(TopicPartition(fresh_topic, 0))
    finally:
        await consumer.stop()

    assert (record.key, record.value) == (b"k", b"grouped")
    assert committed == 1


async def test_stop_ends_the_process_and_frees_the_port() -> None:
    embedded = EmbeddedBroker(topics=())
    await embedded.start()
    pid, port, log = embedded.pid, embedded.port, embedded.log_path
    assert pid is not None
    assert log is not None
    assert embedded.running
    assert not _refuses_connections(port)

    await embedded.stop()

    assert not embedded.running
    assert _process_gone(pid)
    assert _refuses_connections(port)
    assert not log.exists()
    await embedded.stop()  # a second stop is harmless


async def test_an_error_inside_async_with_still_stops_the_broker() -> None:
    seen: list[tuple[int, int]] = []

    async def fail_inside() -> None:
        async with EmbeddedBroker(topics=()) as embedded:
            assert embedded.pid is not None
            seen.append((embedded.pid, embedded.port))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await fail_inside()

    [(pid, port)] = seen
    assert _process_gone(pid)
    assert _refuses_connections(port)


async def test_two_brokers_run_side_by_side_independently() -> None:
    first, second = EmbeddedBroker(topics=()), EmbeddedBroker(topics=())
    await asyncio.gather(first.start(), second.start())
    try:
        assert first.port != second.port
        assert first.cluster_id != second.cluster_id
        await ensure_topics(first.bootstrap, [TopicSpec("shared.name"), TopicSpec("only.a")])
        await ensure_topics(second.bootstrap, [TopicSpec("shared.name")])

        await _produce(first.bootstrap, "shared.name", b"a", b"from-a")
        await _produce(second.bootstrap, "shared.name", b"b", b"from-b")

        assert await _read_partition(first.bootstrap, "shared.name", 1) == [(b"a", b"from-a")]
        assert await _read_partition(second.bootstrap, "shared.name", 1) == [(b"b", b"from-b")]
        assert "only.a" in await _list_topics(first.bootstrap)
        assert "only.a" not in await _list_topics(second.bootstrap)
    finally:
        await asyncio.gather(first.stop(), second.stop())
    assert not first.running
    assert not second.running


async def test_a_port_in_use_is_refused_with_the_port_named() -> None:
    async with EmbeddedBroker(topics=()) as holder:
        clash = EmbeddedBroker(port=holder.port, topics=(), start_timeout=WAIT)
        with pytest.raises(BrokerStartError, match=f"port {holder.port}") as caught:
            await clash.start()

        assert "--port" in caught.value.message
        assert not clash.running
        assert holder.running  # the broker that owns the port is untouched


async def test_a_restart_loses_every_record() -> None:
    embedded = EmbeddedBroker(topics=dief_topics(partitions=1))
    await embedded.start()
    port = embedded.port
    await _produce(embedded.bootstrap, cases_topic(Region.AFR), b"k", b"v")
    await embedded.stop()

    restarted = EmbeddedBroker(port=port, topics=())
    async with restarted:
        assert cases_topic(Region.AFR) not in await _list_topics(restarted.bootstrap)


async def test_an_advertised_port_keeps_clients_behind_the_proxy() -> None:
    name = f"test.{uuid.uuid4().hex[:12]}"
    async with broker_behind_proxy(topics=[TopicSpec(name)]) as stack:
        admin = AIOKafkaAdminClient(bootstrap_servers=stack.broker.bootstrap)
        await admin.start()
        try:
            cluster = await admin.describe_cluster()
        finally:
            await admin.close()
        up_before = stack.proxy.stats.bytes_up

        await _produce(stack.bootstrap, name, b"k", b"through the proxy")
        [record] = await _read_records(stack.broker.bootstrap, name, 1)

        assert [(b["host"], b["port"]) for b in cluster["brokers"]] == [
            ("127.0.0.1", stack.proxy.listen_port)
        ]
        assert stack.broker.advertised_bootstrap == stack.proxy.address
        assert stack.broker.port != stack.proxy.listen_port
        assert record.value == b"through the proxy"
        assert stack.proxy.stats.bytes_up > up_before

        await stack.proxy.cut()
        with pytest.raises(KafkaError):  # bootstrapped at the broker, sent to the proxy
            await _produce(stack.broker.bootstrap, name, b"k", b"cut", request_timeout_ms=1000)


async def _read_line_with(stream: asyncio.StreamReader, prefix: str) -> str:
    async with asyncio.timeout(WAIT):
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"output ended before a line starting {prefix!r}")
            if line.startswith(prefix):
                return line.removeprefix(prefix).strip()


_CLI = """
import typer
from dief.cli import broker
app = typer.Typer()
app.callback()(lambda: None)  # a group, so the command is invoked by its name
broker.register(app)
app()
"""


@pytest.mark.slow
async def test_cli_serves_until_sigterm_then_stops_the_broker() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CLI, "broker", "--partitions", "2",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        bootstrap = await _read_line_with(proc.stdout, "bootstrap: ")
        await _read_line_with(proc.stdout, "memory storage:")  # printed once topics exist
        topics = await _list_topics(bootstrap)
        assert topics[cases_topic(Region.WEOG)] == 2

        proc.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(proc.stdout.read(), WAIT)
        code = await asyncio.wait_for(proc.wait(), WAIT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

    assert code == 0
    assert b"stopping the broker" in rest
    assert _refuses_connections(int(bootstrap.rsplit(":", 1)[1]))

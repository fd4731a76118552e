"""dief.kafka reads what it needs from aiokafka through public calls only: the reader
takes a topic's partitions from the metadata of a public ``AIOKafkaClient``
(``fetch_all_metadata``), not from the consumer's private client; the capability probe asks
ApiVersions itself through the connection's public ``send``, not its private ``_versions``.

The fakes have no private attributes: a private read fails here as an AttributeError. The
consumer knows no topic's partitions (``partitions_for_topic`` is None), as on Apache Kafka
before the consumer tracks the topic. The same paths run against Tansu and Apache Kafka in
tests/integration (``broker_stack``) and tests/kafka/test_capabilities.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError
from aiokafka.protocol.admin import ApiVersionRequest
from aiokafka.protocol.transaction import InitProducerIdRequest

from dief.exceptions import BrokerError
from dief.kafka import _capabilities, _read, probe_capabilities, read_new, read_to_end
from dief.settings import KafkaSettings

_SETTINGS = KafkaSettings(bootstrap="127.0.0.1:9", embedded=True)


@dataclass(frozen=True)
class _Record:
    topic: str
    partition: int
    offset: int
    timestamp: int = 0
    key: bytes | None = None
    value: bytes | None = b"v"
    headers: tuple[tuple[str, bytes], ...] = ()


class _Cluster:
    def __init__(self, partitions: dict[str, set[int]]) -> None:
        self._partitions = partitions

    def topics(self) -> set[str]:
        return set(self._partitions)

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return self._partitions.get(topic)


class _Client:
    """aiokafka's public client: bootstrap, one metadata request, close."""

    cluster: ClassVar[_Cluster] = _Cluster({})
    fail: ClassVar[BaseException | None] = None
    log: ClassVar[list[str]] = []

    def __init__(self, **options: Any) -> None:  # noqa: ANN401  aiokafka's keyword arguments
        self.log.append(f"client {options['bootstrap_servers']} {options['client_id']}")

    async def bootstrap(self) -> None:
        if self.fail is not None:
            raise self.fail
        self.log.append("bootstrap")

    async def fetch_all_metadata(self) -> _Cluster:
        self.log.append("metadata")
        return self.cluster

    async def close(self) -> None:
        self.log.append("close")


class _Consumer:
    """A group-less consumer over fixed records that knows no topic's partitions."""

    records: ClassVar[dict[TopicPartition, list[_Record]]] = {}
    made: ClassVar[list[_Consumer]] = []

    def __init__(self, **_options: Any) -> None:  # noqa: ANN401  aiokafka's keyword arguments
        self.assigned: list[TopicPartition] = []
        self.positions: dict[TopicPartition, int] = {}
        self.fetched: set[TopicPartition] = set()
        self.stopped = False
        self.made.append(self)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.stopped = True

    def partitions_for_topic(self, _topic: str) -> set[int] | None:
        return None  # Apache Kafka: the consumer tracks no topic before its assignment

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.assigned = list(partitions)

    async def seek_to_beginning(self, tp: TopicPartition) -> None:
        self.positions[tp] = 0

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.positions[tp] = offset

    def highwater(self, tp: TopicPartition) -> int | None:
        return len(self.records.get(tp, [])) if tp in self.fetched else None

    async def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    async def getmany(self, *, timeout_ms: int) -> dict[TopicPartition, list[_Record]]:
        assert timeout_ms > 0
        out = {}
        for tp in self.assigned:
            self.fetched.add(tp)
            batch = self.records.get(tp, [])[self.positions[tp] :]
            self.positions[tp] += len(batch)
            if batch:
                out[tp] = batch
        return out


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_read, "AIOKafkaClient", _Client)
    monkeypatch.setattr(_read, "AIOKafkaConsumer", _Consumer)
    monkeypatch.setattr(_Client, "fail", None)
    monkeypatch.setattr(_Client, "log", [])
    monkeypatch.setattr(_Consumer, "made", [])
    t0, t1 = TopicPartition("t", 0), TopicPartition("t", 1)
    monkeypatch.setattr(
        _Consumer,
        "records",
        {t0: [_Record("t", 0, i) for i in range(2)], t1: [_Record("t", 1, i) for i in range(3)]},
    )
    monkeypatch.setattr(_Client, "cluster", _Cluster({"t": {1, 0}, "other": {0}}))


@pytest.mark.usefixtures("fakes")
async def test_the_reader_takes_the_partitions_from_a_public_clients_metadata() -> None:
    snapshot = await read_to_end(_SETTINGS, ["t"], time_limit=5.0, client_id="reader")
    assert _Client.log == ["client 127.0.0.1:9 reader", "bootstrap", "metadata", "close"]
    (consumer,) = _Consumer.made
    assert consumer.assigned == [TopicPartition("t", 0), TopicPartition("t", 1)]
    assert [(r.partition, r.offset) for r in snapshot.records] == [
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
        (1, 2),
    ]
    assert snapshot.ends == {("t", 0): 2, ("t", 1): 3}
    assert consumer.stopped


@pytest.mark.usefixtures("fakes")
async def test_a_topic_the_metadata_does_not_list_is_refused_and_the_client_closed() -> None:
    with pytest.raises(BrokerError, match=r"no topic t\.missing on 127\.0\.0\.1:9"):
        await read_to_end(_SETTINGS, ["t", "t.missing"], time_limit=5.0)
    assert _Client.log[-1] == "close"
    assert _Consumer.made[0].assigned == []
    assert _Consumer.made[0].stopped


@pytest.mark.usefixtures("fakes")
async def test_a_metadata_client_that_cannot_connect_is_a_broker_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_Client, "fail", KafkaConnectionError("Unable to bootstrap"))
    with pytest.raises(BrokerError, match=r"cannot read t from 127\.0\.0\.1:9"):
        await read_to_end(_SETTINGS, ["t"], time_limit=5.0)
    assert _Client.log[-1] == "close"
    assert _Consumer.made[0].stopped


@pytest.mark.usefixtures("fakes")
async def test_read_new_assigns_from_the_same_metadata_and_reads_on_from_its_start() -> None:
    found = await read_new(
        _SETTINGS,
        ["t"],
        {("t", 0): 2, ("t", 1): 1},
        done=lambda records: len(records) >= 2,  # the two records after start
        time_limit=5.0,
    )
    assert _Client.log[1:] == ["bootstrap", "metadata", "close"]
    assert _Consumer.made[0].assigned == [TopicPartition("t", 0), TopicPartition("t", 1)]
    assert [(r.partition, r.offset) for r in found] == [(1, 1), (1, 2)]


@dataclass
class _Answer:
    api_versions: list[tuple[int, int, int]]


@dataclass
class _ProducerId:
    error_code: int
    producer_id: int


class _Conn:
    """An open connection: public ``send`` and ``close`` only."""

    apis: ClassVar[list[tuple[int, int, int]]] = []
    sent: ClassVar[list[str]] = []

    async def send(self, request: object) -> object:
        if isinstance(request, ApiVersionRequest):
            self.sent.append("ApiVersions")
            return _Answer(self.apis)
        assert isinstance(request, InitProducerIdRequest)
        self.sent.append("InitProducerId")
        return _ProducerId(0, 7)

    def close(self) -> None:
        self.sent.append("close")


@pytest.fixture
def conn(monkeypatch: pytest.MonkeyPatch) -> type[_Conn]:
    async def create_conn(_host: str, _port: int, **_options: Any) -> _Conn:  # noqa: ANN401  aiokafka's keyword arguments
        return _Conn()

    monkeypatch.setattr(_capabilities, "create_conn", create_conn)
    monkeypatch.setattr(_Conn, "sent", [])
    return _Conn


async def test_the_probe_asks_api_versions_through_the_public_send(
    conn: type[_Conn], monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = [(key, 0, 3) for key in (0, 1, 3, 18, 22, 24, 25, 26, 28)]
    monkeypatch.setattr(conn, "apis", listed)
    found = await probe_capabilities(_SETTINGS, time_limit=5.0)
    assert conn.sent == ["ApiVersions", "InitProducerId", "close"]
    assert (found.address, found.idempotence, found.transactions) == ("127.0.0.1:9", True, True)


async def test_a_broker_that_lists_no_init_producer_id_is_not_asked_for_one(
    conn: type[_Conn], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conn, "apis", [(0, 0, 3), (1, 0, 3), (18, 0, 2)])
    found = await probe_capabilities(_SETTINGS, time_limit=5.0)
    assert conn.sent == ["ApiVersions", "close"]
    assert not found.idempotence
    assert not found.transactions
    assert found.notes == ("the broker lists no InitProducerId API: no idempotent producers",)

"""KafkaCluster.reset retries a retriable broker error with a new client (fresh metadata):
a partition leader that just moved answers NotLeaderForPartition, which Kafka's own clients
retry; any other refusal is raised at once. empty_topics_and_groups deletes the records and
every group (DeleteGroups to the group's coordinator through the public AIOKafkaClient),
a refusal or a failed request raised as BrokerError."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    NodeNotReadyError,
    NonEmptyGroup,
    NotLeaderForPartitionError,
)
from aiokafka.protocol.admin import DeleteGroupsRequest

from dief.exceptions import BrokerError
from dief.kafka_cluster import KafkaCluster
from dief.kafka_cluster import _cluster as cluster_module
from dief.kafka_cluster._reset import empty_topics_and_groups

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiokafka import TopicPartition


class _Admin:
    made = 0

    def __init__(self, **_options: object) -> None:
        type(self).made += 1

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class _Client:
    made = 0
    closed = 0

    def __init__(self, **_options: object) -> None:
        type(self).made += 1

    async def bootstrap(self) -> None:
        return None

    async def close(self) -> None:
        type(self).closed += 1


def _failing(errors: list[Exception]) -> Callable[[object, object, object], Awaitable[None]]:
    async def empty(_admin: object, _client: object, _topics: object) -> None:
        if errors:
            cause = errors.pop(0)
            raise BrokerError(f"emptying the cluster failed: {cause}") from cause

    return empty


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> KafkaCluster:
    _Admin.made = _Client.made = _Client.closed = 0
    monkeypatch.setattr(cluster_module, "AIOKafkaAdminClient", _Admin)
    monkeypatch.setattr(cluster_module, "AIOKafkaClient", _Client)
    made = KafkaCluster()
    monkeypatch.setattr(made, "client_options", dict)
    return made


async def test_a_moved_leader_is_asked_again_with_fresh_metadata(
    cluster: KafkaCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors: list[Exception] = [NotLeaderForPartitionError()]
    monkeypatch.setattr(cluster_module, "empty_topics_and_groups", _failing(errors))
    await cluster.reset()
    assert errors == []
    assert _Admin.made == 2
    assert _Client.made == _Client.closed == 2


async def test_a_refusal_is_raised_at_once(
    cluster: KafkaCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        cluster_module, "empty_topics_and_groups", _failing([GroupAuthorizationFailedError()])
    )
    with pytest.raises(BrokerError, match="emptying the cluster failed"):
        await cluster.reset()
    assert _Admin.made == 1
    assert _Client.made == _Client.closed == 1


async def test_a_leader_that_never_settles_fails_after_three_tries(
    cluster: KafkaCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors: list[Exception] = [NotLeaderForPartitionError() for _ in range(5)]
    monkeypatch.setattr(cluster_module, "empty_topics_and_groups", _failing(errors))
    with pytest.raises(BrokerError):
        await cluster.reset()
    assert _Admin.made == 3


@dataclass(frozen=True)
class _Response:
    results: list[tuple[str, int]]


class _GroupAdmin:
    """The admin calls empty_topics_and_groups makes: two topics, *groups* coordinated by
    node 7 (group ``g-a``) and node 8 (any other)."""

    def __init__(self, groups: list[str]) -> None:
        self.groups = groups
        self.deleted: dict[TopicPartition, object] = {}

    async def describe_topics(self, topics: list[str]) -> list[dict[str, object]]:
        return [{"topic": t, "error_code": 0, "partitions": [{"partition": 0}]} for t in topics]

    async def delete_records(
        self, partitions: dict[TopicPartition, object], timeout_ms: int
    ) -> None:
        assert timeout_ms > 0
        self.deleted = partitions

    async def list_consumer_groups(self) -> list[tuple[str, str]]:
        return [(g, "consumer") for g in self.groups]

    async def find_coordinator(self, group: str) -> int:
        return 7 if group == "g-a" else 8


class _GroupClient:
    """AIOKafkaClient's public ``send``: records (node, group names) and answers *codes*."""

    def __init__(self, codes: dict[str, int] | None = None, error: Exception | None = None) -> None:
        self.codes = codes or {}
        self.error = error
        self.sent: list[tuple[int, list[str]]] = []

    async def send(self, node_id: int, request: object) -> _Response:
        assert isinstance(request, DeleteGroupsRequest)
        names: list[str] = request.build(list)  # the request's group names, as built
        self.sent.append((node_id, names))
        if self.error is not None:
            raise self.error
        return _Response([(n, self.codes.get(n, 0)) for n in names])


async def test_every_group_is_deleted_at_its_coordinator_after_the_records() -> None:
    admin, client = _GroupAdmin(["g-a", "g-b"]), _GroupClient()
    await empty_topics_and_groups(admin, client, ["t1", "t2"])
    assert sorted(tp.topic for tp in admin.deleted) == ["t1", "t2"]
    assert client.sent == [(7, ["g-a"]), (8, ["g-b"])]


async def test_a_group_the_broker_refuses_to_delete_is_a_broker_error() -> None:
    admin = _GroupAdmin(["g-a", "g-b"])
    client = _GroupClient(codes={"g-a": NonEmptyGroup.errno})
    with pytest.raises(BrokerError, match=r"consumer group g-a: NonEmptyGroup$"):
        await empty_topics_and_groups(admin, client, ["t1"])
    assert client.sent == [(7, ["g-a"])]


async def test_a_failed_delete_groups_request_is_a_broker_error_with_its_cause() -> None:
    admin, client = _GroupAdmin(["g-a"]), _GroupClient(error=NodeNotReadyError("node 7"))
    with pytest.raises(
        BrokerError, match="emptying the cluster failed: NodeNotReadyError"
    ) as caught:
        await empty_topics_and_groups(admin, client, ["t1"])
    assert isinstance(caught.value.__cause__, NodeNotReadyError)

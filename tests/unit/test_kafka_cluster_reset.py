"""KafkaCluster.reset retries a retriable broker error with a new client (fresh metadata):
a partition leader that just moved answers NotLeaderForPartition, which Kafka's own clients
retry; any other refusal is raised at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from aiokafka.errors import GroupAuthorizationFailedError, NotLeaderForPartitionError

from dief.exceptions import BrokerError
from dief.kafka_cluster import KafkaCluster
from dief.kafka_cluster import _cluster as cluster_module

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable


class _Admin:
    made = 0

    def __init__(self, **_options: object) -> None:
        type(self).made += 1

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


def _failing(errors: list[Exception]) -> Callable[[object, object], Awaitable[None]]:
    async def empty(_admin: object, _topics: object) -> None:
        if errors:
            cause = errors.pop(0)
            raise BrokerError(f"emptying the cluster failed: {cause}") from cause

    return empty


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> KafkaCluster:
    _Admin.made = 0
    monkeypatch.setattr(cluster_module, "AIOKafkaAdminClient", _Admin)
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


async def test_a_refusal_is_raised_at_once(
    cluster: KafkaCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        cluster_module, "empty_topics_and_groups", _failing([GroupAuthorizationFailedError()])
    )
    with pytest.raises(BrokerError, match="emptying the cluster failed"):
        await cluster.reset()
    assert _Admin.made == 1


async def test_a_leader_that_never_settles_fails_after_three_tries(
    cluster: KafkaCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors: list[Exception] = [NotLeaderForPartitionError() for _ in range(5)]
    monkeypatch.setattr(cluster_module, "empty_topics_and_groups", _failing(errors))
    with pytest.raises(BrokerError):
        await cluster.reset()
    assert _Admin.made == 3

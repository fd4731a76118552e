"""Making a shared cluster look fresh between tests: every record of the given topics
deleted (DeleteRecords up to the high watermark) and every consumer group deleted, so the
next test's fixed group ids (``dief-aggregator-<region>``) start from the beginning of
empty topics — in well under a second, where a new cluster takes many.

aiokafka 0.14's admin client has no call to delete consumer groups; the DeleteGroups
request of its protocol module goes to the group's coordinator through the public
:class:`aiokafka.AIOKafkaClient` (``send(node_id, request)``), opened by the caller with
the admin's options — no private attribute of either client is touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from aiokafka.errors import KafkaError, for_code
from aiokafka.protocol.admin import DeleteGroupsRequest

from dief.exceptions import BrokerError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aiokafka import AIOKafkaClient

__all__ = ["empty_topics_and_groups"]

_HIGH_WATERMARK = -1


async def empty_topics_and_groups(
    admin: AIOKafkaAdminClient, client: AIOKafkaClient, topics: Sequence[str]
) -> None:
    """Delete every record of *topics* and every consumer group (none may have members).

    *admin* and *client* are started, with the same options: the admin deletes the
    records and finds each group's coordinator, *client* sends it the DeleteGroups
    request.

    :raises BrokerError: the broker refused (a group still has members, for example).
    """
    try:  # noqa: PLW0717  every failure of the step maps to one error
        described: list[dict[str, Any]] = await admin.describe_topics(list(topics))
        partitions = {
            TopicPartition(entry["topic"], part["partition"]): RecordsToDelete(_HIGH_WATERMARK)
            for entry in described
            if entry["error_code"] == 0
            for part in entry["partitions"]
        }
        if partitions:
            await admin.delete_records(partitions, timeout_ms=10_000)
        groups = [str(g[0]) for g in await admin.list_consumer_groups()]
        for group in groups:
            coordinator = await admin.find_coordinator(group)
            response = await client.send(coordinator, DeleteGroupsRequest([group]))
            for name, code in response.results:
                if code:
                    reason = for_code(code).__name__
                    raise BrokerError(f"cannot delete the consumer group {name}: {reason}")
    except KafkaError as exc:
        raise BrokerError(f"emptying the cluster failed: {type(exc).__name__}: {exc}") from exc

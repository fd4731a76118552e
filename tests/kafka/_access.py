"""Trying what a principal may do on the real cluster: write a topic, read it (assigned
partitions or in a consumer group), see it in the metadata.

Each probe returns ``True`` (done), or ``False`` (refused by an authorization error, or
the topic not even visible to it); anything else (a timeout, a broken connection) raises,
so a refusal is never confused with a slow broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Self

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)

if TYPE_CHECKING:
    from collections.abc import Generator

    from dief.kafka_cluster import KafkaCluster

_REFUSED = (TopicAuthorizationFailedError, GroupAuthorizationFailedError)


@contextlib.contextmanager
def quiet_aiokafka() -> Generator[None, None, None]:
    """Silence aiokafka, which logs every refusal at ERROR; these tests expect refusals."""
    loggers = [logging.getLogger(n) for n in ("aiokafka", "aiokafka.consumer.group_coordinator")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


class Writer:
    """One plain producer (``acks=all``, no idempotence: topic ACLs only) for one user."""

    def __init__(self, cluster: KafkaCluster, user: str) -> None:
        self._producer = AIOKafkaProducer(
            **cluster.client_options(user), acks="all", request_timeout_ms=10_000
        )

    async def __aenter__(self) -> Self:
        await self._producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._producer.stop()

    async def write(self, topic: str) -> bool:
        try:
            async with asyncio.timeout(20):
                await self._producer.send_and_wait(topic, b"acl-probe", key=b"acl-probe")
        except TopicAuthorizationFailedError:
            return False
        return True


async def visible_topics(cluster: KafkaCluster, user: str) -> set[str]:
    """The topics *user* may describe (the metadata lists only those)."""
    consumer = AIOKafkaConsumer(**cluster.client_options(user), request_timeout_ms=10_000)
    await consumer.start()
    try:
        return set(await consumer.topics())
    finally:
        await consumer.stop()


async def can_read(cluster: KafkaCluster, user: str, topic: str, group: str | None = None) -> bool:
    """Whether *user* gets the record the admin wrote to *topic* (partition 0 assigned, or
    the topic subscribed in *group*). Refusals come back as errors within seconds."""
    if topic not in await visible_topics(cluster, user):
        return False
    consumer = AIOKafkaConsumer(
        **cluster.client_options(user),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        request_timeout_ms=10_000,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1000,
    )
    await consumer.start()
    try:  # noqa: PLW0717  a refusal may come from any of these calls: all are under the one except
        if group is None:
            consumer.assign([TopicPartition(topic, 0)])
        else:
            consumer.subscribe([topic])
        async with asyncio.timeout(30):
            while True:
                got = await consumer.getmany(timeout_ms=500)
                if any(got.values()):
                    return True
    except _REFUSED:
        return False
    finally:
        with contextlib.suppress(KafkaError):
            await consumer.stop()

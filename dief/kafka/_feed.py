"""Following one topic without a consumer group: :class:`KafkaRecordFeed`.

The node's receipt reader follows ``dief.receipts`` this way: every partition assigned (no
group, so no join, nothing committed, nothing any other reader sees), read from the
positions the reader keeps in its own store. Whether it has caught up is judged, as in
:mod:`dief.kafka._read`, against the high watermark carried by the fetch responses, never
``end_offsets()`` (which Tansu answers wrongly after multi-record batches).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from dief.exceptions import BrokerError, StorageError
from dief.kafka._read import _assign, _describe, _stop_quietly, consumer_options
from dief.seams import InboundRecord

if TYPE_CHECKING:  # dief.settings imports the topic defaults from this package
    import logging
    from collections.abc import Awaitable, Callable, Mapping

    from dief.seams import Backoff
    from dief.settings import KafkaSettings

__all__ = ["KafkaRecordFeed", "follow_feed"]


class KafkaRecordFeed:
    """A :class:`dief.seams.RecordFeed` on one topic of the broker of *settings*.

    ``client_id`` is a role name, never a State's. Partitions added to the topic after
    :meth:`start` are read from the next start on.
    """

    def __init__(
        self,
        settings: KafkaSettings,
        topic: str,
        *,
        client_id: str = "dief-reader",
        request_timeout_ms: int = 15_000,
    ) -> None:
        # No I/O here: the options (and the CA file they read) are made in start().
        self._settings = settings
        self._topic = topic
        self._client_id = client_id
        self._timeout_ms = request_timeout_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._partitions: list[Any] = []

    def __repr__(self) -> str:
        return f"KafkaRecordFeed(topic={self._topic!r})"

    async def start(self, positions: Mapping[int, int]) -> None:
        """Assign every partition of the topic and seek to *positions* (partition → next
        offset; the beginning for a partition not in it). Started already: nothing.

        :raises BrokerError: the broker cannot be reached or has no such topic.
        :raises ConfigurationError: the CA file cannot be used.
        """
        if self._consumer is not None:
            return
        options = consumer_options(self._settings, request_timeout_ms=self._timeout_ms)
        consumer = AIOKafkaConsumer(**options, client_id=self._client_id)
        where = self._settings.bootstrap
        try:  # noqa: PLW0717  every failure of the read maps to one BrokerError
            async with asyncio.timeout(self._timeout_ms / 1000):
                await consumer.start()
                partitions = await _assign(
                    consumer,
                    self._settings,
                    [self._topic],
                    request_timeout_ms=self._timeout_ms,
                    client_id=self._client_id,
                )
                for tp in partitions:
                    offset = positions.get(tp.partition)
                    if offset is None:
                        await consumer.seek_to_beginning(tp)
                    else:
                        consumer.seek(tp, offset)
        except TimeoutError as exc:
            await _stop_quietly(consumer)
            raise BrokerError(f"cannot reach {where} within {self._timeout_ms / 1000:g} s") from exc
        except (KafkaError, OSError) as exc:
            await _stop_quietly(consumer)
            raise BrokerError(f"cannot read {self._topic} from {where}: {_describe(exc)}") from exc
        except BaseException:
            await _stop_quietly(consumer)
            raise
        self._consumer, self._partitions = consumer, partitions

    async def fetch(self, wait: float) -> list[InboundRecord]:
        """The records that came, in partition order (waiting at most *wait* seconds)."""
        consumer = self._require()
        try:
            batches = await consumer.getmany(timeout_ms=max(1, int(wait * 1000)))
        except (KafkaError, OSError) as exc:
            raise BrokerError(f"reading {self._topic} failed: {_describe(exc)}") from exc
        return [
            InboundRecord(r.topic, r.partition, r.offset, r.key, r.value)
            for batch in batches.values()
            for r in batch
        ]

    async def caught_up(self) -> bool:
        """Whether every partition was read up to the high watermark of its last fetch
        response (False while a partition has had none)."""
        consumer = self._require()
        try:
            for tp in self._partitions:
                high = consumer.highwater(tp)
                if high is None or await consumer.position(tp) < high:
                    return False
        except (KafkaError, OSError) as exc:
            raise BrokerError(f"reading {self._topic} failed: {_describe(exc)}") from exc
        return True

    async def close(self) -> None:
        consumer, self._consumer = self._consumer, None
        self._partitions = []
        if consumer is not None:
            await _stop_quietly(consumer)

    def _require(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise BrokerError(f"the feed of {self._topic} is not started")
        return self._consumer


async def follow_feed(  # noqa: PLR0913  the loop, its step and what it needs to fail well, by keyword
    stop: asyncio.Event,
    step: Callable[[], Awaitable[None]],
    *,
    close: Callable[[], Awaitable[None]],
    backoff: Backoff,
    log: logging.Logger,
    doing: str,
) -> None:
    """Run *step* (start if needed, fetch, handle) until *stop* is set; when the broker or
    the database fails, *close*, log "<doing> failed", wait ``backoff.delay(attempt)`` (or
    until *stop*) and go on; *close* at the end. The node's receipt reader and bulletin
    follower keep going this way while the node accepts cases."""
    attempt = 0
    try:
        while not stop.is_set():
            try:
                await step()
                attempt = 0
            except (BrokerError, StorageError) as exc:
                await close()
                delay = backoff.delay(attempt)
                attempt += 1
                log.warning("%s failed (%s); retrying in %.1fs", doing, exc.message, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
    finally:
        await close()

"""The node's receipt reader: what became of each record it posted (DESIGN §8 ⚑).

Every aggregator publishes a receipt per record it opened on ``dief.receipts``, keyed by
the record's receipt id. The node reads the whole topic without a consumer group (a
:class:`dief.seams.RecordFeed`: every partition assigned, nothing committed, nothing any
other reader sees), from the position it keeps in its outbox. A receipt whose id it does
not know is another node's and is skipped unread; one it knows is opened with the record's
receipt key, and one that does not open (altered, or a record that copied its envelope id
and was sealed under another key) is skipped too. The outcomes it opens are kept with the
position reached, in one transaction (:class:`ReceiptBook`): a restart goes on where it
stopped, and a receipt read twice changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING

from dief.crypto import open_receipt
from dief.exceptions import BrokerError, EnvelopeError
from dief.kafka import RECEIPTS_TOPIC, follow_feed
from dief.seams import Backoff, InboundRecord, RecordFeed

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from dief.node._receipts import ReceiptBook

__all__ = ["ReceiptReader"]

log = logging.getLogger("dief.node.receipts")

_RECEIPT_ID = re.compile(rb"[0-9a-f]{64}")
#: Longest wait of one fetch, so that a stop is seen soon.
_FETCH_WAIT = 0.5


class ReceiptReader:
    """Reads ``dief.receipts`` from *feed* into the receipt tables of *book*."""

    def __init__(
        self,
        book: ReceiptBook,
        feed: RecordFeed,
        *,
        topic: str = RECEIPTS_TOPIC,
        backoff: Backoff | None = None,
    ) -> None:
        self._book = book
        self._feed = feed
        self._topic = topic
        self._backoff = backoff or Backoff()
        self._started = False
        #: Receipts of this node's records kept so far (opened and recorded).
        self.received = 0

    def __repr__(self) -> str:
        return f"ReceiptReader(topic={self._topic!r}, received={self.received})"

    async def handle(self, records: Sequence[InboundRecord]) -> int:
        """Keep the outcomes of this node's receipts among *records* and the position after
        them; returns how many outcomes changed."""
        ids = {r.key.decode("ascii") for r in records if r.key and _RECEIPT_ID.fullmatch(r.key)}
        keys = await self._book.keys(sorted(ids)) if ids else {}
        known = {rid.encode("ascii"): rid for rid in keys}
        outcomes: list[tuple[str, str, str | None]] = []
        positions: dict[int, int] = {}
        for rec in records:
            positions[rec.partition] = max(positions.get(rec.partition, 0), rec.offset + 1)
            rid = known.get(rec.key) if rec.key is not None else None
            if rid is None or rec.value is None:
                continue  # another node's receipt, or not a receipt: never opened
            try:
                receipt = open_receipt(keys[rid], rid, rec.value)
            except EnvelopeError as exc:
                # A copied id, or something altered: nothing of it is kept.
                log.info("skipped a receipt that does not open (%s)", exc.code)
                continue
            outcomes.append((rid, str(receipt.outcome), receipt.reason))
        changed = await self._book.record(outcomes, positions, topic=self._topic)
        self.received += len(outcomes)
        return changed

    async def read_until(self, done: Callable[[], Awaitable[bool]], time_limit: float) -> bool:
        """Read until ``done()`` is true (True) or *time_limit* seconds passed (False).

        :raises BrokerError: the broker cannot be reached (or has no receipts topic).
        :raises StorageError: the outbox cannot be read or written.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + time_limit
        try:
            async with asyncio.timeout(max(time_limit, 0.0) + 1.0):
                await self._start()
        except TimeoutError as exc:
            raise BrokerError(f"cannot read {self._topic} within {time_limit:g} s") from exc
        while not await done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            records = await self._feed.fetch(min(remaining, _FETCH_WAIT))
            if records:
                await self.handle(records)
        return True

    async def caught_up(self) -> bool:
        """Whether every partition was read to its high watermark (see ``RecordFeed``)."""
        return self._started and await self._feed.caught_up()

    async def run(self, stop: asyncio.Event) -> None:
        """Read receipts until *stop* is set, retrying with backoff when the broker or the
        outbox fails (a node keeps accepting cases meanwhile)."""
        await follow_feed(
            stop, self._step, close=self.close, backoff=self._backoff, log=log,
            doing="reading receipts",
        )  # fmt: skip

    async def _step(self) -> None:
        await self._start()
        records = await self._feed.fetch(_FETCH_WAIT)
        if records:
            await self.handle(records)

    async def close(self) -> None:
        self._started = False
        await self._feed.close()

    async def _start(self) -> None:
        """Start the feed from the positions kept in the outbox (unless started)."""
        if not self._started:
            await self._feed.start(await self._book.positions(self._topic))
            self._started = True

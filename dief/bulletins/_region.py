"""Bulletins beside a running aggregator service: one collector per served region.

:class:`RegionBulletins` is the ``applied`` hook of every served region's aggregator
(:meth:`offer` routes a record to its region's collector), learns the current group key
from the releases on ``dief.bulletins`` (:meth:`take_release`, checked against the
directory the service holds: a release of another directory version, or not signed by the
directory signer, is passed over) and, in :meth:`run`, sends each region's batches as they
fall due. Until a group key for the held directory is known, bulletins stay queued.
With a :class:`~dief.bulletins.BulletinLedger` (the service's database), every collector
keeps what it releases and retracts there, and :meth:`recall` restores their memory at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from pydantic import ValidationError as PydanticValidationError

from dief.bulletins._collector import DEFAULT_INTERVAL, DEFAULT_JITTER, BulletinCollector
from dief.bulletins._seal import BULLETINS_TOPIC, GROUP_KEY_PREFIX, BulletinSealer
from dief.bulletins._service import BulletinPublisher
from dief.exceptions import DiefError, DirectoryError
from dief.kafka import read_to_end
from dief.keyring import ForumDirectory, verify_bulletin_group_key
from dief.seams import BulletinRelease, Clock, RecordSink, SystemClock
from dief.wire import BulletinGroupKeyRelease, CaseRecord

if TYPE_CHECKING:
    from dief.bulletins._ledger import BulletinLedger
    from dief.crypto import KemPublicKey, SigningKey
    from dief.settings import KafkaSettings

__all__ = ["RegionBulletins", "StoredCases"]

log = logging.getLogger("dief.bulletins")


class _Stored(Protocol):
    @property
    def case_id(self) -> str: ...
    @property
    def revision(self) -> int: ...
    @property
    def status(self) -> str: ...


#: A region's stored cases (``CaseStore.stored_cases``): the latest revision and status.
StoredCases = Callable[[str], Awaitable[Sequence[_Stored]]]


class RegionBulletins:
    """The bulletins of the regions one aggregator service serves."""

    def __init__(  # noqa: PLR0913  a public keyword signature, used outside dief/bulletins
        self,
        regions: Iterable[str],
        *,
        signing_key: Callable[[str], SigningKey],
        directory: Callable[[], ForumDirectory],
        sink: RecordSink,
        release: BulletinRelease | None = None,
        any_case: bool = False,
        interval: float = DEFAULT_INTERVAL,
        jitter: float = DEFAULT_JITTER,
        clock: Clock | None = None,
        ledger: BulletinLedger | None = None,
    ) -> None:
        self._clock = clock if clock is not None else SystemClock()
        self._signing_key = signing_key
        self._directory = directory
        self._sink = sink
        self._group: tuple[int, KemPublicKey] | None = None
        self._publishers: dict[str, BulletinPublisher] = {}
        self.collectors = {
            r: BulletinCollector(
                r,
                release=release,
                any_case=any_case,
                interval=interval,
                jitter=jitter,
                clock=self._clock,
                ledger=ledger,
            )
            for r in regions
        }

    def __repr__(self) -> str:
        return (
            f"RegionBulletins(regions={sorted(self.collectors)}, keyed={self._group is not None})"
        )

    async def recall(self, cases: StoredCases | None = None) -> int:
        """Every collector's case → bulletin id memory from the ledger (before the first
        record is applied: a case revised after a restart still retracts its bulletin);
        with *cases* (the store's ``stored_cases``), a bulletin whose case was revised or
        withdrawn meanwhile is retracted with the next batch."""
        recalled = 0
        for region, collector in self.collectors.items():
            current = None
            if cases is not None:
                current = {c.case_id: (c.revision, c.status) for c in await cases(region)}
            recalled += await collector.recall(current)
        return recalled

    def offer(self, record: CaseRecord) -> None:
        """The aggregators' ``applied`` hook."""
        collector = self.collectors.get(str(record.region))
        if collector is not None:
            collector.offer(record)

    def take_release(self, value: bytes) -> bool:
        """Seal to the group key of *value* from now on, if it is the held directory's."""
        try:
            release = BulletinGroupKeyRelease.model_validate_json(value)
            public = verify_bulletin_group_key(release, self._directory())
        except (PydanticValidationError, DirectoryError):
            return False
        self._group = (release.directory_version, public)
        for publisher in self._publishers.values():
            publisher.sealer.renew(public)
        return True

    def _publisher(self, region: str) -> BulletinPublisher | None:
        if self._group is None or self._group[0] != self._directory().version:
            return None  # no group key for the directory held: bulletins wait
        if region not in self._publishers:
            sealer = BulletinSealer(
                region, self._signing_key(region), self._group[1], clock=self._clock
            )
            self._publishers[region] = BulletinPublisher(
                self.collectors[region], sealer, self._sink, clock=self._clock
            )
        return self._publishers[region]

    async def tick(self, *, force: bool = False) -> int:
        """Send every region's batch now due; the entries sent."""
        sent = 0
        for region in self.collectors:
            publisher = self._publisher(region)
            if publisher is None:
                continue
            try:
                sent += len(await publisher.tick(force=force))
            except DiefError as exc:
                log.error(  # noqa: TRY400  logged by type only: no case text reaches the log
                    "%s: a bulletin batch was not sent (%s)", region, type(exc).__name__
                )
        return sent

    async def follow_keys(self, settings: KafkaSettings, *, time_limit: float = 30.0) -> None:
        """Read the group key releases on ``dief.bulletins`` (the whole topic, once)."""
        snapshot = await read_to_end(
            settings, [BULLETINS_TOPIC], time_limit=time_limit, client_id="dief-bulletin-keys"
        )
        for record in snapshot.records:
            if (record.key or b"").startswith(GROUP_KEY_PREFIX):
                self.take_release(record.value or b"")

    async def run(
        self, stop: asyncio.Event, settings: KafkaSettings | None = None, refresh: float = 60.0
    ) -> None:
        """Send batches as they fall due until *stop*; with *settings*, look for a new
        group key release every *refresh* seconds while none for the held directory is
        known."""
        next_look = 0.0
        while not stop.is_set():
            now = self._clock.now()
            if settings is not None and now >= next_look and self._publisher_missing():
                try:
                    await self.follow_keys(settings)
                except DiefError as exc:
                    log.warning("group key releases not read (%s)", type(exc).__name__)
                next_look = now + refresh
            await self.tick()
            due = min((c.due_at for c in self.collectors.values()), default=now + refresh)
            wait = max(0.05, min(due, next_look if settings else due) - self._clock.now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)

    def _publisher_missing(self) -> bool:
        return self._group is None or self._group[0] != self._directory().version

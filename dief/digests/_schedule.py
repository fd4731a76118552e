"""Issuing closed periods on a schedule, as a regional aggregator does "on every closed month".

:class:`DigestSchedule` runs one pass at start and then one every *interval* seconds until
stopped. A pass calls a :data:`PublishRegion` for each region in turn; the usual one,
:func:`closed_period_publisher`, reads the region's lessons and calls
:func:`dief.digests.publish_closed_periods` (only what changed since its last published
version is issued, so a pass over unchanged data publishes nothing). A region whose pass
fails is logged and tried again on a shorter backoff (never later than the next regular
pass); the schedule itself never stops for it.

:func:`issuer_from_keyring` makes the :class:`DigestIssuer` of a region from an unlocked
keyring: the region's active signing key and the Secretariat's active KEM public keys; with
``routes=True`` also its :class:`~dief.routes.RouteIssuer`, so the region's route tables
are issued with its digests, each sealed to the receiving region's KEM keys as the
directory lists them when the table is sealed (:class:`DirectoryRegionKeys`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from dief.crypto import KemPublicKey
from dief.digests._lessons import CaseLesson, LessonOpener, open_lessons
from dief.digests._publish import DigestIssuer, PublishedDigest, publish_closed_periods
from dief.exceptions import ConfigurationError, DiefError
from dief.keyring import KeyRole, KeySource
from dief.periods import DEFAULT_CYCLE_START_MONTH
from dief.routes import RouteIssuer
from dief.seams import Clock, RecordSink, SystemClock
from dief.vocab import Region

if TYPE_CHECKING:
    from dief.aggregator.store import CaseStore
    from dief.catalogue import Catalogue

__all__ = [
    "DigestSchedule",
    "DirectoryRegionKeys",
    "PassHook",
    "PublishRegion",
    "SchedulePass",
    "closed_period_publisher",
    "issuer_from_keyring",
    "read_lessons",
    "today_of",
]

log = logging.getLogger("dief.digests")

#: Issues what is due for one region on a day; returns what it published.
PublishRegion = Callable[[Region, date], Awaitable[Sequence[PublishedDigest]]]


@dataclass(frozen=True, slots=True)
class SchedulePass:
    """What one pass did: the digests published and the regions that failed (with the
    error's one-line message)."""

    day: date
    published: tuple[PublishedDigest, ...]
    failed: tuple[tuple[Region, str], ...]

    @property
    def ok(self) -> bool:
        return not self.failed


PassHook = Callable[[SchedulePass], None]


def today_of(clock: Clock) -> date:
    """The UTC calendar day of *clock*."""
    return datetime.fromtimestamp(clock.now(), UTC).date()


class DirectoryRegionKeys(Mapping[Region, tuple[KemPublicKey, ...]]):
    """Every region's active KEM public keys but *sender*'s, as *ring*'s directory lists
    them at each lookup (a rotation needs no restart); a region without one maps to ``()``
    (its route table is then not sent, with a warning)."""

    def __init__(self, ring: KeySource, sender: Region) -> None:
        self._ring = ring
        self._regions = tuple(r for r in Region if r is not sender)

    def __repr__(self) -> str:
        return f"DirectoryRegionKeys(regions={len(self._regions)})"

    def __getitem__(self, region: Region) -> tuple[KemPublicKey, ...]:
        if region not in self._regions:
            raise KeyError(region)
        try:
            return tuple(self._ring.sealing_keys(KeyRole.REGION, region.value))
        except DiefError:  # no active key listed, or no directory yet
            return ()

    def __iter__(self) -> Iterator[Region]:
        return iter(self._regions)

    def __len__(self) -> int:
        return len(self._regions)


def issuer_from_keyring(  # noqa: PLR0913  public keyword signature (the issuer's settings), used by consumers/ and dief/cli
    ring: KeySource,
    region: Region,
    sink: RecordSink,
    *,
    catalogue: Catalogue,
    k_meeting: int = 2,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
    clock: Clock | None = None,
    routes: bool = False,
    k_csp: int = 3,
    route_issuer: RouteIssuer | None = None,
) -> DigestIssuer:
    """The issuer of *region*'s digests with the keys of an unlocked *ring*.

    With *routes*, the digests carry a :class:`RouteIssuer` (protected with *k_meeting* and
    *k_csp*, sealed to :class:`DirectoryRegionKeys`): *route_issuer* if given (to keep what
    an earlier issuer of the region sent), else a new one.

    :raises KeyNotFoundError: the ring holds no active signing key of *region*.
    :raises ConfigurationError: the ring holds no active Secretariat KEM public key.
    """
    signer = ring.signing_key(KeyRole.REGION, region.value)
    recipients = tuple(ring.sealing_keys(KeyRole.SECRETARIAT))
    if not recipients:
        raise ConfigurationError(
            f"the keys at hand list no Secretariat KEM public key to seal {region.value}'s "
            "digests to"
        )
    when = clock if clock is not None else SystemClock()
    issuer_of_routes = None
    if routes:
        issuer_of_routes = route_issuer or RouteIssuer(
            region=region,
            signer=signer,
            recipients=DirectoryRegionKeys(ring, region),
            sink=sink,
            k_meeting=k_meeting,
            k_csp=k_csp,
            start_month=start_month,
            clock=when,
        )
    return DigestIssuer(
        region=region,
        signer=signer,
        recipients=recipients,
        sink=sink,
        catalogue=catalogue,
        k_meeting=k_meeting,
        start_month=start_month,
        clock=when,
        routes=issuer_of_routes,
        k_csp=k_csp,
    )


async def read_lessons(
    store: CaseStore, region: Region, opener: LessonOpener | None
) -> tuple[CaseLesson, ...] | None:
    """*region*'s shareable lessons from its sealed cases, or ``None`` without an opener
    (the digests then say lessons were omitted). Opening runs in a worker thread: it is
    O(cases) and must not hold up the consumers sharing the event loop."""
    if opener is None:
        return None
    rows = await store.sealed_cases(region.value)
    found = await asyncio.to_thread(open_lessons, region, [v for _id, v in rows], opener)
    return found.lessons


def closed_period_publisher(
    store: CaseStore,
    issuers: Mapping[Region, DigestIssuer],
    *,
    openers: Mapping[Region, LessonOpener] | None = None,
) -> PublishRegion:
    """A :data:`PublishRegion` issuing *region*'s changed closed periods with its issuer,
    lessons opened with its opener (without one, lessons are omitted)."""

    async def publish(region: Region, day: date) -> Sequence[PublishedDigest]:
        issuer = issuers[region]
        lessons = await read_lessons(store, region, (openers or {}).get(region))
        return await publish_closed_periods(store, region, day, issuer=issuer, lessons=lessons)

    return publish


class DigestSchedule:
    """Runs *publish* for every region at start, then every *interval* seconds.

    ``start()`` launches the background task; ``stop()`` lets a pass in progress finish
    (up to *grace* seconds, then cancels it: an interrupted publish only leaves a gap in
    the version numbers) and returns once the task has ended. A failed region is retried
    after a backoff that starts at *retry_initial* seconds and doubles, never later than
    the next regular pass.
    """

    def __init__(  # noqa: PLR0913  public keyword constructor, used by consumers/aggregator.py
        self,
        regions: Sequence[Region],
        publish: PublishRegion,
        *,
        interval: float,
        clock: Clock | None = None,
        on_pass: PassHook | None = None,
        retry_initial: float = 5.0,
    ) -> None:
        if interval <= 0:
            raise ConfigurationError("the digest interval is a positive number of seconds")
        if retry_initial <= 0:
            raise ConfigurationError("retry_initial is a positive number of seconds")
        self._regions = tuple(regions)
        self._publish = publish
        self._interval = interval
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._on_pass = on_pass
        self._retry_initial = retry_initial
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        regions = [r.value for r in self._regions]
        return f"DigestSchedule(regions={regions}, interval={self._interval:g}s)"

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def run_once(self) -> SchedulePass:
        """One pass over every region; never raises for a region's failure."""
        day = today_of(self._clock)
        published: list[PublishedDigest] = []
        failed: list[tuple[Region, str]] = []
        for region in self._regions:
            try:
                published.extend(await self._publish(region, day))
            except DiefError as exc:
                failed.append((region, exc.message))
                log.error(  # noqa: TRY400  the reason only: an expected failure needs no traceback
                    "%s: digests not published (%s); retrying later", region.value, exc.message
                )
            except Exception as exc:  # a background loop must outlive an unforeseen bug
                failed.append((region, type(exc).__name__))
                log.exception("%s: digests not published; retrying later", region.value)
        done = SchedulePass(day, tuple(published), tuple(failed))
        if self._on_pass is not None:
            self._on_pass(done)
        return done

    def _next_delay(self, failures: int) -> float:
        if failures == 0:
            return self._interval
        return min(self._interval, self._retry_initial * 2.0 ** min(failures - 1, 30))

    async def _loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            done = await self.run_once()
            failures = 0 if done.ok else failures + 1
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._next_delay(failures)):
                    await self._stopping.wait()

    def start(self) -> None:
        """Launch the schedule (its first pass begins at once)."""
        if self.running:
            return
        self._stopping.clear()
        self._task = asyncio.get_running_loop().create_task(
            self._loop(), name="dief-digest-schedule"
        )

    async def stop(self, grace: float = 30.0) -> None:
        """Stop after the pass in progress (cancelled after *grace* seconds)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            log.warning("digest pass still running after %.0fs; cancelled", grace)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

"""Holding the current directory and following ``dief.directory`` (DESIGN §4 ⚑).

:class:`DirectoryHolder` keeps the newest verified directory: :meth:`~DirectoryHolder.offer`
takes any candidate (a record, a file), keeps a newer valid one, ignores the same version,
and refuses — logged with its reason, never raised into the caller's loop — an unsigned,
older, expired or invalid one. Callbacks run on every change and the warnings about a
region's keys are logged. :class:`DirectoryFollower` offers every record of a
:class:`dief.seams.RecordFeed` to a holder, so a service picks up a new version without a
restart. :func:`publish_directory` writes one version under the keys ``current`` and
``v<version>`` of the compacted topic.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from dief.exceptions import BrokerError, ConfigurationError, DiefError
from dief.keyring._directory import ForumDirectory, verify_directory
from dief.keyring._statements import normalise_fingerprint
from dief.seams import Backoff, Clock, RecordFeed, RecordSink, SystemClock

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "FIRST_DIRECTORY_SECONDS",
    "DirectoryFollower",
    "DirectoryHolder",
    "Offer",
    "OfferOutcome",
    "first_directory",
    "publish_directory",
]

_log = logging.getLogger("dief.directory")


class OfferOutcome(StrEnum):
    ACCEPTED = "accepted"
    SAME = "same"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Offer:
    """What :meth:`DirectoryHolder.offer` did with a candidate."""

    outcome: OfferOutcome
    version: int | None
    reason: str | None = None
    """For a refusal: the error code (``rollback``, ``expired``, ``rule``, ...)."""
    detail: str | None = None


class DirectoryHolder:
    """The current verified directory of one party, pinned to the forum root."""

    def __init__(
        self,
        root_fingerprint: str,
        *,
        clock: Clock | None = None,
        current: ForumDirectory | None = None,
    ) -> None:
        self._fingerprint = normalise_fingerprint(root_fingerprint)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._current = current
        self._callbacks: list[Callable[[ForumDirectory], None]] = []
        self._changed = asyncio.Event()

    def __repr__(self) -> str:
        version = self._current.version if self._current is not None else None
        return f"DirectoryHolder(version={version})"

    @property
    def current(self) -> ForumDirectory | None:
        return self._current

    def require(self) -> ForumDirectory:
        """The current directory; :class:`DiefError` if none was accepted yet."""
        if self._current is None:
            raise DiefError("no verified forum directory yet", code="directory")
        return self._current

    def on_change(self, callback: Callable[[ForumDirectory], None]) -> None:
        """Call *callback* with every newly accepted directory."""
        self._callbacks.append(callback)

    async def wait_for_version(self, version: int, wait: float) -> ForumDirectory:
        """Wait (at most *wait* seconds) until a directory of *version* or newer is held;
        :class:`TimeoutError` otherwise."""
        async with asyncio.timeout(wait):
            while self._current is None or self._current.version < version:
                self._changed.clear()
                await self._changed.wait()
        return self._current

    def offer(self, raw: bytes | None) -> Offer:
        """Verify *raw* against the root and the directory held; keep it if newer."""
        if not raw:
            return self._refuse(None, "malformed", "an empty record")
        try:
            verified = verify_directory(raw, self._fingerprint, self._current, self._clock.now())
        except DiefError as exc:
            return self._refuse(None, exc.code, exc.message)
        if verified is self._current:
            return Offer(OfferOutcome.SAME, verified.version)
        self._current = verified
        for warning in verified.warnings:
            _log.warning("forum directory v%d: %s", verified.version, warning)
        _log.info(
            "forum directory v%d accepted (expires %s)", verified.version, verified.document.expires
        )
        for callback in list(self._callbacks):
            try:
                callback(verified)
            except Exception:  # a subscriber's bug must not stop the others  # noqa: BLE001  a subscriber's bug must not stop the others (logged)
                _log.exception("a directory change callback failed")
        self._changed.set()
        return Offer(OfferOutcome.ACCEPTED, verified.version)

    @staticmethod
    def _refuse(version: int | None, reason: str, detail: str) -> Offer:
        if reason == "rollback":
            _log.info("forum directory refused (%s): %s", reason, detail)
        else:
            _log.warning("forum directory refused (%s): %s", reason, detail)
        return Offer(OfferOutcome.REFUSED, version, reason, detail)


class DirectoryFollower:
    """Offers every record of ``dief.directory`` (through *feed*) to *holder*."""

    def __init__(
        self,
        feed: RecordFeed,
        holder: DirectoryHolder,
        *,
        wait: float = 1.0,
        backoff: Backoff | None = None,
    ) -> None:
        self._feed = feed
        self._holder = holder
        self._wait = wait
        self._backoff = backoff if backoff is not None else Backoff()

    def __repr__(self) -> str:
        return f"DirectoryFollower({self._feed!r}, {self._holder!r})"

    async def poll(self) -> list[Offer]:
        """Start the feed (from the beginning) if needed, fetch once, offer what came."""
        await self._feed.start({})
        records = await self._feed.fetch(self._wait)
        return [self._holder.offer(record.value) for record in records]

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Follow until *stop* is set (or the task is cancelled); broker failures back off."""
        attempt = 0
        try:
            while stop is None or not stop.is_set():
                try:
                    await self.poll()
                    attempt = 0
                except BrokerError as exc:
                    _log.warning("reading the forum directory failed: %s", exc.message)
                    await self._feed.close()
                    await asyncio.sleep(self._backoff.delay(attempt))
                    attempt += 1
        finally:
            await self._feed.close()


#: How long a service reads ``dief.directory`` for a first directory when no file gave one.
FIRST_DIRECTORY_SECONDS = 15.0


async def first_directory(
    follower: DirectoryFollower,
    holder: DirectoryHolder,
    *,
    seconds: float = FIRST_DIRECTORY_SECONDS,
) -> None:
    """Read ``dief.directory`` until a directory verifies (at most *seconds*): what a
    service started without a directory file does before anything else.

    :raises ConfigurationError: none verified in time, or the broker did not answer.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    problem = "none was published"
    while holder.current is None and loop.time() < deadline:
        try:
            await follower.poll()
        except BrokerError as exc:
            problem = exc.message
            break
    if holder.current is None:
        raise ConfigurationError(
            "no forum directory: give its file (DIEF_DIRECTORY__FILE), or publish it on "
            f"dief.directory ({problem})"
        )


async def publish_directory(
    sink: RecordSink, directory: ForumDirectory, topic: str | None = None
) -> None:
    """Publish *directory* under the keys ``v<version>`` and ``current`` (compacted topic
    ``dief.directory`` unless *topic*)."""
    if topic is None:
        from dief.kafka import DIRECTORY_TOPIC  # imported here: the keyring needs no Kafka  # noqa: PLC0415  imported here: the keyring needs no Kafka

        topic = DIRECTORY_TOPIC
    await sink.send(topic, f"v{directory.version}".encode("ascii"), directory.raw)
    await sink.send(topic, b"current", directory.raw)

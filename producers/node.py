"""The national node service: file intake (CLI and a watched directory), the outbox relay
and the receipt reader (what became of each record posted, DESIGN §8).

Thin wiring: the logic is in :mod:`dief.node`. Built once from :class:`NodeSettings` by
:func:`create_node`, started with :meth:`NodeService.start`, stopped with
:meth:`NodeService.stop`; :meth:`NodeService.run` serves until its stop event is set
(SIGTERM in ``dief node``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

from dief.catalogue import load_catalogue
from dief.exceptions import BrokerError, ConfigurationError, StorageError
from dief.kafka import RECEIPTS_TOPIC, KafkaRecordFeed, NodePublisher
from dief.keyring import KeyRole
from dief.node import (
    CaseReceipts,
    NationalNode,
    NodeIdentity,
    Outbox,
    OutboxRelay,
    ReceiptBook,
    ReceiptReader,
    ReceiptState,
    Rejection,
    SubmitReport,
    write_rejections,
)
from dief.observability import NodeObservability
from dief.seams import Backoff
from dief.settings import NodeSettings
from dief.testing import FakeCredentials
from dief.vocab import Region
from dief.wire import load_cases

__all__ = ["FileResult", "NodeService", "create_node", "node_receipts"]

#: The refusal of a file that holds no case at all (an empty file, or only blank lines).
_NO_CASES = Rejection(
    line=1, case_id=None, reason="no_cases", message="the file holds no case to post"
)

log = logging.getLogger("dief.node")

#: A file modified more recently than this is left for the next tick (it may be half-written).
_SETTLE_SECONDS = 1.0
_INTAKE_SUFFIXES = {".json", ".jsonl", ".ndjson", ".yaml", ".yml"}


@dataclass(frozen=True, slots=True)
class FileResult:
    path: Path
    report: SubmitReport
    duplicate: bool = False


class NodeService:
    """One national node process."""

    def __init__(self, settings: NodeSettings, passphrase: SecretStr | None) -> None:
        self._settings = settings
        self._passphrase = passphrase
        self._outbox = Outbox(settings.outbox)
        self._node: NationalNode | None = None
        self._relay: OutboxRelay | None = None
        self._book = ReceiptBook(self._outbox)
        self._receipts = _receipt_reader(self._book, settings)
        # /metrics, /healthz, /readyz (DIEF_METRICS__*), served while run() relays
        self.observability = NodeObservability(settings.metrics)

    def __repr__(self) -> str:
        return "NodeService()"  # a node's name may be its State's: never printed

    async def start(self) -> None:
        ring = self._settings.keyring.unlock(self._passphrase, "the node secret is")
        secret = ring.node_secret(self._settings.node)
        recipients = {r: ring.sealing_keys(KeyRole.REGION, r.value) for r in Region}
        await self._outbox.start()
        self._node = NationalNode.for_regions(
            NodeIdentity(secret),
            self._outbox,
            recipients,
            # Stand-in credential source until the integrator wires dief.credentials'
            # TokenWallet (tokens per (cycle, region) from the issuer) here.
            credentials=FakeCredentials(secret.secret_bytes()),
            start_month=self._settings.cycle_start_month,
            catalogue_version=load_catalogue().version,
        )
        publisher = NodePublisher(self._settings.kafka, client_id="dief-node")
        self._relay = OutboxRelay(
            self._outbox,
            publisher,
            batch=self._settings.relay_batch,
            backoff=Backoff(maximum=self._settings.relay_backoff_max),
            max_delay=self._settings.relay_max_delay_seconds,
        )

    async def stop(self) -> None:
        if self._relay is not None:
            await self._relay.close()
        await self._receipts.close()
        await self._outbox.stop()

    async def post(self, paths: Sequence[Path], *, again: bool = False) -> list[FileResult]:
        """Validate, screen, seal and write the cases in *paths* to the outbox.

        A file whose exact bytes were all accepted before is skipped
        (``FileResult.duplicate``) unless *again*: a node restarted between posting a file and
        moving it away must not post its cases twice. In any other file, each new case this
        node already accepted is reported as already posted and skipped (unless *again*), so
        re-posting a corrected file never sends its good cases twice. A file with no case is
        refused (``no_cases``).
        """
        node = self._require_node()
        today = datetime.now(UTC).date()
        results = []
        for path in paths:
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as exc:
                raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from exc
            if not again and await self._outbox.seen(digest):
                results.append(FileResult(path, SubmitReport(), duplicate=True))
                continue
            items = list(load_cases(path, today=today))
            if not items:
                report = SubmitReport(rejected=[_NO_CASES])
            else:
                report = await node.submit(items, source=digest, again=again)
            results.append(FileResult(path, report))
        if self._relay is not None:
            self._relay.notify()
        return results

    async def publish_pending(self, seconds: float) -> int:
        """Try once to publish what is pending; raises BrokerError if the broker is away."""
        relay = self._require_relay()
        try:
            return await asyncio.wait_for(relay.drain_once(), timeout=seconds)
        except TimeoutError as exc:
            raise BrokerError(f"the broker did not acknowledge within {seconds:.0f}s") from exc

    async def pending(self) -> int:
        return (await self._outbox.counts())[0]

    async def wait_for_receipts(
        self, receipt_ids: Sequence[str], seconds: float
    ) -> dict[str, ReceiptState]:
        """Read receipts until each of *receipt_ids* has one or *seconds* passed; what the
        node knows of each then. :raises BrokerError: the broker cannot be reached."""
        book = self._book

        async def all_there() -> bool:
            states = await book.states(receipt_ids)
            return all(s.outcome is not None for s in states.values())

        await self._receipts.read_until(all_there, seconds)
        return await book.states(receipt_ids)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay the outbox, read the receipts and watch the intake directory until *stop*
        is set."""
        relay = self._require_relay()
        await self.observability.start(self._outbox, relay)
        tasks = [
            asyncio.create_task(relay.run(stop), name="relay"),
            asyncio.create_task(self._receipts.run(stop), name="receipts"),
            asyncio.create_task(self._release_held(stop), name="held"),
        ]
        if self._settings.intake_dir is not None:
            tasks.append(asyncio.create_task(self._watch(stop), name="intake"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await self.observability.stop()

    async def _release_held(self, stop: asyncio.Event) -> None:
        """Seal and release the cases held for a contributor token once it is there."""
        node = self._require_node()
        while not stop.is_set():
            try:
                if await node.release_held():
                    self._require_relay().notify()
            except StorageError as exc:
                log.error("held cases: outbox unavailable (%s); will retry", exc.message)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=5.0)

    async def _watch(self, stop: asyncio.Event) -> None:
        intake = self._settings.intake_dir
        assert intake is not None
        done = intake / "done"
        done.mkdir(parents=True, exist_ok=True)
        unreadable: set[tuple[Path, float]] = set()  # logged once, retried when it changes
        while not stop.is_set():
            for path in sorted(p for p in intake.iterdir() if p.suffix in _INTAKE_SUFFIXES):
                try:
                    if not path.is_file() or (path, path.stat().st_mtime) in unreadable:
                        continue
                    if time.time() - path.stat().st_mtime < _SETTLE_SECONDS:
                        continue  # perhaps still being written: next tick
                    [result] = await self.post([path])
                except StorageError as exc:
                    # The outbox cannot take it now (disk full, locked): nothing was
                    # written, the file stays, and the next tick tries again.
                    log.error("intake: outbox unavailable (%s); will retry", exc.message)
                    break
                except (ConfigurationError, OSError) as exc:
                    # A file that vanished or cannot be read never stops the node.
                    with contextlib.suppress(OSError):
                        unreadable.add((path, path.stat().st_mtime))
                    cause = exc if isinstance(exc, OSError) else exc.__cause__
                    why = cause.strerror if isinstance(cause, OSError) else "unreadable"
                    log.error("intake: %s: skipped, it cannot be read (%s)", path.name, why)
                    continue
                try:
                    shutil.move(path, done / path.name)
                except OSError as exc:
                    # Its cases are in the outbox: the next tick finds the file posted (or,
                    # if a line was refused, each new case already posted) and moves it.
                    log.error(
                        "intake: %s: posted, but could not be moved (%s)", path.name, exc.strerror
                    )
                    continue
                if result.report.rejected:
                    write_rejections(done / f"{path.name}.rejected.jsonl", result.report.rejected)
                # File names stay on this node (they may name the State; the log is local).
                if result.duplicate:
                    log.info("intake: %s: all of it was posted before; moved to done/", path.name)
                    continue
                log.info(
                    "intake: %s: %d accepted, %d already posted, %d refused%s",
                    path.name,
                    len(result.report.accepted),
                    len(result.report.already),
                    len(result.report.rejected),
                    f" (report: done/{path.name}.rejected.jsonl)" if result.report.rejected else "",
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)

    def _require_node(self) -> NationalNode:
        if self._node is None:
            raise ConfigurationError("the node is not started; call start() first")
        return self._node

    def _require_relay(self) -> OutboxRelay:
        if self._relay is None:
            raise ConfigurationError("the node is not started; call start() first")
        return self._relay


def _receipt_reader(book: ReceiptBook, settings: NodeSettings) -> ReceiptReader:
    feed = KafkaRecordFeed(settings.kafka, RECEIPTS_TOPIC, client_id="dief-node-receipts")
    return ReceiptReader(book, feed, backoff=Backoff(maximum=settings.relay_backoff_max))


async def node_receipts(
    settings: NodeSettings, *, read: float | None
) -> tuple[list[CaseReceipts], str | None]:
    """``dief receipts``: the node's cases with their latest revision's receipts, from its
    outbox (no keyring needed: the receipt keys are there). With *read*, receipts new on
    the broker are read first, for at most *read* seconds; the second item says why that
    failed (the listing then shows what the outbox already knew), else None."""
    outbox = Outbox(settings.outbox)
    await outbox.start()
    book = ReceiptBook(outbox)
    reader = _receipt_reader(book, settings)
    problem = None
    try:
        if read is not None:
            try:
                if not await reader.read_until(reader.caught_up, read):
                    problem = f"the receipts were not all read within {read:g} s"
            except BrokerError as exc:
                problem = exc.message
            finally:
                await reader.close()
        return await book.cases(), problem
    finally:
        await outbox.stop()


def create_node(settings: NodeSettings) -> NodeService:
    """The app factory: settings are read once by the caller and passed in."""
    return NodeService(settings, settings.keyring.read_passphrase())

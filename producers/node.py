"""The national node service: file intake (CLI and a watched directory), the outbox relay,
the receipt reader (what became of each record posted, DESIGN §8), the contributor-token
exchange and the signed forum directory (DESIGN §4, §5).

Thin wiring: the logic is in :mod:`dief.node`, :mod:`dief.credentials` and
:mod:`dief.keyring`. Built once from :class:`NodeSettings` by :func:`create_node`, started
with :meth:`NodeService.start`, stopped with :meth:`NodeService.stop`;
:meth:`NodeService.run` serves until its stop event is set (SIGTERM in ``dief node``).

Keys: the node's own keyring (a :class:`~dief.keyring.PartyView`: its secret, registration
and KEM keys, nothing else private) and the signed directory it holds, pinned to the forum
root (``DIEF_DIRECTORY__*``); without a directory file the first one is read from
``dief.directory``. In a simulation (a :class:`~dief.keyring.SimulatedForum` folder) the
node is the forum's node labelled ``DIEF_NODE``. While running, the service follows
``dief.directory`` (:class:`~dief.keyring.DirectoryFollower`), and every case is sealed to
the region KEM keys the directory lists **at the moment it is sealed**, so a rotation needs
no restart; a key file that is not in the signed directory is never a recipient.

Tokens: a :class:`~dief.credentials.TokenWallet` in ``DIEF_CREDENTIALS_FILE`` (by default
beside the outbox) and a :class:`~dief.credentials.CredentialClient` that asks the issuer
over ``dief.credentials.requests`` for every region of this and the previous cycle, each
after its own random delay (``DIEF_CREDENTIAL_MAX_DELAY_SECONDS``), and reads
``dief.credentials.answers``; each token that arrives releases the cases held for it. A
held case of an older cycle asks for its token at once (on demand; the issuer then learns
that the State holds a case of that cycle: a known limit, DESIGN §5).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

from dief.catalogue import load_catalogue
from dief.credentials import (
    CREDENTIAL_ANSWERS_TOPIC,
    CredentialClient,
    TokenWallet,
    cycles_to_request,
)
from dief.crypto import KemPrivateKey, KemPublicKey, SealedRecord, Sealer, SigningKey
from dief.exceptions import (
    BrokerError,
    ConfigurationError,
    DiefError,
    KeyNotFoundError,
    StorageError,
)
from dief.kafka import (
    DIRECTORY_TOPIC,
    RECEIPTS_TOPIC,
    KafkaRecordFeed,
    NodePublisher,
    cases_topic,
)
from dief.keyring import (
    DirectoryFollower,
    DirectoryHolder,
    NodeKeys,
    NodeSecret,
    PartyView,
    SimulatedForum,
)
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
from dief.seams import (
    Backoff,
    ContributorCredential,
    OutboxEntry,
    SystemClock,
    coarse_timestamp_ms,
)
from dief.settings import KafkaSettings, NodeSettings
from dief.vocab import Region
from dief.wire import CASE_SCHEMA_VERSION, TYPE_CASE, load_cases

__all__ = ["FileResult", "NodeService", "create_node", "node_receipts"]

#: The refusal of a file that holds no case at all (an empty file, or only blank lines).
_NO_CASES = Rejection(
    line=1, case_id=None, reason="no_cases", message="the file holds no case to post"
)

log = logging.getLogger("dief.node")

#: A file modified more recently than this is left for the next tick (it may be half-written).
_SETTLE_SECONDS = 1.0
_INTAKE_SUFFIXES = {".json", ".jsonl", ".ndjson", ".yaml", ".yml"}
#: How long start() reads ``dief.directory`` for a first directory when no file gave one.
_FIRST_DIRECTORY_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class _NodeKeys:
    """What the node runs with: its own keys and the directory it holds."""

    secret: NodeSecret
    registration_key: SigningKey
    kem_key: KemPrivateKey
    holder: DirectoryHolder


def _own_keys(ring: PartyView | SimulatedForum, name: str) -> _NodeKeys:
    """The node's keys from its party keyring, or (a simulation) the forum's node *name*."""
    if isinstance(ring, SimulatedForum):
        try:
            keys = ring.node(name)
        except KeyNotFoundError as exc:
            raise ConfigurationError(
                f"this simulated forum has no node labelled {name!r} (DIEF_NODE, --node)"
            ) from exc
        holder = DirectoryHolder(ring.root_fingerprint, current=ring.directory)
    else:
        if not isinstance(ring.own, NodeKeys):
            raise ConfigurationError(
                "the keyring at DIEF_KEYRING__PATH is not a national node's (dief keys init-node)"
            )
        keys, holder = ring.own, ring.holder
    return _NodeKeys(keys.node_secret(name), keys.registration_key(), keys.kem_key(), holder)


class _DirectorySealer(Sealer):
    """A region's case sealer whose recipients are the region KEM keys the signed directory
    lists when each record is sealed (two during a declared rotation). A region without an
    active key in the directory refuses to seal (:class:`KeyNotFoundError`: the case is
    refused, or stays held)."""

    __slots__ = ("_keys_of", "_kids")

    def __init__(self, region: Region, holder: DirectoryHolder) -> None:
        def keys_of() -> list[KemPublicKey]:
            found = holder.require().region_kem_keys(region.value)
            if not found:
                raise KeyNotFoundError(f"the forum directory lists no KEM key of {region.value}")
            return found

        keys = keys_of()
        super().__init__(
            type=TYPE_CASE, region=region.value, recipients=keys, schema=CASE_SCHEMA_VERSION
        )
        self._keys_of = keys_of
        self._kids = tuple(k.kid for k in keys)

    def _refresh(self) -> None:
        keys = self._keys_of()
        kids = tuple(k.kid for k in keys)
        if kids != self._kids:
            self.replace_recipients(keys)
            self._kids = kids

    def seal(
        self,
        payload: bytes,
        *,
        pad_to: int | None = None,
        schema: int | None = None,
        record_id: uuid.UUID | None = None,
    ) -> bytes:
        self._refresh()
        return super().seal(payload, pad_to=pad_to, schema=schema, record_id=record_id)

    def seal_with_receipt(
        self,
        payload: bytes,
        *,
        pad_to: int | None = None,
        schema: int | None = None,
        record_id: uuid.UUID | None = None,
    ) -> SealedRecord:
        self._refresh()
        return super().seal_with_receipt(payload, pad_to=pad_to, schema=schema, record_id=record_id)


class _RequestSink:
    """The credential requests' :class:`~dief.seams.RecordSink`: a bare producer of its own
    (``acks=all``, no headers), timestamps to the hour; connects on the first send."""

    def __init__(self, settings: KafkaSettings) -> None:
        self._publisher = NodePublisher(settings, client_id="dief-node-credentials")
        self._clock = SystemClock()

    def __repr__(self) -> str:
        return "_RequestSink()"

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        await self._publisher.connect()
        stamp = coarse_timestamp_ms(self._clock.now())
        await self._publisher.publish([OutboxEntry(topic, key, value, stamp)])

    async def close(self) -> None:
        await self._publisher.close()


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
        self._holder: DirectoryHolder | None = None
        self._follower: DirectoryFollower | None = None
        self._wallet: TokenWallet | None = None
        self._client: CredentialClient | None = None
        self._requests = _RequestSink(settings.kafka)
        self._directory_feed = KafkaRecordFeed(
            settings.kafka, DIRECTORY_TOPIC, client_id="dief-node-directory"
        )
        self._asked: set[tuple[str, str]] = set()  # older cycles' tokens asked for
        # /metrics, /healthz, /readyz (DIEF_METRICS__*), served while run() relays
        self.observability = NodeObservability(settings.metrics)

    def __repr__(self) -> str:
        return "NodeService()"  # a node's name may be its State's: never printed

    @property
    def directory(self) -> DirectoryHolder:
        """The signed directory the node holds (and follows while running)."""
        if self._holder is None:
            raise ConfigurationError("the node is not started; call start() first")
        return self._holder

    @property
    def wallet(self) -> TokenWallet:
        if self._wallet is None:
            raise ConfigurationError("the node is not started; call start() first")
        return self._wallet

    async def start(self) -> None:
        settings = self._settings
        ring = settings.keyring.unlock(self._passphrase, "the node secret is", settings.directory)
        keys = _own_keys(ring, settings.node)
        holder = self._holder = keys.holder
        self._follower = DirectoryFollower(
            self._directory_feed,
            holder,
            wait=0.5,
            backoff=Backoff(maximum=settings.relay_backoff_max),
        )
        if holder.current is None:
            await self._first_directory(self._follower, holder)
        directory = holder.require()
        start_month = directory.parameters.cycle_start_month
        if start_month != settings.cycle_start_month:
            log.warning(
                "the forum directory says cycles start in month %d, not %d "
                "(DIEF_CYCLE_START_MONTH): the directory's is used",
                start_month,
                settings.cycle_start_month,
            )
        sealers = {r: _DirectorySealer(r, holder) for r in Region}
        wallet = self._wallet = TokenWallet(
            keys.secret,
            lambda cycle, region: holder.require().issuer_key(cycle, region),
            path=settings.wallet_path,
            simulation=directory.simulation,
        )
        wallet.open()
        await self._outbox.start()
        self._node = NationalNode(
            NodeIdentity(keys.secret),
            self._outbox,
            sealers,
            {r: cases_topic(r) for r in Region},
            credentials=wallet,
            start_month=start_month,
            catalogue_version=load_catalogue().version,
        )
        self._client = CredentialClient(
            wallet,
            registration_key=keys.registration_key,
            kem_key=keys.kem_key,
            directory=holder.require,
            sink=self._requests,
            feed=KafkaRecordFeed(
                settings.kafka, CREDENTIAL_ANSWERS_TOPIC, client_id="dief-node-credentials"
            ),
            max_delay=settings.credential_max_delay_seconds,
            on_token=self._on_token,
            backoff=Backoff(maximum=settings.relay_backoff_max),
        )
        holder.on_change(self._client.directory_changed)
        publisher = NodePublisher(settings.kafka, client_id="dief-node")
        self._relay = OutboxRelay(
            self._outbox,
            publisher,
            batch=settings.relay_batch,
            backoff=Backoff(maximum=settings.relay_backoff_max),
            max_delay=settings.relay_max_delay_seconds,
        )

    @staticmethod
    async def _first_directory(follower: DirectoryFollower, holder: DirectoryHolder) -> None:
        """Read ``dief.directory`` until a directory verifies (at most a few seconds)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _FIRST_DIRECTORY_SECONDS
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
                f"{DIRECTORY_TOPIC} ({problem})"
            )

    async def stop(self) -> None:
        if self._relay is not None:
            await self._relay.close()
        if self._client is not None:
            await self._client.close()
        await self._requests.close()
        await self._directory_feed.close()
        await self._receipts.close()
        await self._outbox.stop()
        if self._wallet is not None:
            self._wallet.close()

    async def _on_token(self, _credential: ContributorCredential) -> None:
        """A token arrived: seal and release the cases held for it."""
        try:
            if await self._require_node().release_held() and self._relay is not None:
                self._relay.notify()
        except StorageError as exc:
            log.error("held cases: outbox unavailable (%s); will retry", exc.message)

    async def _ask_for_older_cycles(self) -> None:
        """Ask at once for the tokens of held cases of cycles older than the previous one
        (the client asks for this cycle's and the previous one's after random delays)."""
        client = self._client
        if client is None or self._outbox.held_count == 0:
            return
        recent = set(cycles_to_request(client.current_cycle()))
        pairs = {(h.record.cycle, h.record.region) for h in await self._outbox.held()}
        for cycle, region in sorted(pairs - self._asked):
            if cycle not in recent and self.wallet.credential(cycle, region) is None:
                # once per run: the client sends it again until it is answered
                self._asked.add((cycle, region))
                await client.request_now(cycle, region)

    async def await_tokens(self, seconds: float) -> int:
        """Run the token exchange until no case is held for a token or *seconds* passed
        (``dief post``); returns how many cases are still held. Requests keep their random
        delays: with delays, held cases are left to ``dief node``."""
        client = self._require_client()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        try:
            async with asyncio.timeout(seconds):
                await self._ask_for_older_cycles()
                while self._outbox.held_count and (left := deadline - loop.time()) > 0:
                    await client.step(min(left, 0.5))
        except TimeoutError:
            pass
        except DiefError as exc:
            log.info("contributor tokens not obtained (%s)", exc.message)
        finally:
            await client.close()
        await self._require_node().release_held()
        return self._outbox.held_count

    async def receipt_ids(
        self, cases: Sequence[tuple[str, int]]
    ) -> dict[tuple[str, int], tuple[str, ...]]:
        """The receipt ids of each (case id, revision) of *cases* that was sealed (a case
        released after it was accepted has them only then)."""
        wanted = set(cases)
        return {
            (c.case_id, c.revision): tuple(r.receipt_id for r in c.records)
            for c in await self._book.cases()
            if (c.case_id, c.revision) in wanted
        }

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
        if any(r.report.held for r in results):
            try:
                await self._ask_for_older_cycles()
            except DiefError as exc:  # asked again at the next post or by dief node
                log.warning("a token of an older cycle was not asked for (%s)", exc.message)
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
        follower = self._follower
        assert follower is not None  # made by start()
        tasks = [
            asyncio.create_task(relay.run(stop), name="relay"),
            asyncio.create_task(self._receipts.run(stop), name="receipts"),
            asyncio.create_task(self._release_held(stop), name="held"),
            asyncio.create_task(self._require_client().run(stop), name="credentials"),
            asyncio.create_task(follower.run(stop), name="directory"),
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
                await self._ask_for_older_cycles()
            except StorageError as exc:
                log.error("held cases: outbox unavailable (%s); will retry", exc.message)
            except DiefError as exc:  # the directory or the broker: tried again
                log.warning("held cases: %s; will retry", exc.message)
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

    def _require_client(self) -> CredentialClient:
        if self._client is None:
            raise ConfigurationError("the node is not started; call start() first")
        return self._client


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

"""The national node service: file intake (CLI and a watched directory), the outbox relay,
the receipt reader (what became of each record posted, DESIGN §8), the contributor-token
exchange and the signed forum directory (DESIGN §4, §5).

Thin wiring: the logic is in :mod:`dief.node` (its keys and directory, intake, held cases),
:mod:`dief.credentials` and :mod:`dief.keyring`. Built once from :class:`NodeSettings` by
:func:`create_node`, started with :meth:`NodeService.start`, stopped with
:meth:`NodeService.stop`; :meth:`NodeService.run` serves until its stop event is set
(SIGTERM in ``dief node``).

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
import logging
from typing import TYPE_CHECKING

from dief.bulletins import BulletinFollower, node_follower
from dief.catalogue import load_catalogue
from dief.credentials import CREDENTIAL_ANSWERS_TOPIC, CredentialClient, TokenWallet
from dief.exceptions import BrokerError, ConfigurationError, DiefError
from dief.kafka import (
    DIRECTORY_TOPIC,
    RECEIPTS_TOPIC,
    KafkaRecordFeed,
    NodePublisher,
    cases_topic,
)
from dief.keyring import DirectoryFollower, DirectoryHolder
from dief.node import (
    CaseReceipts,
    DirectorySealer,
    FileResult,
    HeldCases,
    NationalNode,
    NodeIdentity,
    Outbox,
    OutboxRelay,
    ReceiptBook,
    ReceiptReader,
    ReceiptState,
    first_directory,
    own_keys,
    post_files,
    watch_intake,
)
from dief.observability import NodeObservability
from dief.screening import Screener, TextScreener, default_screener
from dief.seams import (
    Backoff,
    ContributorCredential,
    OutboxEntry,
    SystemClock,
    coarse_timestamp_ms,
)
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence
    from pathlib import Path

    from pydantic import SecretStr

    from dief.settings import KafkaSettings, NodeSettings

__all__ = ["FileResult", "NodeService", "create_node", "node_receipts"]

log = logging.getLogger("dief.node")


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


class NodeService:
    """One national node process."""

    def __init__(
        self,
        settings: NodeSettings,
        passphrase: SecretStr | None,
        *,
        hold: Callable[[Path], Awaitable[FileResult]] | None = None,
    ) -> None:
        self._settings = settings
        self._passphrase = passphrase
        # Four eyes (DIEF_FOUR_EYES): the intake folder's files are held for approval by
        # *hold* (the portal's drafts), never posted by the node directly.
        self._hold = hold
        self._outbox = Outbox(settings.outbox)
        self._node: NationalNode | None = None
        self._relay: OutboxRelay | None = None
        self._book = ReceiptBook(self._outbox)
        self._receipts = _receipt_reader(self._book, settings)
        self._holder: DirectoryHolder | None = None
        self._follower: DirectoryFollower | None = None
        self._wallet: TokenWallet | None = None
        self._client: CredentialClient | None = None
        self._held: HeldCases | None = None
        # follows dief.bulletins into the outbox file (DESIGN §13; DIEF_FOLLOW_BULLETINS)
        self._bulletins: BulletinFollower | None = None
        self._requests = _RequestSink(settings.kafka)
        self._directory_feed = KafkaRecordFeed(
            settings.kafka, DIRECTORY_TOPIC, client_id="dief-node-directory"
        )
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
    def bulletins(self) -> BulletinFollower | None:
        """The bulletin follower (None before start, or with DIEF_FOLLOW_BULLETINS=false)."""
        return self._bulletins

    @property
    def wallet(self) -> TokenWallet:
        """The node's token wallet (once started)."""
        if self._wallet is None:
            raise ConfigurationError("the node is not started; call start() first")
        return self._wallet

    async def start(self) -> None:
        """Unlock the keyring, open the outbox and the wallet, connect the relay."""
        settings = self._settings
        ring = settings.keyring.unlock(self._passphrase, "the node secret is", settings.directory)
        keys = own_keys(ring, settings.node)
        holder = self._holder = keys.holder
        backoff = Backoff(maximum=settings.relay_backoff_max)
        self._follower = DirectoryFollower(self._directory_feed, holder, wait=0.5, backoff=backoff)
        if holder.current is None:
            await first_directory(self._follower, holder)
        directory = holder.require()
        start_month = directory.parameters.cycle_start_month
        if start_month != settings.cycle_start_month:
            log.warning(
                "the forum directory says cycles start in month %d, not %d "
                "(DIEF_CYCLE_START_MONTH): the directory's is used",
                start_month,
                settings.cycle_start_month,
            )
        wallet = self._wallet = TokenWallet(
            keys.secret,
            lambda cycle, region: holder.require().issuer_key(cycle, region),
            path=settings.wallet_path,
            simulation=directory.simulation,
        )
        wallet.open()
        await self._outbox.start()
        node = self._node = NationalNode(
            NodeIdentity(keys.secret),
            self._outbox,
            {r: DirectorySealer(r, holder) for r in Region},
            {r: cases_topic(r) for r in Region},
            credentials=wallet,
            start_month=start_month,
            catalogue_version=load_catalogue().version,
            screener=_screener(settings),
        )
        client = self._client = CredentialClient(
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
            backoff=backoff,
        )
        holder.on_change(client.directory_changed)
        follows = settings.follow_bulletins
        if follows:
            self._bulletins = node_follower(
                settings.kafka,
                self._outbox,
                settings.outbox.parent,
                directory=holder.require,
                node_key=keys.kem_key,
                backoff=backoff,
            )
        self._held = HeldCases(node, self._outbox, wallet, client, notify=self._notify_relay)
        publisher = NodePublisher(settings.kafka, client_id="dief-node")
        self._relay = OutboxRelay(
            self._outbox,
            publisher,
            batch=settings.relay_batch,
            backoff=backoff,
            max_delay=settings.relay_max_delay_seconds,
        )

    async def stop(self) -> None:
        """Close the relay, the clients and the readers, then the outbox and the wallet."""
        if self._relay is not None:
            await self._relay.close()
        if self._client is not None:
            await self._client.close()
        await self._requests.close()
        await self._directory_feed.close()
        await self._receipts.close()
        if self._bulletins is not None:
            await self._bulletins.close()
        await self._outbox.stop()
        if self._wallet is not None:
            self._wallet.close()

    def _notify_relay(self) -> None:
        if self._relay is not None:
            self._relay.notify()

    async def _on_token(self, credential: ContributorCredential) -> None:
        """A token arrived: seal and release the cases held for it."""
        if self._held is not None:
            await self._held.on_token(credential)

    async def await_tokens(self, seconds: float) -> int:
        """Run the token exchange until no case is held for a token or *seconds* passed
        (``dief post``); returns how many cases are still held. Requests keep their random
        delays: with delays, held cases are left to ``dief node``."""
        return await self._require_held().await_tokens(seconds)

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
        """Validate, screen, seal and write the cases in *paths* to the outbox
        (:func:`dief.node.post_files`: a file posted before is skipped unless *again*; a new
        case this node already accepted is reported as already posted); then ask for the
        tokens of held cases of older cycles and wake the relay."""
        results = await post_files(self._require_node(), self._outbox, paths, again=again)
        if any(r.report.held for r in results):
            try:
                await self._require_held().ask_for_older_cycles()
            except DiefError as exc:  # asked again at the next post or by dief node
                log.warning("a token of an older cycle was not asked for (%s)", exc.message)
        self._notify_relay()
        return results

    async def _post_one(self, path: Path) -> FileResult:
        [result] = await self.post([path])
        return result

    async def publish_pending(self, seconds: float) -> int:
        """Try once to publish what is pending; raises BrokerError if the broker is away."""
        relay = self._require_relay()
        try:
            return await asyncio.wait_for(relay.drain_once(), timeout=seconds)
        except TimeoutError as exc:
            raise BrokerError(f"the broker did not acknowledge within {seconds:.0f}s") from exc

    async def pending(self) -> int:
        """How many sealed records wait in the outbox."""
        return (await self._outbox.counts())[0]

    async def wait_for_receipts(
        self, receipt_ids: Sequence[str], seconds: float
    ) -> dict[str, ReceiptState]:
        """Read receipts until each of *receipt_ids* has a final one or *seconds* passed;
        what the node knows of each then. A ``duplicate`` is not final: it answers a second
        copy of a record (a resend after a lost acknowledgement), and the first copy's own
        receipt is on its way. :raises BrokerError: the broker cannot be reached."""
        book = self._book

        async def all_there() -> bool:
            states = await book.states(receipt_ids)
            return all(s.outcome not in {None, "duplicate"} for s in states.values())

        await self._receipts.read_until(all_there, seconds)
        return await book.states(receipt_ids)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay the outbox, read the receipts and watch the intake directory until *stop*
        is set."""
        relay = self._require_relay()
        intake = self._settings.intake_dir
        intake_post = self._intake_post() if intake is not None else None
        await self.observability.start(self._outbox, relay)
        follower = self._follower
        if follower is None:
            raise ConfigurationError("the node is not started; call start() first")
        tasks = [
            asyncio.create_task(relay.run(stop), name="relay"),
            asyncio.create_task(self._receipts.run(stop), name="receipts"),
            asyncio.create_task(self._require_held().run(stop), name="held"),
            asyncio.create_task(self._require_client().run(stop), name="credentials"),
            asyncio.create_task(follower.run(stop), name="directory"),
        ]
        if self._bulletins is not None:
            tasks.append(asyncio.create_task(self._bulletins.run(stop), name="bulletins"))
        if intake is not None and intake_post is not None:
            intake_task = watch_intake(intake, intake_post, stop)
            tasks.append(asyncio.create_task(intake_task, name="intake"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await self.observability.stop()

    def _intake_post(self) -> Callable[[Path], Awaitable[FileResult]]:
        """What the intake folder does with a file: post it, or under four eyes hold it
        for approval (never post it: without a hold the folder is not watched).

        :raises ConfigurationError: four eyes are on and nothing holds the folder's cases.
        """
        if not self._settings.four_eyes:
            return self._post_one
        if self._hold is None:
            raise ConfigurationError(
                "four eyes are on (DIEF_FOUR_EYES) but nothing holds the intake folder's "
                "cases for approval: run the node with the portal's database"
            )
        return self._hold

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

    def _require_held(self) -> HeldCases:
        if self._held is None:
            raise ConfigurationError("the node is not started; call start() first")
        return self._held


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


def _screener(settings: NodeSettings) -> TextScreener:
    """The shared screener, or one with the forum's own terms (DIEF_SCREENING_TERMS_FILE),
    built now so that a bad file stops the start with its line number."""
    if settings.screening_terms_file is None:
        return default_screener()
    screener = Screener(extra_terms=settings.screening_terms_file)
    screener.warm()
    return screener


def create_node(settings: NodeSettings) -> NodeService:
    """The app factory: settings are read once by the caller and passed in."""
    return NodeService(settings, settings.keyring.read_passphrase())

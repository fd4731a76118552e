"""A national node's side of the credential exchange (DESIGN §5 ⚑): :class:`CredentialClient`.

At start and whenever the CSP cycle changes (by the injected clock and the directory's
cycle start month), the client plans a token request for every region of the current and
the previous cycle that its :class:`TokenWallet` lacks (:func:`plan_requests`, each after its
own random delay; zero in simulations), builds each request at once and sends it, sealed
to the Secretariat, when its delay is over. It follows ``dief.credentials.answers`` without
a consumer group from positions it keeps (:attr:`CredentialClient.positions`; the beginning
at first), picks out the answers to its own requests by their key (the request hash: any
other answer is skipped unopened), opens them with the node's KEM key, lets the wallet
finalize and verify the token, and tells ``on_token`` (the node releases the cases held for
it). An answer that does not open or whose token does not verify is skipped.

A request that got no answer is sent again, identically, after ``resend_after`` seconds
(the issuer answers the identical request again, so a lost answer never locks a node out);
one that could not be sent (broker away, no issuer key in the directory yet) is tried again
after ``retry_after``. :meth:`CredentialClient.request_now` asks at once for a token of an
older cycle, on demand. Because requests are built when planned, an answer that arrived
while the node was down is recognised on the next start before anything is sent again.

Offline, the same objects travel as files: :meth:`CredentialClient.write_requests` and
:meth:`CredentialClient.read_answers`.

Everything is driven by :meth:`CredentialClient.step` (plan, read answers, send what is
due), which a test calls with a :class:`~dief.testing.FakeClock` and never sleeps;
:meth:`CredentialClient.run` loops it until stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from dief.credentials._derive import check_pair
from dief.credentials._exchange import (
    accept_answer,
    build_request,
    read_answer,
    request_hash,
    seal_request,
    write_request,
)
from dief.credentials._schedule import cycles_to_request, plan_requests
from dief.exceptions import BrokerError, ConfigurationError, DiefError
from dief.kafka._topics import CREDENTIAL_REQUESTS_TOPIC
from dief.periods import CspCycle, Month
from dief.seams import (
    Backoff,
    Clock,
    ContributorCredential,
    InboundRecord,
    RecordFeed,
    RecordSink,
    SystemClock,
)

if TYPE_CHECKING:
    import random
    from pathlib import Path

    from cryptography.hazmat.primitives.asymmetric import rsa

    from dief.credentials._wallet import TokenWallet
    from dief.crypto import KemPrivateKey, KemPublicKey, SigningKey
    from dief.wire import CredentialRequest, ForumParameters

__all__ = [
    "DEFAULT_MAX_DELAY",
    "DEFAULT_RESEND_AFTER",
    "DEFAULT_RETRY_AFTER",
    "CredentialClient",
    "CredentialDirectory",
    "TokenHook",
]

log = logging.getLogger("dief.credentials.client")

#: Longest random delay (seconds) before a cycle-start request is sent (0 in simulations).
DEFAULT_MAX_DELAY = 3600.0
#: A request unanswered this long (seconds) is sent again, identically.
DEFAULT_RESEND_AFTER = 900.0
#: A request that could not be sent is tried again after this long (seconds).
DEFAULT_RETRY_AFTER = 60.0
#: Longest wait of one fetch in :meth:`CredentialClient.run`, so that a stop is seen soon.
_FETCH_WAIT = 0.5

#: Told each token the wallet accepted.
TokenHook = Callable[[ContributorCredential], Awaitable[None] | None]


class CredentialDirectory(Protocol):
    """What the client needs of the signed directory (:class:`dief.keyring.ForumDirectory`
    is one)."""

    @property
    def parameters(self) -> ForumParameters: ...

    def issuer_key(self, cycle: str, region: str) -> rsa.RSAPublicKey | None: ...

    def secretariat_kem_keys(self) -> list[KemPublicKey]: ...


@dataclass(slots=True)
class _Outstanding:
    """A token asked for (or to be): when to send, and the request once it could be built."""

    due: float
    request: CredentialRequest | None = None


class CredentialClient:
    """Gets a node's contributor tokens from the issuer (module doc).

    *directory* returns the current verified directory (e.g.
    :meth:`dief.keyring.DirectoryHolder.require`); *wallet* must look issuer keys up in
    the same directory.
    """

    def __init__(  # noqa: PLR0913  a public keyword signature of settings and seams, used outside dief/credentials
        self,
        wallet: TokenWallet,
        *,
        registration_key: SigningKey,
        kem_key: KemPrivateKey,
        directory: Callable[[], CredentialDirectory],
        sink: RecordSink,
        feed: RecordFeed,
        clock: Clock | None = None,
        max_delay: float = DEFAULT_MAX_DELAY,
        resend_after: float = DEFAULT_RESEND_AFTER,
        retry_after: float = DEFAULT_RETRY_AFTER,
        on_token: TokenHook | None = None,
        positions: Mapping[int, int] | None = None,
        rng: random.Random | None = None,
        backoff: Backoff | None = None,
        topic: str = CREDENTIAL_REQUESTS_TOPIC,
    ) -> None:
        if max_delay < 0 or resend_after <= 0 or retry_after <= 0:
            raise ConfigurationError(
                "max_delay must not be negative, resend_after and retry_after must be positive"
            )
        self._wallet = wallet
        self._registration_key = registration_key
        self._kem_key = kem_key
        self._directory = directory
        self._sink = sink
        self._feed = feed
        self._clock = clock or SystemClock()
        self._max_delay = max_delay
        self._resend_after = resend_after
        self._retry_after = retry_after
        self._on_token = on_token
        self._rng = rng
        self._backoff = backoff or Backoff()
        self._topic = topic
        self._cycle: str | None = None
        self._outstanding: dict[tuple[str, str], _Outstanding] = {}
        self._expected: dict[bytes, tuple[str, str]] = {}
        self._started = False
        #: Next offset per partition of the answers topic read so far.
        self.positions: dict[int, int] = dict(positions or {})
        #: Requests sent (resendings included) and tokens accepted.
        self.sent = 0
        self.accepted = 0

    def __repr__(self) -> str:
        return (
            f"CredentialClient(outstanding={len(self._outstanding)}, sent={self.sent}, "
            f"accepted={self.accepted})"
        )

    # -- what is asked for -----------------------------------------------------------------

    def current_cycle(self) -> str:
        """The CSP cycle the clock is in, by the directory's cycle start month."""
        start = self._directory().parameters.cycle_start_month
        today = datetime.fromtimestamp(self._clock.now(), UTC).date()
        try:
            return str(CspCycle.of(Month.of(today), start_month=start))
        except ValueError as exc:
            raise ConfigurationError("the clock is before the first CSP cycle") from exc

    def outstanding(self) -> list[tuple[str, str]]:
        """The (cycle, region) pairs asked for and not answered yet, sorted."""
        return sorted(self._outstanding)

    def directory_changed(self, _directory: object = None) -> None:
        """Plan again at the next step (wire to :meth:`DirectoryHolder.on_change`): new
        issuer keys may be there. A request whose issuer key changed (or that lacked one) is
        rebuilt and sent at the next step."""
        self._cycle = None
        now = self._clock.now()
        for pair, item in self._outstanding.items():
            old, item.request = item.request, None
            new = self._prepare(pair)
            if old is None or new is None or request_hash(old) != request_hash(new):
                item.due = min(item.due, now)

    def _plan(self) -> None:
        cycle = self.current_cycle()
        if cycle == self._cycle:
            return
        directory = self._directory()
        planned = plan_requests(
            self._wallet,
            cycles_to_request(cycle),
            max_delay=self._max_delay,
            regions=directory.parameters.regions,
            rng=self._rng,
        )
        now = self._clock.now()
        for item in planned:
            pair = (item.cycle, item.region)
            if pair not in self._outstanding:
                self._outstanding[pair] = _Outstanding(now + item.delay)
                self._prepare(pair)
        self._cycle = cycle

    def _prepare(self, pair: tuple[str, str]) -> CredentialRequest | None:
        """Build the request for *pair* (and expect its answer), or None while it cannot be
        (no issuer key in the directory for it yet)."""
        item = self._outstanding[pair]
        try:
            request = build_request(
                self._wallet.request(*pair),
                registration_key=self._registration_key,
                node_kem_key=self._kem_key.public_key,
            )
        except DiefError as exc:
            log.info("a token request cannot be built yet (%s)", exc.code)
            return None
        item.request = request
        self._expected[request_hash(request).encode("ascii")] = pair
        return request

    # -- sending ------------------------------------------------------------------------------

    def _sealed(self, request: CredentialRequest) -> bytes:
        keys = self._directory().secretariat_kem_keys()
        if not keys:
            raise ConfigurationError("the directory lists no Secretariat KEM key")
        return seal_request(request, keys[0])

    async def _send(self, pair: tuple[str, str], now: float) -> None:
        item = self._outstanding[pair]
        request = item.request or self._prepare(pair)
        if request is None:
            item.due = now + self._retry_after
            return
        try:
            await self._sink.send(
                self._topic, request_hash(request).encode("ascii"), self._sealed(request)
            )
        except (BrokerError, ConfigurationError) as exc:
            log.warning("a token request was not sent (%s); trying again later", exc.code)
            item.due = now + self._retry_after
            return
        self.sent += 1
        item.due = now + self._resend_after

    async def _send_due(self) -> None:
        now = self._clock.now()
        for pair in sorted(self._outstanding):
            if self._wallet.credential(*pair) is not None:
                del self._outstanding[pair]
            elif self._outstanding[pair].due <= now:
                await self._send(pair, now)

    async def request_now(self, cycle: str, region: str) -> None:
        """Ask at once for the token of (*cycle*, *region*), e.g. for a case of an older
        cycle (this tells the issuer the node holds such a case: a known limit). Nothing
        happens when the wallet holds it; it is sent again later until answered."""
        check_pair(cycle, region)
        pair = (cycle, region)
        if self._wallet.credential(cycle, region) is not None:
            return
        now = self._clock.now()
        self._outstanding.setdefault(pair, _Outstanding(now)).due = now
        await self._send(pair, now)

    # -- answers ----------------------------------------------------------------------------

    async def handle(self, records: Sequence[InboundRecord]) -> int:
        """Take the answers to this node's requests among *records*; returns the number of
        tokens accepted. Other nodes' answers are skipped unopened."""
        taken = 0
        for rec in records:
            nxt = max(self.positions.get(rec.partition, 0), rec.offset + 1)
            self.positions[rec.partition] = nxt
            pair = self._expected.get(rec.key) if rec.key is not None else None
            if pair is None or rec.value is None:
                continue
            credential = self._accept(rec.value)
            if credential is not None:
                taken += 1
                await self._took(credential)
        return taken

    def _accept(self, value: bytes) -> ContributorCredential | None:
        try:
            return accept_answer(self._wallet, value, self._kem_key)
        except DiefError as exc:
            # Altered, sealed to someone else, already taken, or not verifying: skipped.
            log.info("skipped a credential answer (%s)", exc.code)
            return None

    async def _took(self, credential: ContributorCredential) -> None:
        pair = (credential.cycle, credential.region)
        self._outstanding.pop(pair, None)
        self._expected = {k: v for k, v in self._expected.items() if v != pair}
        self.accepted += 1
        if self._on_token is not None:
            result = self._on_token(credential)
            if inspect.isawaitable(result):
                await result

    # -- the loop ---------------------------------------------------------------------------

    async def step(self, wait: float = 0.0) -> int:
        """Plan (at start and on a new cycle), read the answers that came (waiting at most
        *wait* seconds for some), then send the requests that are due; returns the tokens
        accepted.

        :raises BrokerError: the answers topic cannot be read (sending failures are only
            retried later).
        """
        self._plan()
        if not self._started:
            await self._feed.start(self.positions)
            self._started = True
        taken = await self.handle(await self._feed.fetch(wait))
        await self._send_due()
        return taken

    def _next_wait(self) -> float:
        if not self._outstanding:
            return _FETCH_WAIT
        soonest = min(item.due for item in self._outstanding.values())
        return min(_FETCH_WAIT, max(0.0, soonest - self._clock.now()))

    async def run(self, stop: asyncio.Event) -> None:
        """:meth:`step` until *stop* is set; a broker failure closes the feed and tries
        again with backoff (the node keeps accepting cases meanwhile)."""
        attempt = 0
        try:
            while not stop.is_set():
                try:
                    await self.step(self._next_wait())
                    attempt = 0
                except DiefError as exc:  # broker, directory or wallet: tried again
                    await self.close()
                    delay = self._backoff.delay(attempt)
                    attempt += 1
                    log.warning("credential exchange failed (%s); retrying", exc.code)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), delay)
        finally:
            await self.close()

    async def close(self) -> None:
        self._started = False
        await self._feed.close()

    # -- files (a node that works offline) ------------------------------------------------

    def write_requests(
        self, out_dir: Path, pairs: Iterable[tuple[str, str]] | None = None
    ) -> list[Path]:
        """Write a sealed request file ``<request hash>.request`` into *out_dir* for each of
        *pairs* (default: every pair of the current and previous cycle the wallet lacks),
        for the Secretariat to answer offline; returns the paths."""
        if pairs is None:
            regions = self._directory().parameters.regions
            pairs = self._wallet.missing(cycles_to_request(self.current_cycle()), regions)
        now = self._clock.now()
        written: list[Path] = []
        for cycle, region in pairs:
            check_pair(cycle, region)
            pair = (cycle, region)
            if self._wallet.credential(*pair) is not None:
                continue
            self._outstanding.setdefault(pair, _Outstanding(now + self._resend_after))
            request = self._outstanding[pair].request or self._prepare(pair)
            if request is None:
                raise ConfigurationError("the directory has no issuer key for a requested pair")
            path = out_dir / f"{request_hash(request)}.request"
            write_request(path, self._sealed(request))
            written.append(path)
        return written

    async def read_answers(self, paths: Iterable[Path]) -> list[ContributorCredential]:
        """Take the tokens in answer files; files that are not answers to this node's
        requests (or whose token does not verify) are skipped."""
        taken: list[ContributorCredential] = []
        for path in paths:
            credential = self._accept(read_answer(path))
            if credential is not None:
                taken.append(credential)
                await self._took(credential)
        return taken

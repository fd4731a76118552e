"""The Secretariat's credential issuer as a service (DESIGN §5 ⚑): requests in from
``dief.credentials.requests``, sealed answers out on ``dief.credentials.answers``.

:class:`IssuerService` takes batches of consumed records (:meth:`IssuerService.handle`).
How it reads them, as the Secretariat reads digests: a consumer group, ``dief-issuer``
(:func:`register_issuer`, over :func:`dief.kafka.subscribe_batches`), whose offsets are
committed only after a batch's answers were acknowledged by the broker. That is the simplest
robust choice: the broker keeps the position, nothing else has to be stored, and a crash
between an answer and its commit only makes the issuer answer the same requests again, which
it does identically (its ledger signs the identical blinded message again; a node ignores
an answer it already has). :meth:`IssuerService.follow` reads a
:class:`~dief.seams.RecordFeed` instead, from positions kept in memory (for simulations in
one process, and tests).

For each record, in order: open it with the Secretariat's KEM keys, check the node KEM key
the answer goes to, verify the request's signature against the registry, let the
:class:`Issuer` sign (which checks the registration, the issuer key and the ledger), seal
the answer to the node and publish it keyed by :func:`request_hash`. A request that fails
any of these is refused: counted and logged with its reason code only (never the
registration, cycle or region), and the loop goes on. Only a database or broker failure
stops a batch (it is then read again).

After a batch that answered something, the tokens signed per (cycle, region) are handed
to an ``on_counts`` hook when they changed (the integrator wires it to
:meth:`dief.keyring.SecretariatKeys.set_token_counts`, so the next directory publishes them).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.credentials._exchange import (
    _node_key,
    answer_request,
    open_request,
    read_request,
    request_hash,
    seal_answer,
    write_answer,
)
from dief.exceptions import BrokerError, DiefError, StorageError
from dief.kafka import subscribe_batches
from dief.kafka._topics import CREDENTIAL_ANSWERS_TOPIC, CREDENTIAL_REQUESTS_TOPIC
from dief.seams import Backoff, InboundRecord, RecordFeed, RecordSink

if TYPE_CHECKING:
    from pathlib import Path

    from faststream.kafka import KafkaBroker

    from dief.credentials._issuer import Issuer, RegistrationLookup
    from dief.crypto import KemPrivateKey

__all__ = [
    "ISSUER_GROUP_ID",
    "CountsHook",
    "IssuerReport",
    "IssuerService",
    "TokenCounts",
    "register_issuer",
]

log = logging.getLogger("dief.credentials.issuer")

#: The issuer's consumer group on ``dief.credentials.requests``.
ISSUER_GROUP_ID = "dief-issuer"
#: ``(cycle, region) -> (tokens for registrations, tokens for re-registrations)``: the
#: shape :meth:`dief.keyring.SecretariatKeys.set_token_counts` takes.
TokenCounts = dict[tuple[str, str], tuple[int, int]]
#: Told the token counts after a batch that changed them.
CountsHook = Callable[[TokenCounts], Awaitable[None] | None]
#: Longest wait of one fetch in :meth:`IssuerService.follow`, so that a stop is seen soon.
_FETCH_WAIT = 0.5

_TRANSIENT = (StorageError, BrokerError)


@dataclass(slots=True)
class IssuerReport:
    """What one batch did: records received, answers published, refusals by reason code."""

    received: int = 0
    answered: int = 0
    refused: Counter[str] = field(default_factory=Counter)


class IssuerService:
    """Answers sealed credential requests (module doc).

    *opening_keys* are the Secretariat's KEM private keys (a callable is asked for each
    record, so a rotation is picked up); *registrations* is the registry by registration
    key id (the same lookup the :class:`Issuer` uses).
    """

    def __init__(  # noqa: PLR0913  a public keyword signature of settings and seams, used outside dief/credentials
        self,
        issuer: Issuer,
        *,
        opening_keys: Iterable[KemPrivateKey] | Callable[[], Iterable[KemPrivateKey]],
        registrations: RegistrationLookup,
        sink: RecordSink,
        on_counts: CountsHook | None = None,
        topic: str = CREDENTIAL_ANSWERS_TOPIC,
        backoff: Backoff | None = None,
    ) -> None:
        if callable(opening_keys):
            self._opening_keys = opening_keys
        else:
            held = tuple(opening_keys)
            self._opening_keys = lambda: held
        self._issuer = issuer
        self._registrations = registrations
        self._sink = sink
        self._on_counts = on_counts
        self._topic = topic
        self._backoff = backoff or Backoff()
        self._reported: TokenCounts | None = None
        #: Next offset per partition reached by :meth:`follow`.
        self.positions: dict[int, int] = {}

    def __repr__(self) -> str:
        return f"IssuerService(topic={self._topic!r}, issuer={self._issuer!r})"

    # -- one request ----------------------------------------------------------------------

    async def answer(self, value: bytes) -> tuple[str, bytes]:
        """The request hash and sealed answer for one sealed request.

        :raises EnvelopeError: the value is not a request sealed to the Secretariat.
        :raises CredentialError: refused (``bad_request``, ``unknown_registration``,
            ``revoked_registration``, ``unknown_issuer_key``, ``already_issued``).
        :raises StorageError: the ledger cannot be reached.
        """
        request = open_request(value, self._opening_keys())
        _node_key(request.node_kem_key)  # checked before anything is signed
        answer = await answer_request(
            request, registrations=self._registrations, issuer=self._issuer
        )
        return request_hash(request), seal_answer(answer, request)

    async def _answer_record(self, rec: InboundRecord, report: IssuerReport) -> None:
        if rec.value is None:
            self._refuse(report, "malformed")
            return
        try:
            key, sealed = await self.answer(rec.value)
        except _TRANSIENT:
            raise
        except DiefError as exc:
            self._refuse(report, exc.code)
            return
        except Exception as exc:  # a hostile record must never stop the issuer  # noqa: BLE001  a hostile record must never stop the issuer (the reason is logged)
            log.error("a credential request failed unexpectedly (%s)", type(exc).__name__)  # noqa: TRY400  the exception's type is logged, never a traceback that could carry the request
            self._refuse(report, "internal_error")
            return
        await self._sink.send(self._topic, key.encode("ascii"), sealed)
        report.answered += 1

    @staticmethod
    def _refuse(report: IssuerReport, code: str) -> None:
        # The reason code only: no registration kid, cycle or region goes to the log.
        log.warning("refused a credential request: %s", code)
        report.refused[code] += 1

    # -- batches --------------------------------------------------------------------------

    async def handle(self, records: Sequence[InboundRecord]) -> IssuerReport:
        """Answer every request of one batch; returns once every answer was acknowledged.

        :raises StorageError: the ledger failed (nothing after it was answered).
        :raises BrokerError: an answer could not be published.
        """
        report = IssuerReport(received=len(records))
        for rec in records:
            await self._answer_record(rec, report)
        if report.answered:
            await self._report_counts()
        return report

    async def token_counts(self) -> TokenCounts:
        """Tokens signed per (cycle, region) of every issuer key held (zeros included)."""
        return await self._issuer.token_counts()

    async def _report_counts(self) -> None:
        if self._on_counts is None:
            return
        counts = await self.token_counts()
        if counts == self._reported:
            return
        try:
            result = self._on_counts(dict(counts))
            if inspect.isawaitable(result):
                await result
        except (DiefError, OSError) as exc:
            # Told again after the next batch that answers something.
            log.warning("the token counts were not taken (%s)", type(exc).__name__)
            return
        self._reported = counts

    # -- reading a feed -----------------------------------------------------------------

    async def follow(self, feed: RecordFeed, stop: asyncio.Event) -> None:
        """Answer the requests on *feed* until *stop* is set, from :attr:`positions` (the
        beginning at first). A broker or database failure closes the feed, waits (with
        backoff) and reads again from the last batch handled."""
        attempt = 0
        started = False
        try:
            while not stop.is_set():
                try:  # noqa: PLW0717  every failure of the transaction maps to one StorageError
                    if not started:
                        await feed.start(self.positions)
                        started = True
                    records = await feed.fetch(_FETCH_WAIT)
                    if records:
                        await self.handle(records)
                        for rec in records:
                            nxt = max(self.positions.get(rec.partition, 0), rec.offset + 1)
                            self.positions[rec.partition] = nxt
                    attempt = 0
                except _TRANSIENT as exc:
                    started = False
                    await feed.close()
                    delay = self._backoff.delay(attempt)
                    attempt += 1
                    log.warning("answering credential requests failed (%s)", exc.code)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), delay)
        finally:
            await feed.close()

    # -- files (a node that works offline) ------------------------------------------------

    async def answer_file(self, request_path: Path, out_dir: Path) -> Path:
        """Answer the sealed request in *request_path*; the sealed answer is written to
        ``<out_dir>/<request hash>.answer`` (returned). Refusals raise, as in :meth:`answer`."""
        key, sealed = await self.answer(read_request(request_path))
        path = out_dir / f"{key}.answer"
        write_answer(path, sealed)
        await self._report_counts()
        return path


def register_issuer(  # noqa: PLR0913  a public keyword signature of settings and seams, used outside dief/credentials
    broker: KafkaBroker,
    service: IssuerService,
    *,
    embedded: bool = False,
    max_records: int = 100,
    backoff: Backoff | None = None,
    on_report: Callable[[IssuerReport], None] | None = None,
    topic: str = CREDENTIAL_REQUESTS_TOPIC,
) -> None:
    """Subscribe *broker* to ``dief.credentials.requests`` in the group ``dief-issuer`` with
    *service*: offsets are committed after each batch's answers were acknowledged."""
    subscribe_batches(
        broker,
        topic,
        group_id=ISSUER_GROUP_ID,
        title="credential issuer",
        max_records=max_records,
        embedded=embedded,
        backoff=backoff or Backoff(),
        handle=service.handle,
        on_result=on_report,
        log=log,
    )

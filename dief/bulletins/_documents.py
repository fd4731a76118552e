"""The documents a region's readers hold, from the aggregator itself (issue #18).

The release rule's audit asks what a reader of the region could compute from everything
it holds. By default the aggregator answers from its own documents, no folder needed:

- :func:`own_digests`: every digest of the region as the aggregator builds it from its
  store — :class:`dief.digests.RegionDigests` with the suppressions its published issues
  keep, the route tables it received, exactly as :func:`dief.digests.publish_digests`
  builds what it sends (the digest-building functions, never a table derived here), for
  every period with data, open periods included: a bulletin let out now is still known when
  the month it belongs to is published;
- :class:`HeldSummaries`: the CSP summaries published on ``csp.reporting``, the newest
  issue of each cycle whose Secretariat signature verifies, read on from where the last
  read stopped;
- :class:`StoreDocuments` joins both into a :class:`dief.audit.ReaderView`
  (:func:`dief.audit.held_reader`), kept while nothing changed (the store's outcome and
  dead-letter counts, the published pattern, the route tables received and the summaries
  held): the audit keeps its baseline across the candidates of a batch.

The bulletins already let out are the third part (the :class:`BulletinLedger`), read by the
audit check itself (:mod:`dief.bulletins._audit`).

:mod:`dief.audit` and :mod:`dief.digests` are imported when the documents are first read:
they take seconds to import, and every node and CLI command imports this package.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dief.catalogue import load_catalogue
from dief.exceptions import BrokerError, SignatureError
from dief.seams import Clock, SystemClock

if TYPE_CHECKING:
    from dief.aggregator.store import CaseStore
    from dief.audit import ReaderView
    from dief.catalogue import Catalogue
    from dief.crypto import VerifyKey
    from dief.kafka import TopicSnapshot

__all__ = ["HeldSummaries", "StoreDocuments", "SummaryRead", "own_digests"]

log = logging.getLogger("dief.bulletins")

#: Reads ``csp.reporting`` on from the given positions (``read_to_end(start=...)``).
SummaryRead = Callable[[Mapping[tuple[str, int], int]], Awaitable["TopicSnapshot"]]


async def own_digests(  # noqa: PLR0913  a public keyword signature, used outside dief/bulletins
    store: CaseStore,
    region: str,
    *,
    catalogue: Catalogue,
    k_meeting: int,
    k_csp: int,
    start_month: int,
) -> list[dict[str, Any]]:
    """Every digest of *region* (periods with data, open ones included) as JSON objects,
    built as :func:`dief.digests.publish_digests` builds the ones it sends (the same
    loader, :meth:`dief.digests.RegionDigests.for_issue`: the region's released bulletins
    are known cases in its pattern)."""
    from dief.digests import RegionDigests  # noqa: PLC0415  deferred: seconds to import, and every node and CLI command imports this package (module docstring)

    periods = await store.periods_with_data(region)
    source = await RegionDigests.for_issue(
        store, region, k=k_meeting, k_csp=k_csp, start_month=start_month, periods=periods
    )

    def assemble() -> list[dict[str, Any]]:
        return [
            source.digest(period, catalogue=catalogue, lessons=()).model_dump(
                mode="json", by_alias=True
            )
            for period in source.periods
        ]

    return await asyncio.to_thread(assemble)  # O(cells) of CPU: off the consumers' loop


def _missing_topic(exc: BrokerError) -> bool:
    # dief.kafka.read_to_end: "no topic <name> on <where>" (nothing was ever published)
    return exc.message.startswith("no topic ")


class HeldSummaries:
    """The newest verified issue of each cycle's CSP summary on ``csp.reporting``.

    *read* reads the topic on from the positions given; *keys* are the Secretariat's
    verify keys (the held directory's). The topic is read again at most every *refresh*
    seconds (on *clock*). A summary that does not verify is passed over and counted in
    :attr:`ignored`. A topic that does not exist holds no summary; any other
    failure to read raises :class:`~dief.exceptions.BrokerError` (the audit then refuses
    for now: without the summaries it cannot say what a reader holds).
    """

    def __init__(
        self,
        read: SummaryRead,
        keys: Callable[[], Iterable[VerifyKey]],
        *,
        refresh: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        self._read = read
        self._keys = keys
        self._refresh = refresh
        self._clock = clock if clock is not None else SystemClock()
        self._read_at: float | None = None
        self._ends: dict[tuple[str, int], int] = {}
        self._held: dict[str, tuple[int, dict[str, Any]]] = {}
        self.ignored = 0

    def __repr__(self) -> str:
        return f"HeldSummaries(cycles={sorted(self._held)}, ignored={self.ignored})"

    def take(self, value: bytes) -> bool:
        """Hold the summary in *value* if it verifies and is newer than the one held."""
        from dief.secretariat import verify_summary  # noqa: PLC0415  deferred: seconds to import, and every node and CLI command imports this package (module docstring)

        try:
            verified = verify_summary(value, list(self._keys()))
        except SignatureError as exc:
            self.ignored += 1
            log.warning("a summary on csp.reporting was passed over (%s)", exc.code)
            return False
        summary = verified.summary
        held = self._held.get(summary.cycle)
        if held is not None and held[0] >= summary.issue:
            return False
        self._held[summary.cycle] = (summary.issue, json.loads(value))
        return True

    async def __call__(self) -> tuple[dict[str, Any], ...]:
        """Every cycle's newest summary held, after reading what came since the last read
        (unless that read is less than *refresh* seconds old: the candidates of one batch
        share one read)."""
        now = self._clock.now()
        if self._read_at is None or now - self._read_at >= self._refresh:
            try:
                snapshot = await self._read(dict(self._ends))
            except BrokerError as exc:
                if not _missing_topic(exc):
                    raise
            else:
                for record in snapshot.records:
                    if record.value:
                        self.take(record.value)
                self._ends.update(snapshot.ends)
            self._read_at = now
        return tuple(doc for _issue, doc in (self._held[c] for c in sorted(self._held)))


Summaries = Callable[[], Awaitable[Sequence[Mapping[str, Any]]]]


class StoreDocuments:
    """A region's reader view from the aggregator's own documents (module docstring):
    :func:`own_digests` of *store* and the summaries *summaries* gives, the same
    :class:`~dief.audit.ReaderView` object while none of them changed."""

    def __init__(  # noqa: PLR0913  the digest settings, each by keyword
        self,
        store: CaseStore,
        *,
        catalogue: Catalogue | None = None,
        k_meeting: int = 2,
        k_csp: Callable[[], int] | int = 3,
        start_month: int = 9,
        summaries: Summaries | None = None,
    ) -> None:
        self._store = store
        self._catalogue = catalogue
        self._k_meeting = k_meeting
        self._k_csp = k_csp
        self._start_month = start_month
        self._summaries = summaries
        self._held: dict[str, tuple[str, ReaderView]] = {}

    def __repr__(self) -> str:
        return f"StoreDocuments(regions held={sorted(self._held)})"

    def _k_summary(self) -> int:
        return self._k_csp() if callable(self._k_csp) else self._k_csp

    async def _stamp(self, region: str, summaries: Sequence[Mapping[str, Any]]) -> str:
        from dief.aggregator.store import RouteTables  # noqa: PLC0415  deferred: seconds to import, and every node and CLI command imports this package (module docstring)

        store = self._store
        earlier = await store.published_suppressions(region)
        routes = await RouteTables(store).received(region)
        state = [
            sorted((await store.outcome_counts(region)).items()),
            sorted((await store.dead_letter_counts(region)).items()),
            sorted(f"{c.period}/{c.dimension}/{c.value}" for c in earlier.suppressed),
            sorted(f"{c.period}/{c.dimension}/{c.value}={n}" for c, n in earlier.counts.items()),
            [(r.from_region, r.period, r.issued_at.isoformat()) for r in routes],
            [(s.get("cycle"), s.get("issue")) for s in summaries],
            self._k_summary(),
        ]
        return hashlib.sha256(json.dumps(state, default=str).encode()).hexdigest()

    async def __call__(self, region: str) -> ReaderView:
        from dief.audit import held_reader  # noqa: PLC0415  deferred: seconds to import, and every node and CLI command imports this package (module docstring)

        summaries = tuple(await self._summaries()) if self._summaries is not None else ()
        stamp = await self._stamp(region, summaries)
        held = self._held.get(region)
        if held is not None and held[0] == stamp:
            return held[1]
        if self._catalogue is None:
            self._catalogue = load_catalogue()
        digests = await own_digests(
            self._store,
            region,
            catalogue=self._catalogue,
            k_meeting=self._k_meeting,
            k_csp=self._k_summary(),
            start_month=self._start_month,
        )
        view = await asyncio.to_thread(
            held_reader, region, digests, summaries, start_month=self._start_month
        )
        self._held[region] = (stamp, view)
        return view

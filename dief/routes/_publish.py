"""Issuing route tables: computed from the sending region's stored cases, protected jointly
with its digests, signed, sealed to each receiving region's aggregator, published on
``dief.routes`` (key ``<from>-><to>/<period>``).

They go out with the digests, at the same issue moments
(:func:`dief.digests.publish_digests` calls :func:`publish_route_tables` when its issuer
has a :class:`RouteIssuer`), for closed CSP cycles only (a cycle still open would be
re-issued month after month, and two issues of a growing table difference out a month).
A table equal to the one this issuer last sent for the same (receiving region, cycle) is
not sent again (kept in memory: after a restart every table is sent once more, which the
receiver absorbs). Each table states the sender's data version of its cycle
(``data_version``, as its digests do): the same cases give the same table, other cases a
new one even where its counts are the same (docs/audit.md, "Issue linking"). The version
stated is the one the digests' cells are of, and the table's cases are read at it
(docs/audit.md, "Cells of unchanged tables").

Every issue keeps the pattern of the earlier ones (:func:`~dief.routes.protect_route` with
the sender's record, ``RouteTables.published_patterns``), and what it lists is recorded
(``RouteTables.record_published``) after the tables are built and before any is sent: a
send that then fails only leaves cells suppressed that no issue showed (costs cells, never
a leak), and no table leaves unrecorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.aggregator.store import CaseStore, RouteTables, settled_read
from dief.crypto import KemPublicKey, Sealer, SigningKey, canonical_json
from dief.disclosure import CellId, DigestPattern, PeriodCells, merge_rows
from dief.exceptions import ConfigurationError, StoreChangingError
from dief.kafka import ROUTES_TOPIC
from dief.periods import DEFAULT_CYCLE_START_MONTH, CspCycle, Month, is_cycle
from dief.routes._payload import build_route_table, route_payload_bytes, sign_route_table
from dief.routes._routed import listed_cells
from dief.routes._sender import SenderCells, sender_view
from dief.routes._tables import protect_route, route_cells
from dief.seams import Clock, RecordSink, SystemClock, coarse_hour
from dief.vocab import Region
from dief.wire import (
    ROUTE_DIMENSIONS,
    ROUTE_TABLE_SCHEMA,
    TYPE_ROUTE_TABLE,
    RouteTable,
    route_key,
    unsigned_document,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from dief.aggregator.store import DataVersion, RouteCase

__all__ = ["PublishedRoute", "RouteIssuer", "publish_route_tables", "sender_cells"]

log = logging.getLogger("dief.routes")

_ROUTE_DIMS = frozenset(d.value for d in ROUTE_DIMENSIONS)


@dataclass(frozen=True, slots=True)
class PublishedRoute:
    """One route table sent on ``dief.routes``."""

    from_region: Region
    to_region: Region
    period: str
    withheld: bool
    #: bytes of the sealed record value
    size: int


@dataclass(frozen=True, slots=True)
class RouteIssuer:
    """What a region needs to issue route tables: its signing key, each receiving region's
    aggregator KEM public keys (a region without keys gets no table, with a warning), where
    to publish, and k."""

    region: Region
    signer: SigningKey
    recipients: Mapping[Region, tuple[KemPublicKey, ...]]
    sink: RecordSink
    k_meeting: int = 2
    k_csp: int = 3
    start_month: int = DEFAULT_CYCLE_START_MONTH
    clock: Clock = field(default_factory=SystemClock)
    #: (receiving region, cycle) → hash of the table last sent (issued_at aside)
    sent: dict[tuple[Region, str], str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.k_meeting < 1 or self.k_csp < 1:
            raise ConfigurationError("k_meeting and k_csp are at least 1")

    def __repr__(self) -> str:
        return f"RouteIssuer(region={self.region.value}, receivers={len(self.recipients)})"

    def closed(self, cycle: str) -> bool:
        """Whether *cycle* ended before the clock's month."""
        now = Month.of(coarse_hour(self.clock.now()).date())
        parsed = CspCycle.parse(cycle, start_month=self.start_month)
        return parsed.last.index < now.index


async def sender_cells(  # noqa: PLR0913  public keyword signature, used outside dief/routes
    store: CaseStore,
    region: Region,
    cycle: str,
    *,
    pattern: DigestPattern,
    tallies: Mapping[str, PeriodCells],
    k_csp: int,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
) -> SenderCells:
    """What *region* publishes of *cycle*: its cycle digest's cells under its joint
    *pattern* (from the same *tallies*, every period of the region), the floors its month
    and quarter digests put under the cells the cycle digest hides, and the cycle's
    non-red cells (summary scope; :func:`~dief.routes.sender_view`)."""
    rows = await store.cell_rows(region.value, [cycle], include_red=False)
    nonred = merge_rows(rows).get(cycle, {})
    return sender_view(
        cycle,
        pattern=pattern,
        tallies=tallies,
        nonred=nonred,
        k_csp=k_csp,
        start_month=start_month,
    )


def _hash(table: RouteTable) -> str:
    data = unsigned_document(table)
    data.pop("issued_at", None)
    return hashlib.sha256(canonical_json(data)).hexdigest()


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """A table ready to send: what was sent, its record key and value, its slot in
    :attr:`RouteIssuer.sent` with its hash, and the cells it lists."""

    sent: PublishedRoute
    key: bytes
    value: bytes
    slot: tuple[Region, str]
    digest: str
    listed: dict[CellId, int | None]


@dataclass(frozen=True, slots=True)
class _Cycle:
    """One cycle's inputs to its route tables, built once a cycle by
    :func:`publish_route_tables`: the sender's *store* and *issuer*, the cycle's *name*,
    the joint digest *pattern* and the *tallies* it is over, *version* (the cycle's data
    version those tallies are of) and the moment the tables are *issued_at*."""

    store: CaseStore
    issuer: RouteIssuer
    name: str
    pattern: DigestPattern
    tallies: Mapping[str, PeriodCells]
    version: str | None
    issued_at: datetime


async def _cycle_cases(
    cycle: _Cycle,
) -> tuple[dict[str, list[RouteCase]], SenderCells | None]:
    """*cycle*'s routed cases by receiving region and the sender's cells (``None`` if no
    case is routed), read while the cycle's data version is its ``version``, the one its
    ``tallies`` are of (read before and after them; else :class:`StoreChangingError`, at
    once: the tallies are given, so no later read can match them; docs/audit.md, "Cells of
    unchanged tables")."""
    store, issuer, name = cycle.store, cycle.issuer, cycle.name
    region = issuer.region.value

    async def cycle_version() -> DataVersion | None:
        return (await store.data_versions(region)).get(name)

    async def read(
        now: DataVersion | None,
    ) -> tuple[dict[str, list[RouteCase]], SenderCells | None]:
        if (now[1] if now is not None else None) != cycle.version:
            raise StoreChangingError(
                f"the cases of {region} in {name} changed after its digests read them: "
                "its route tables are built with its next digests"
            )
        routed = await RouteTables(store).routed_cases(region, name)
        if not routed:
            return routed, None
        sender = await sender_cells(
            store, issuer.region, name, pattern=cycle.pattern, tallies=cycle.tallies,
            k_csp=issuer.k_csp, start_month=issuer.start_month,
        )  # fmt: skip
        return routed, sender

    reader = f"its route tables of {name}"
    return await settled_read(cycle_version, read, region=region, reader=reader, attempts=1)


async def _cycle_tables(cycle: _Cycle) -> list[_Outgoing]:  # noqa: PLR0914  each table's steps in the order they run, named
    """The tables of *cycle* to send (changed since last sent, to a region with keys),
    stating its ``version``, the cycle's data version its ``tallies`` are of, and counting
    the cases of that version (:func:`_cycle_cases`)."""
    issuer, name = cycle.issuer, cycle.name
    routed, sender = await _cycle_cases(cycle)
    if sender is None:
        return []
    earlier = await RouteTables(cycle.store).published_patterns(issuer.region.value, name)
    out: list[_Outgoing] = []
    for code, cases in sorted(routed.items()):
        receiver = Region(code)
        keys = issuer.recipients.get(receiver, ())
        if not keys:
            log.warning("%s: no KEM key of %s; its route table is not sent", issuer.region, code)
            continue
        before = earlier.get(code)
        cells = route_cells(cases, before)
        protection = protect_route(cells, sender, k=issuer.k_meeting, earlier=before)
        table = build_route_table(
            issuer.region, receiver, name, cells, protection,
            k=issuer.k_meeting, issued_at=cycle.issued_at, data_version=cycle.version,
        )  # fmt: skip
        digest = _hash(table)
        if issuer.sent.get((receiver, name)) == digest:
            continue
        payload = sign_route_table(table, issuer.signer)
        sealer = Sealer(
            type=TYPE_ROUTE_TABLE, region=receiver.value, recipients=keys,
            schema=ROUTE_TABLE_SCHEMA,
        )  # fmt: skip
        value = sealer.seal(route_payload_bytes(payload))
        sent = PublishedRoute(issuer.region, receiver, name, table.withheld, len(value))
        key = route_key(issuer.region, receiver, name)
        listed = listed_cells(cells, protection)
        out.append(_Outgoing(sent, key, value, (receiver, name), digest, listed))
    return out


async def publish_route_tables(  # noqa: PLR0913  a public keyword signature
    store: CaseStore,
    issuer: RouteIssuer,
    cycles: Iterable[str],
    *,
    pattern: DigestPattern,
    tallies: Mapping[str, PeriodCells],
    versions: Mapping[str, str],
) -> list[PublishedRoute]:
    """Issue the route tables of *issuer*'s region for the closed cycles among *cycles*
    (open ones are skipped), protected with the region's joint digest *pattern* over
    *tallies*, whose data versions are *versions* (period → token: ``RegionDigests.pattern``,
    ``.tallies`` and ``dict(.versions)``), and with what earlier issues of each table
    listed; what this issue lists is recorded before it is sent. Returns what was sent.

    Each table states its cycle's version in *versions* and counts the cases of that
    version: its cases are read while the cycle's version is still that one, else
    :class:`~dief.exceptions.StoreChangingError`, with nothing sent or recorded (the
    digests are read again on the next try; docs/audit.md, "Cells of unchanged tables")."""
    if pattern.k != issuer.k_meeting:
        raise ConfigurationError("the digest pattern was made for another k")
    issued_at = coarse_hour(issuer.clock.now())
    out: list[_Outgoing] = []
    # whole cycles only: a half-cycle (CSP12-H1) has no route table
    for cycle in sorted({c for c in cycles if is_cycle(c) and issuer.closed(c)}):
        inputs = _Cycle(
            store, issuer, cycle, pattern=pattern, tallies=tallies,
            version=versions.get(cycle), issued_at=issued_at,
        )  # fmt: skip
        out += await _cycle_tables(inputs)
    await RouteTables(store).record_published(
        issuer.region.value, {(o.slot[0].value, o.slot[1]): o.listed for o in out}
    )
    await asyncio.gather(*(issuer.sink.send(ROUTES_TOPIC, o.key, o.value) for o in out))
    for o in out:
        issuer.sent[o.slot] = o.digest
    if out:
        log.info("%s: %d route tables published", issuer.region.value, len(out))
    return [o.sent for o in out]

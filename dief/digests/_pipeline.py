"""Digests and summaries inside ``dief run``: every region issues its digests, an in-process
Secretariat turns them into signed summaries, and the run waits for every cycle's.

Each region issues a digest for every period it has data in, and for every CSP cycle in
which *any* region has data (an empty one if it has none), so the Secretariat hears from
every region for each cycle and can tell "no cases" from "not received yet".

Route tables (DESIGN §5 ⚑) go first: :func:`issue_every_route_table` has each region send
the regions on its cases' routes their tables (closed cycles), protected with the same joint
pattern its digests then use; once the receiving aggregators have stored them, their
digests show them.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from dief.digests._publish import DigestIssuer, PublishedDigest, publish_digests
from dief.digests._region import RegionDigests
from dief.keyring import KeyRole, KeySource
from dief.periods import DEFAULT_CYCLE_START_MONTH, is_cycle
from dief.routes import PublishedRoute, RouteIssuer, publish_route_tables
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from dief.aggregator.store import CaseStore
    from dief.catalogue import Catalogue
    from dief.digests._lessons import CaseLesson
    from dief.seams import RecordSink
    from dief.wire import CspSummary, Lesson

__all__ = ["SummaryCollector", "issue_every_digest", "issue_every_route_table"]


class SummaryCollector:
    """A :data:`SummaryHook` that keeps each cycle's latest signed summary and lets a
    caller wait until a set of cycles is in."""

    def __init__(self) -> None:
        self.summaries: dict[str, CspSummary] = {}
        self._changed = asyncio.Event()

    def __repr__(self) -> str:
        return f"SummaryCollector(cycles={sorted(self.summaries)})"

    def __call__(self, summary: CspSummary) -> None:
        self.summaries[summary.cycle] = summary
        self._changed.set()

    async def wait_for(self, cycles: set[str], time_limit: float) -> bool:
        """True once every cycle in *cycles* has a summary; False after *time_limit* seconds."""
        try:
            async with asyncio.timeout(time_limit):
                while not cycles <= self.summaries.keys():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            return False
        return True


async def issue_every_digest(  # noqa: PLR0913  public keyword signature, used by dief/pipeline and dief/portal
    store: CaseStore,
    ring: KeySource,
    sinks: Mapping[Region, RecordSink],
    *,
    catalogue: Catalogue,
    k_meeting: int = 2,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
    lessons: Mapping[Region, Sequence[Lesson | CaseLesson] | None] | None = None,
    k_csp: int = 3,
) -> tuple[list[PublishedDigest], set[str]]:
    """Issue every region's digests (see the module doc); returns them and the cycles."""
    periods = {r: set(await store.periods_with_data(r.value)) for r in sinks}
    cycles = {p for found in periods.values() for p in found if is_cycle(p)}
    recipients = tuple(ring.sealing_keys(KeyRole.SECRETARIAT))
    published: list[PublishedDigest] = []
    for region, sink in sinks.items():
        issuer = DigestIssuer(
            region=region,
            signer=ring.signing_key(KeyRole.REGION, region.value),
            recipients=recipients,
            sink=sink,
            catalogue=catalogue,
            k_meeting=k_meeting,
            start_month=start_month,
            k_csp=k_csp,
        )
        wanted = sorted(periods[region] | cycles)
        region_lessons = (lessons or {}).get(region)
        published.extend(
            await publish_digests(store, region, wanted, issuer=issuer, lessons=region_lessons)
        )
    return published, cycles


async def issue_every_route_table(  # noqa: PLR0913  public keyword signature, used by dief/pipeline
    store: CaseStore,
    ring: KeySource,
    sinks: Mapping[Region, RecordSink],
    *,
    k_meeting: int = 2,
    k_csp: int = 3,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
) -> list[PublishedRoute]:
    """Every region's route tables of its closed cycles, sealed to each receiving region's
    aggregator keys from the directory and signed by the sending region; returns what was
    sent (the receivers' inboxes expect that many)."""
    published: list[PublishedRoute] = []
    for region, sink in sinks.items():
        cycles = [p for p in await store.periods_with_data(region.value) if is_cycle(p)]
        if not cycles:
            continue
        source = await RegionDigests.load(
            store,
            region,
            k=k_meeting,
            start_month=start_month,
            periods=cycles,
            earlier=await store.published_suppressions(region.value),
            k_csp=k_csp,
        )
        issuer = RouteIssuer(
            region=region,
            signer=ring.signing_key(KeyRole.REGION, region.value),
            recipients={
                r: tuple(ring.sealing_keys(KeyRole.REGION, r.value))
                for r in Region
                if r is not region
            },
            sink=sink,
            k_meeting=k_meeting,
            k_csp=k_csp,
            start_month=start_month,
        )
        published += await publish_route_tables(
            store,
            issuer,
            cycles,
            pattern=source.pattern,
            tallies=source.tallies,
            versions=dict(source.versions),
        )
    return published

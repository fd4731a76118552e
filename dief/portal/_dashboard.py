"""The region's dashboard data: its digests by period, read from the aggregator's database
through :mod:`dief.digests` (the region's joint suppression pattern, keeping what its
published digests listed), and the route tables other regions sent it.

The portal reads; it never records a suppression pattern (only issuing a digest does).
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from dief.catalogue import load_catalogue
from dief.periods import parse_period, period_kind
from dief.vocab import Dimension, Region

if TYPE_CHECKING:  # the aggregator's store and the digests load when a region portal reads
    from collections.abc import Callable, Mapping

    from dief.aggregator.store import CaseStore
    from dief.digests import CaseLesson, DigestSeries, LessonOpener, RegionDigests
    from dief.wire import Digest

__all__ = ["Dashboard", "DigestSource", "StoreDigests", "charts_of", "newest_first"]

_STYLE_ATTR = re.compile(r'\sstyle="[^"]*"')


@dataclass(frozen=True, slots=True)
class Dashboard:
    """One period of a region: its digest and the series behind its charts."""

    digest: Digest
    series: DigestSeries | None


class DigestSource(Protocol):
    async def periods(self, region: Region) -> list[str]:
        """The periods with data, newest first."""
        ...

    async def dashboard(self, region: Region, period: str) -> Dashboard: ...


@dataclass(frozen=True, slots=True)
class _Loaded:
    """A region read and protected once, kept for a short while (many pages read it)."""

    at: float
    digests: RegionDigests
    lessons: list[CaseLesson] | None


class StoreDigests:
    """:class:`DigestSource` over an aggregator's database (read only).

    A region's cells are read and protected together (every digest of a region shares one
    suppression pattern), so one load serves every page of the region for *ttl* seconds: a
    dashboard is at most that much behind the aggregator. With *openers* (a region's keys,
    for the regions the portal holds them for), each dashboard shows its period's shareable
    lessons, opened from the stored sealed cases; without, the digest says they were
    omitted."""

    def __init__(  # noqa: PLR0913  a public keyword signature of settings and seams, used by dief/cli
        self,
        url: str,
        *,
        k: int,
        start_month: int,
        openers: Mapping[Region, LessonOpener] | None = None,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._k = k
        self._start_month = start_month
        self._openers = dict(openers or {})
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[Region, _Loaded] = {}
        self._locks: dict[Region, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"StoreDigests(k={self._k})"

    async def _lessons(self, store: CaseStore, region: Region) -> list[CaseLesson] | None:
        opener = self._openers.get(region)
        if opener is None:
            return None
        from dief.digests import load_lessons  # noqa: PLC0415  the SQL store and the digests (seconds to import) load when a region portal reads

        return list((await load_lessons(store, region, opener)).lessons)

    async def _region(self, region: Region) -> _Loaded:
        from dief.aggregator.store import CaseStore  # noqa: PLC0415  the SQL store and the digests (seconds to import) load when a region portal reads
        from dief.digests import RegionDigests  # noqa: PLC0415  (as above)

        async with self._locks.setdefault(region, asyncio.Lock()):
            hit = self._cache.get(region)
            if hit is not None and self._clock() - hit.at < self._ttl:
                return hit
            async with CaseStore(self._url) as store:
                earlier = await store.published_suppressions(region.value)
                digests = await RegionDigests.load(
                    store, region, k=self._k, start_month=self._start_month, earlier=earlier
                )
                lessons = await self._lessons(store, region)
            loaded = self._cache[region] = _Loaded(self._clock(), digests, lessons)
            return loaded

    async def periods(self, region: Region) -> list[str]:
        from dief.aggregator.store import CaseStore  # noqa: PLC0415  the SQL store and the digests (seconds to import) load when a region portal reads

        async with CaseStore(self._url) as store:
            found = list(await store.periods_with_data(region.value))
        return newest_first(found)

    async def dashboard(self, region: Region, period: str) -> Dashboard:
        current = str(parse_period(period, start_month=self._start_month))
        loaded = await self._region(region)
        digests = loaded.digests
        digest = digests.digest(current, catalogue=load_catalogue(), lessons=loaded.lessons)
        # the digests' own charts (a month's totals only, in the default design): the
        # portal shows no more than a published digest does
        return Dashboard(digest, digests.series(current))


_KIND_ORDER = {"half": 0, "cycle": 1, "quarter": 2, "month": 3}


def newest_first(periods: list[str]) -> list[str]:
    """*periods* by kind (half-cycles, "since the last meeting", first; then cycles,
    quarters, months), newest first within each kind."""
    by_kind = sorted(periods, key=_chronological, reverse=True)
    return sorted(by_kind, key=lambda p: _KIND_ORDER[period_kind(p)])


def _chronological(period: str) -> tuple[int, ...]:
    if period.startswith("CSP"):  # CSP12, CSP12-H1: by number (CSP9 before CSP12), then half
        number, _, half = period[3:].partition("-H")
        return (int(number), int(half or 0))
    return tuple(int(part) for part in period.replace("-Q", "-").split("-"))


def charts_of(series: DigestSeries | None, titles: dict[str, str]) -> list[tuple[str, str]]:
    """(title, SVG) charts of *series* (cases over time, then a line chart per dimension),
    without inline style attributes (the CSP allows none; the stylesheet sets the font)."""
    from dief.render import column_chart, line_chart  # noqa: PLC0415  rendering (seconds to import) loaded on the first chart

    if series is None or not series.periods:
        return []
    labels = list(series.periods)
    charts = [(titles["total"], column_chart(labels, list(series.totals), title=titles["total"]))]
    for dimension in (Dimension.ITEM_CATEGORY, Dimension.METHOD, Dimension.TRANSFER_STAGE):
        lines = series.dimensions.get(dimension, ())
        if lines:
            chart = line_chart(
                labels,
                [(s.value, list(s.counts)) for s in lines],
                title=titles.get(dimension.value, dimension.value),
                group=dimension.value,
            )
            charts.append((titles.get(dimension.value, dimension.value), chart))
    return [(title, _STYLE_ATTR.sub("", chart)) for title, chart in charts]

"""The portal's charts say no more than the digests do (issue #15; found by session 16's
second read). A period of fewer than k contributors lists no value, and a month in the
default design lists its total and kind only; the digests' charts hide those points
(``RegionDigests.series``). The portal's dashboard used to build its series from the raw
tallies with ``digest_series`` alone: a 0 for each value such a period lacks beside hidden
points for those it has (which values one State's cases report), and a month's item
categories, methods and stages in the clear."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.digests import RegionDigests, digest_series
from dief.disclosure import Tally, digest_pattern
from dief.periods import parse_period
from dief.portal import StoreDigests
from dief.synthetic import generate_cases
from dief.vocab import Region
from tests.unit.record_helpers import signed_facts

if TYPE_CHECKING:
    from pathlib import Path

TODAY = date(2026, 12, 1)
K = 2
START = 7


def _few(digests: RegionDigests, period: str) -> bool:
    total = digests.tallies.get(period, {}).get(("_total", "_all"))
    return total is not None and total.contributors < K


@pytest.mark.asyncio
async def test_the_dashboard_charts_no_more_than_the_digests(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "cases.db")
    lines = generate_cases(160, seed=5, indicator_ids=load_catalogue().ids, today=TODAY)
    async with CaseStore(url) as store:
        await store.apply_batch("AFR", signed_facts(lines, today=TODAY)["AFR"])
        digests = await RegionDigests.load(store, Region.AFR, k=K, start_month=START)
        periods = sorted(await store.periods_with_data(Region.AFR.value))
    source = StoreDigests(url, k=K, start_month=START)
    seen_few = 0
    for period in periods:
        series = (await source.dashboard(Region.AFR, period)).series
        assert series == digests.series(period), period  # the digests' own chart, no more
        for lines_ in series.dimensions.values():
            for line in lines_:
                for at, count in zip(series.periods, line.counts, strict=True):
                    if _few(digests, at):
                        assert count is None, (period, at, line.value, count)
                        seen_few += 1
    assert seen_few  # the history has such periods inside a chart's window


def test_a_period_of_few_contributors_charts_no_value() -> None:
    """``digest_series`` itself: Q2 (one contributor, no ammunition) charts no point of any
    value, not a 0 for ammunition beside a hidden ``parts``."""
    total = ("_total", "_all")
    q1 = {
        total: Tally(6, 4, ()),
        ("item_category", "parts"): Tally(3, 3, ()),
        ("item_category", "ammunition"): Tally(3, 3, ()),
    }
    q2 = {total: Tally(1, 1, ()), ("item_category", "parts"): Tally(1, 1, ())}
    tallies = {"2026-Q1": q1, "2026-Q2": q2}
    pattern = digest_pattern(tallies, k=3, periods=["2026-Q2"])
    series = digest_series(tallies, parse_period("2026-Q2"), k=3, pattern=pattern)
    for lines_ in series.dimensions.values():
        for line in lines_:
            assert line.counts[series.periods.index("2026-Q2")] is None, line

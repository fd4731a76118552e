"""Months by total: a month lists its total and kind by design, so its digest withholds
no other dimension, in a first issue and in a re-issue alike (issue #15, session 11).

Before, a re-issue marked every dimension of every earlier month withheld (a dimension no
earlier issue listed stays withheld, :mod:`dief.disclosure._withheld`), where the first
issue had marked only those below k: the two issues' fingerprints of unchanged months
differed, and one new case rebuilt 91 of a region's 157 digests (600 cases, 10 years)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.digests import RegionDigests
from dief.disclosure._design import is_month
from dief.disclosure._memo import clear_patterns
from dief.periods import Month
from dief.render import write_outputs
from tests.unit.reporting_support import History

if TYPE_CHECKING:
    from pathlib import Path


def _month_dimensions_withheld(digests: RegionDigests) -> set[tuple[str, str]]:
    return {(t, d) for t, d in digests.pattern.withheld if is_month(t) and d != "kind"}


async def test_a_reissue_withholds_no_month_dimension_and_keeps_unchanged_months(
    tmp_path: Path,
) -> None:
    start = Month.parse("2025-03")
    months = [str(start.shift(i)) for i in range(12)]
    history = History("AFR", random.Random(11), months, nodes=5, red_share=0.1)
    options: dict[str, Any] = {"regions": ["AFR"], "k_meeting": 2, "k_csp": 3}
    options |= {"catalogue": load_catalogue(), "html": False, "docx": False}
    options |= {"months_by_total": True}
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as store:
        await store.apply_batch("AFR", [history._new() for _ in range(40)])
        clear_patterns()
        empty = await store.published_suppressions("AFR")  # as write_outputs reads it
        first = await RegionDigests.load(store, "AFR", earlier=empty, months_by_total=True)
        await write_outputs(tmp_path / "one", store, **options)
        history.months = ["2026-02"]
        await store.apply_batch("AFR", [history._new()])
        clear_patterns()
        earlier = await store.published_suppressions("AFR")
        second = await RegionDigests.load(store, "AFR", earlier=earlier, months_by_total=True)
    assert _month_dimensions_withheld(first) == set()
    assert _month_dimensions_withheld(second) == set()
    before, after = first.inputs(first.periods), second.inputs(second.periods)
    unchanged = [p for p in before if is_month(p) and p < "2025-09"]
    assert unchanged, "the history must have months of the earlier cycle"
    assert [p for p in unchanged if before[p] != after[p]] == []

"""The earlier issue as a re-issue rebuilds it from the record (#15,
``dief.disclosure._digest_groups._earlier``): only equations its reader holds.

A re-issue checks every cell against both issues together (``break_joint``), the earlier
one rebuilt from what it listed. The closed periods' digests (``publish_closed_periods``)
show the checklist window of the quarter under way, whose quarter no digest lists yet:
rebuilt over the quarters the record lists, the window was the sum of three of its four
quarters. That false equation, with the issue now's true one, pinned the quarter's cells,
and a re-issue of unchanged data (withholding on) hid cells the first issue published and
re-published 8 digests. The window's sum in the earlier issue is over the quarters it
lists and the months it lists of the quarter under way; a month of that quarter it could
not show (not over yet) that counts a cell is an unknown of that one sum, which then
tells its reader nothing and is left out.
"""

from __future__ import annotations

import random
from datetime import date
from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CaseStore
from dief.database import sqlite_url
from dief.digests import RegionDigests, closed_periods
from dief.disclosure import DigestPattern, _withheld, visible_tables
from dief.disclosure._digest_groups import _earlier  # the rebuild, tested directly
from dief.periods import DEFAULT_CYCLE_START_MONTH
from tests.unit.reporting_support import History

if TYPE_CHECKING:
    from pathlib import Path

    from dief.disclosure import Group, Key

#: the months with data: 2026-Q3 is under way on TODAY, its September not over
MONTHS = ("2026-01", "2026-02", "2026-04", "2026-05", "2026-07", "2026-08")
TODAY = date(2026, 9, 2)


async def _issue(
    store: CaseStore, *, months_by_total: bool | None = None
) -> tuple[DigestPattern, set[str]]:
    """One issue of the closed periods (as ``publish_closed_periods``): the pattern, with
    what the closed periods' digests list recorded, and the tables they show."""
    earlier = await store.published_suppressions("AFR")
    source = await RegionDigests.load(
        store, "AFR", k=2, earlier=earlier, months_by_total=months_by_total
    )
    wanted = closed_periods(await store.periods_with_data("AFR"), TODAY)
    await source.record(store, wanted)
    return source.pattern, visible_tables(wanted, start_month=DEFAULT_CYCLE_START_MONTH)


async def _history(store: CaseStore, seed: int, months: tuple[str, ...]) -> None:
    rng = random.Random(seed)
    history = History("AFR", rng, months, nodes=4, red_share=0.0)
    await store.apply_batch("AFR", history.batch(rng.randint(10, 18)))


def _false(groups: tuple[Group, ...], counts: dict[Key, int]) -> list[Group]:
    """The groups whose sum does not hold on the true counts (the data is unchanged)."""
    return [
        g for g in groups if counts.get(g.marginal, 0) != sum(counts.get(m, 0) for m in g.members)
    ]


@pytest.mark.parametrize("by_total", [False, True], ids=["full-months", "months-by-total"])
@pytest.mark.parametrize("withhold", [False, True])
@pytest.mark.parametrize(
    ("seed", "months"),
    [(1, MONTHS), (2, MONTHS), (3, (*MONTHS, "2026-09")), (4, (*MONTHS, "2026-09"))],
)
async def test_the_rebuilt_earlier_issue_states_only_sums_that_hold(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
    months: tuple[str, ...],
    *,
    withhold: bool,
    by_total: bool,
) -> None:
    """Every equation of the earlier issue as rebuilt holds on its data (unchanged since):
    with a month of the quarter under way without data (seeds 1, 2) and with one that has
    data no digest could show yet (3, 4: its window's sums of the cells it counts are
    left out). Full months list that month's indicators, so the window's sum is rebuilt;
    by total, a month lists none, and the sum may be left out whole (seed 3)."""
    monkeypatch.setattr(_withheld, "WITHHOLD_BY_DEFAULT", withhold)
    async with CaseStore(sqlite_url(tmp_path / "c.db")) as store:
        await _history(store, seed, months)
        pattern, _ = await _issue(store, months_by_total=by_total)
        record = await store.published_suppressions("AFR")
    assert any(c.period == "W2026-Q3" for c in (*record.suppressed, *record.counts))
    assert not any(c.period == "2026-Q3" for c in (*record.suppressed, *record.counts))
    counts = dict(pattern.counts)
    rebuilt = _earlier(record, counts, DEFAULT_CYCLE_START_MONTH, pattern.unlisted)
    assert by_total or any(g.marginal[0] == "W2026-Q3" for g in rebuilt.groups)
    assert _false(rebuilt.groups, counts) == []


@pytest.mark.parametrize("seed", [1, 3, 4, 5, 7])
async def test_a_reissue_of_unchanged_data_keeps_the_pattern(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """With withholding on, the issue after an issue of the same data hides the same cells
    of every table its digests show (before: more, and it re-published unchanged
    digests). The periods not over yet (2026-Q3, 2026-09) are no digest of either issue:
    their cells are no earlier issue's, and the search may hide others there."""
    monkeypatch.setattr(_withheld, "WITHHOLD_BY_DEFAULT", True)
    async with CaseStore(sqlite_url(tmp_path / "c.db")) as store:
        await _history(store, seed, (*MONTHS, "2026-09"))
        first, shown = await _issue(store)
        second, again = await _issue(store)
    assert shown == again
    assert any(table in shown for table, _ in first.withheld)  # the case in point
    # the cells the digests list (a withheld dimension's cells are in no document, and
    # the search may or may not take one of them as a suppression: session 9)
    assert {c for c in second.suppressed if c[0] in shown and c not in second.unlisted} == {
        c for c in first.suppressed if c[0] in shown and c not in first.unlisted
    }

"""Check 4's walk hid plain cells, one a round, for a leak no plain cell can free (#15,
sessions 19-20).

:meth:`~dief.disclosure._search._Search.break_bounds` gives each pinned cell the nearest
candidate through the groups, plain cells before reserved ones however far they are. A
cell that reserved cells pin (at 3,000 cases over 10 years, AFR's month total ``2017-01``
at its least value between its quarter's and half's totals) stayed pinned while the walk
hid 560 cells ever farther from it, one a round, before it came to its neighbour's total:
hundreds of needless suppressions and most of the region's time. On the bench's 600 cases
over two years, WEOG's ``end_user_type`` cells of ``2025-Q1`` and the ``CSP11``/``CSP13``
periods took 12 to 14 plain cells each.

Now, after :data:`~dief.disclosure._search.WIDEN_TRIES` walk picks for a leak still
pinned (and twice, four times as many), one linear programme asks whether every plain
cell the walk could reach would free it
(:meth:`~dief.disclosure._search._Search._past_plain`); where none would, the leak
takes the cell the walk would have ended on (the nearest other candidate, those plain
cells walked through), and the plain cells stay published. (Session 19 took the nearest
candidate of any kind instead, often a month's total: the realistic forum's month share
fell from 0.72 to 0.63, and it was reverted.)
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import TYPE_CHECKING

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.digests import RegionDigests
from dief.disclosure import _search
from dief.disclosure._memo import clear_patterns
from dief.synthetic import generate_cases
from dief.vocab import Region
from tests.unit.record_helpers import signed_facts

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from dief.disclosure._suppression import Key

TODAY = date(2026, 10, 15)


async def _weog(database: Path) -> int:
    """WEOG's digests of the bench's 600 cases over two years: how many cells they hide."""
    lines = generate_cases(
        600,
        seed=17,
        indicator_ids=load_catalogue().ids,
        today=TODAY,
        first_month=date(TODAY.year - 2, TODAY.month, 1),
    )
    clear_patterns()
    try:
        async with CaseStore(sqlite_url(database)) as store:
            await store.apply_batch("WEOG", signed_facts(lines, today=TODAY)["WEOG"])
            digests = await RegionDigests.load(store, Region.WEOG)
    finally:
        clear_patterns()
    return len(digests.pattern.suppressed)


async def test_no_leak_takes_plain_cells_that_cannot_free_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    picks: Counter[tuple[int, Key]] = Counter()
    past: list[tuple[Key, Key]] = []
    searches: list[_search._Search] = []  # kept alive: their ids name them
    in_check4 = [False]
    real_widen, real_bounds = _search._Search.widen, _search._Search.break_bounds
    real_past = _search._Search._past_plain

    def break_bounds(self: _search._Search) -> bool:
        in_check4[0] = True
        try:
            return real_bounds(self)
        finally:
            in_check4[0] = False

    def widen(self: _search._Search, leak: Key, *args: object, **kwargs: object) -> Key | None:
        pick = real_widen(self, leak, *args, **kwargs)  # type: ignore[arg-type]  # the spy passes them on
        if in_check4[0] and kwargs.get("dead") is not None and pick is not None:
            if self not in searches:
                searches.append(self)
            picks[id(self), leak] += 1
        return pick

    def past_plain(self: _search._Search, leak: Key) -> Key | None:
        pick = real_past(self, leak)
        if pick is not None:
            # never a plain cell: those could not free it
            assert pick in self.reserve, (leak, pick)
            past.append((leak, pick))
        return pick

    monkeypatch.setattr(_search._Search, "break_bounds", break_bounds)
    monkeypatch.setattr(_search._Search, "widen", widen)
    monkeypatch.setattr(_search._Search, "_past_plain", past_plain)
    hidden = await _weog(tmp_path / "store.db")
    # the history has such leaks: each took WIDEN_TRIES plain picks, then a reserved cell
    assert past
    assert max(picks.values()) > _search.WIDEN_TRIES
    # and none takes more than twice that (before: 14)
    assert max(picks.values()) <= 2 * _search.WIDEN_TRIES, picks.most_common(3)

    # the long walk, for comparison: it hides more cells to end on the same kind of cell
    monkeypatch.setattr(_search, "WIDEN_TRIES", 10**9)
    assert await _weog(tmp_path / "long.db") > hidden

"""Check 4's walk hid plain cells, one a round, for a leak no plain cell can free (#15,
session 19).

:meth:`~dief.disclosure._search._Search.break_bounds` gives each pinned cell the nearest
candidate through the groups, plain cells before reserved ones however far they are. A
cell that reserved cells pin (at 3,000 cases over 10 years, AFR's month total ``2017-01``
at its least value between its quarter's and half's totals) stayed pinned while the walk
hid 560 cells ever farther from it, one a round, before it came to its neighbour's total:
hundreds of needless suppressions and most of the region's time. On the bench's 600 cases
over two years, WEOG's ``end_user_type`` cells of ``2025-Q1`` and the ``CSP11``/``CSP13``
periods took 12 to 14 plain cells each.

Now a leak still pinned after :data:`~dief.disclosure._search.WIDEN_TRIES` walk picks asks,
with one linear programme, whether every plain cell the walk could reach would free it
(:meth:`~dief.disclosure._search._Search._plain_futile`); where none would, it takes the
nearest candidate of any kind.
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


async def test_no_leak_takes_plain_cells_that_cannot_free_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = generate_cases(
        600,
        seed=17,
        indicator_ids=load_catalogue().ids,
        today=TODAY,
        first_month=date(TODAY.year - 2, TODAY.month, 1),
    )
    facts = signed_facts(lines, today=TODAY)["WEOG"]
    searches: list[_search._Search] = []  # kept alive: their ids name them
    picks: Counter[tuple[int, Key]] = Counter()
    futile: list[Key] = []
    in_check4 = [False]
    real_widen, real_bounds = _search._Search.widen, _search._Search.break_bounds
    real_futile = _search._Search._plain_futile

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

    def plain_futile(self: _search._Search, leak: Key) -> bool:
        answer = real_futile(self, leak)
        if answer:
            futile.append(leak)
        return answer

    monkeypatch.setattr(_search._Search, "break_bounds", break_bounds)
    monkeypatch.setattr(_search._Search, "widen", widen)
    monkeypatch.setattr(_search._Search, "_plain_futile", plain_futile)
    clear_patterns()
    async with CaseStore(sqlite_url(tmp_path / "store.db")) as store:
        await store.apply_batch("WEOG", facts)
        await RegionDigests.load(store, Region.WEOG)
    clear_patterns()
    # the history has such leaks: each took more than WIDEN_TRIES picks and was found futile
    assert futile
    assert max(picks.values()) > _search.WIDEN_TRIES
    # and none takes more than twice that (before: 14)
    assert max(picks.values()) <= 2 * _search.WIDEN_TRIES, picks.most_common(3)

"""Route tables re-issued (issue 11): two issues of one table, compared, give nothing away.

A closed cycle's route table is issued again when its cases change (a late case, a
revision, a withdrawal). Computed afresh each time, the second issue can hide other cells
than the first: issue 1 publishes the total and ``at_import`` and hides ``stockpile`` and
``post_delivery``; issue 2, after two late ``post_delivery`` cases, publishes the total and
``post_delivery`` and hides ``stockpile`` and ``at_import``. A reader of the receiving
region who posted the late cases knows what changed and no more, and with both issues
solves ``stockpile`` (one contributor's cell) exactly. The sending region therefore keeps
what each issue of a table listed (``route_cells``, migration 0011) and every later issue
keeps it: a suppressed cell stays suppressed, a cell published with the count it still has
is public.

The attack runs through two aggregators' stores, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from dief.aggregator import TOTAL
from dief.aggregator.store import CaseStore
from dief.digests import RegionDigests
from dief.disclosure import CellId, Tally
from dief.routes import (
    RouteCase,
    RoutePattern,
    RouteTables,
    SenderCells,
    build_route_table,
    listed_cells,  # what an issue records
    protect_route,
    route_cells,
)
from dief.testing import MemoryRecordSink
from tests.unit.route_helpers import (
    AFR,
    DATABASE_KINDS,
    EEG,
    FIRST,
    LATE,
    database_pair,
    publish_tables,
    receive_table,
    route_issuer,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Mapping
    from pathlib import Path

    from dief.wire import RouteTable

STAGE = "transfer_stage"
P, A, B = (STAGE, "stockpile"), (STAGE, "at_import"), (STAGE, "post_delivery")


#: what the reader knows changed between the issues: its own cases, nothing else
DELTA: dict[CellId, int] = {TOTAL: 2, B: 2}


@pytest.fixture(params=DATABASE_KINDS)
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    yield from database_pair(request, tmp_path)


@pytest.fixture
async def stores(urls: tuple[str, str]) -> AsyncIterator[tuple[CaseStore, CaseStore]]:
    async with CaseStore(urls[0]) as afr, CaseStore(urls[1]) as eeg:
        await afr.apply_batch("AFR", FIRST)
        yield afr, eeg


async def _issue(afr: CaseStore, eeg: CaseStore) -> RouteTable:
    """One issue of AFR's route tables (a fresh issuer, as after a restart), received by
    EEG; the table EEG holds afterwards."""
    sink = MemoryRecordSink()
    source = await RegionDigests.load(afr, AFR, k=2, periods=["CSP12"])
    await publish_tables(afr, route_issuer(sink), source)
    return await receive_table(eeg, (s.value for s in sink.sent))


def _stage_view(table: RouteTable) -> tuple[dict[CellId, int], set[CellId]]:
    """What a reader sees of the transfer stages and the total: counts and hidden cells."""
    counts: dict[CellId, int] = {}
    hidden: set[CellId] = set()
    if table.totals.cases is not None:
        counts[TOTAL] = table.totals.cases
    else:
        hidden.add(TOTAL)
    for dimension, cells in table.dimensions.items():
        if dimension.value != STAGE:
            continue
        for cell in cells:
            if cell.count is None:
                hidden.add((STAGE, cell.value))
            else:
                counts[STAGE, cell.value] = cell.count
    return counts, hidden


def reader(
    first: RouteTable, second: RouteTable, delta: Mapping[CellId, int]
) -> dict[CellId, set[int]]:
    """Every value each cell hidden in *first* can take for a reader holding both issues
    and knowing exactly what changed in between (*delta*; every other cell unchanged):
    an exact search over small integers (each issue's stages sum to its total, every
    listed cell counts at least one case)."""
    seen = [_stage_view(first), _stage_view(second)]
    stages = sorted({c for counts, hidden in seen for c in (*counts, *hidden) if c != TOTAL})
    feasible: dict[CellId, set[int]] = {c: set() for c in seen[0][1]}
    for values in itertools.product(range(1, 13), repeat=len(stages)):
        one = dict(zip(stages, values, strict=True))
        one[TOTAL] = sum(values)
        two = {c: n + delta.get(c, 0) for c, n in one.items()}
        if all(
            all(truth[c] == n for c, n in counts.items())
            for truth, (counts, _hidden) in zip((one, two), seen, strict=True)
        ):
            for cell, possible in feasible.items():
                possible.add(one[cell])
    return feasible


async def test_two_issues_of_a_route_table_compared_recover_no_cell(
    stores: tuple[CaseStore, CaseStore],
) -> None:
    afr, eeg = stores
    first = await _issue(afr, eeg)
    _counts, hidden = _stage_view(first)
    assert P in hidden, "one contributor's cell is suppressed"
    assert first.totals.cases == 6

    await afr.apply_batch("AFR", LATE)
    second = await _issue(afr, eeg)
    assert second.totals.cases == 8
    # each issue alone protects the cell ...
    assert len(reader(first, first, {})[P]) > 1
    assert len(reader(second, second, {})[P]) > 1
    # ... and so do both together, for a reader who knows exactly what changed
    both = reader(first, second, DELTA)
    assert 1 in both[P], "the truth stays feasible"
    assert len(both[P]) > 1, f"two issues compared give the cell away: {both[P]}"
    # the second issue keeps the first one's suppressions
    assert hidden <= _stage_view(second)[1]


# -- the same attack on random tables, without a store ----------------------------------

STAGES = ("pre_transfer", "in_transit", "at_import", "post_delivery")
ISSUED = datetime(2026, 9, 10, 12, tzinfo=UTC)


def _wide_sender() -> SenderCells:
    """A sending region that publishes every cell with many contributors (no taint)."""
    cells = [TOTAL, *((STAGE, s) for s in STAGES)]
    return SenderCells(
        digest=dict.fromkeys(cells, 50), nonred={c: Tally(50, 9, ("CSP12",)) for c in cells}
    )


def _random_history(seed: int) -> tuple[list[RouteCase], list[RouteCase], dict[CellId, int]]:
    """Cases of an issue, the reader's late cases, and what the reader knows changed."""
    rng = random.Random(seed)
    cases = [
        RouteCase(f"c{rng.randrange(5)}", "CSP12", ((STAGE, rng.choice(STAGES)),))
        for _ in range(rng.randint(4, 8))
    ]
    late = [
        RouteCase("reader", "CSP12", ((STAGE, rng.choice(STAGES)),))
        for _ in range(rng.randint(1, 3))
    ]
    delta: dict[CellId, int] = {TOTAL: len(late)}
    for case in late:
        delta[case.values[0]] = delta.get(case.values[0], 0) + 1
    return cases, late, delta


def _issue_of(
    cases: list[RouteCase], earlier: RoutePattern | None
) -> tuple[RouteTable, RoutePattern]:
    """One issue of the table of *cases* (keeping *earlier*), and the record after it."""
    cells = route_cells(cases, earlier)
    protection = protect_route(cells, _wide_sender(), k=2, earlier=earlier)
    table = build_route_table(AFR, EEG, "CSP12", cells, protection, k=2, issued_at=ISSUED)
    hidden = {c for c in cells if c in protection.hidden}
    before = earlier or RoutePattern()
    record = RoutePattern(
        before.suppressed | (set() if table.withheld else hidden),
        {**before.counts, **{c: t.count for c, t in cells.items() if c not in hidden}},
    )
    return table, record


def general_reader(
    first: RouteTable, second: RouteTable, delta: Mapping[CellId, int]
) -> dict[CellId, set[int]]:
    """:func:`reader` where cells may come and go: a cell not listed counts 0, a cell
    listed counts at least one, except in the second issue a cell the first suppressed
    (a re-issue lists it at 0 when it lost its cases)."""
    (c1, h1), (c2, h2) = _stage_view(first), _stage_view(second)
    listed1 = (c1.keys() | h1) - {TOTAL}
    listed2 = (c2.keys() | h2) - {TOTAL}
    stages = sorted(listed1)
    feasible: dict[CellId, set[int]] = {c: set() for c in h1}
    top = (c1.get(TOTAL) or 12) + 1
    for values in itertools.product(range(1, top), repeat=len(stages)):
        one = dict(zip(stages, values, strict=True))
        two = {c: one.get(c, 0) + delta.get(c, 0) for c in listed1 | listed2}
        one[TOTAL] = sum(values)
        two[TOTAL] = one[TOTAL] + delta.get(TOTAL, 0)
        if any(one.get(c, 0) != n for c, n in c1.items()):
            continue
        if any(two.get(c, 0) != n for c, n in c2.items()):
            continue
        if any(two[c] < (0 if c in h1 else 1) for c in listed2):
            continue
        if any(two[c] != 0 for c in (listed1 - listed2)):
            continue
        for cell, possible in feasible.items():
            possible.add(one[cell])
    return feasible


def test_random_reissues_give_away_nothing_the_first_issue_kept() -> None:
    """Twenty random tables, each re-issued after the reader's late cases: a cell the first
    issue protected stays protected against both issues, with the record; computed afresh,
    the second issue gives cells away (the test has teeth)."""
    leaks_afresh = 0
    for seed in range(20):
        cases, late, delta = _random_history(seed)
        first, record = _issue_of(cases, None)
        alone = reader(first, first, {})
        second, _ = _issue_of(cases + late, record)
        both = general_reader(first, second, delta)
        for cell, values in alone.items():
            if len(values) > 1:
                assert len(both[cell]) > 1, f"seed {seed}: {cell} given away by two issues"
        afresh, _ = _issue_of(cases + late, None)
        fresh = general_reader(first, afresh, delta)
        leaks_afresh += sum(
            1 for cell, values in alone.items() if len(values) > 1 and len(fresh[cell]) == 1
        )
    assert leaks_afresh > 0, "no random history shows the attack: the test proves nothing"


def _stage_cells(table: RouteTable) -> dict[str, int | None]:
    return {c.value: c.count for d, cs in table.dimensions.items() if d.value == STAGE for c in cs}


def test_a_suppressed_cell_stays_suppressed_and_an_emptied_one_stays_listed() -> None:
    one = [
        RouteCase("p1", "CSP12", ((STAGE, "stockpile"),)),
        *(RouteCase(f"a{i}", "CSP12", ((STAGE, "at_import"),)) for i in range(3)),
        *(RouteCase(f"b{i}", "CSP12", ((STAGE, "post_delivery"),)) for i in range(2)),
    ]
    first, record = _issue_of(one, None)
    assert _stage_cells(first) == {"at_import": 3, "stockpile": None, "post_delivery": None}
    assert record.suppressed == {P, B}
    # the stockpile case is withdrawn; post_delivery gains three contributors: afresh, every
    # cell would be published (and stockpile's 0 and post_delivery's 2 with it)
    two = [c for c in one if c.contributor != "p1"]
    two += [RouteCase(f"n{i}", "CSP12", ((STAGE, "post_delivery"),)) for i in range(3)]
    afresh, _ = _issue_of(two, None)
    assert _stage_cells(afresh) == {"at_import": 3, "post_delivery": 5}
    second, after = _issue_of(two, record)
    assert _stage_cells(second) == {"at_import": 3, "stockpile": None, "post_delivery": None}
    assert second.totals.cases == 8
    assert after.suppressed == {P, B}
    # a cell published with the count it still has is never hidden to protect another
    assert after.counts[A] == 3


def test_a_withheld_table_lists_nothing() -> None:
    """The sender suppresses its total (and kind=case) in its digest and in a published
    summary, and nothing puts a floor under them; the published method count (4) would
    bound its total from below whatever else is hidden: the table is withheld, nothing
    listed (and nothing recorded: a later issue is held to no cell of it)."""
    case, method = ("kind", "case"), ("method", "falsified_documents")
    cases = [RouteCase(f"c{i % 3}", "CSP12", (case, method)) for i in range(4)]
    cells = route_cells(cases)
    sender = SenderCells(
        digest={TOTAL: None, case: None, method: 9},
        nonred=dict.fromkeys((TOTAL, case, method), Tally(9, 5, ("CSP12",))),
        summary_hidden=frozenset({TOTAL, case}),
    )
    protection = protect_route(cells, sender, k=2)
    assert protection.withheld
    table = build_route_table(AFR, EEG, "CSP12", cells, protection, k=2, issued_at=ISSUED)
    assert table.withheld
    assert table.dimensions == {}
    assert table.totals.cases is None
    assert listed_cells(cells, protection) == {}


@pytest.mark.parametrize("urls", DATABASE_KINDS, indirect=True)
async def test_the_record_keeps_a_suppression_for_good(urls: tuple[str, str]) -> None:
    async with CaseStore(urls[0]) as store:
        routes = RouteTables(store)
        assert await routes.published_patterns("AFR", "CSP12") == {}
        first = {TOTAL: 6, A: 3, P: None, B: None}
        assert await routes.record_published("AFR", {("EEG", "CSP12"): first}) == 4
        assert await routes.record_published("AFR", {("EEG", "CSP12"): first}) == 0
        # a later issue that would publish P, and changes A: P stays suppressed
        later = {TOTAL: 8, A: 4, P: 1, B: None}
        assert (
            await routes.record_published(
                "AFR", {("EEG", "CSP12"): later, ("WEOG", "CSP12"): {TOTAL: 2}}
            )
            == 3
        )
        patterns = await routes.published_patterns("AFR", "CSP12")
        assert patterns == {
            # published: every cell some issue published (P never was: suppressed first)
            "EEG": RoutePattern(frozenset({P, B}), {TOTAL: 8, A: 4}, frozenset({TOTAL, A})),
            "WEOG": RoutePattern(frozenset(), {TOTAL: 2}, frozenset({TOTAL})),
        }
        assert await routes.published_patterns("AFR", "CSP13") == {}
        assert await routes.published_patterns("EEG", "CSP12") == {}

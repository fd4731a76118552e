"""Route tables a meeting can use (issue 11, DESIGN §7 "utility is a goal"): a table is
published wherever it tells no reader more about the sending region's cells than the
sender's own documents do.

The demo withheld tables wholesale: the sending region's cycle digest hides ``kind=case``
(its few alerts come from one State, and ``case`` is the total minus them), so the old rule
took that cell at one case and any published total bounded it. But the sender's month
digests publish ``kind=case`` month by month: a member of its meeting already knows the
cycle's ``case`` count is at least their sum (less the cycle's TLP:RED cases, for the
summary's cell). A route table up to that floor adds nothing.

The attacks: a reader holding every document of the sending region (month, quarter and
cycle digests, the summary row) and the route table searches every integer history
consistent with them (exact) and must learn nothing about any of the sender's cells that
it did not know without the table, nor pin a suppressed route cell; a rule that forgets
the TLP:RED cases under the floor gives a cell away on the same histories.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

import pytest

from dief.aggregator import TOTAL, CaseFacts
from dief.aggregator.store import CaseStore
from dief.database import sqlite_url
from dief.digests import RegionDigests
from dief.disclosure import CellId, PeriodCells, Tally, digest_pattern
from dief.routes import (
    RouteCase,
    SenderCells,
    build_route_table,
    digest_floors,
    listed_cells,  # what an issue records
    protect_route,
    route_cells,
    sender_view,
)
from dief.testing import MemoryRecordSink
from dief.vocab import Dimension
from tests.unit.route_helpers import (
    AFR,
    EEG,
    case_facts,
    publish_tables,
    receive_table,
    route_issuer,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Mapping
    from pathlib import Path

    from dief.wire import RouteTable

ISSUED = datetime(2026, 9, 10, 12, tzinfo=UTC)
CASE, ALERT = ("kind", "case"), ("kind", "alert")
STAGE = "transfer_stage"


def _facts(node: int, month: str, *, kind: str = "case", routed: bool = False) -> CaseFacts:
    related = ("EEG",) if routed else ()
    return case_facts(f"node-{node}", stage="in_transit", month=month, kind=kind, related=related)


#: AFR's CSP12, as in the demo: four cases a month from three States in four months (their
#: month digests publish kind=case), and one alert from a single State in a fifth month
#: (its month and the cycle digest hide kind=alert, and so kind=case). Five of the cases,
#: from three States, pass through EEG.
HISTORY = [
    *(
        _facts(1 + (i % 3), month, routed=(n < 2 and i < 3) or (n == 2 and i < 1))
        for n, month in enumerate(("2025-10", "2025-11", "2026-02", "2026-03"))
        for i in range(4)
    ),
    _facts(4, "2026-05", kind="alert"),
    _facts(5, "2026-05"),
]


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[CaseStore, CaseStore]]:
    async with (
        CaseStore(sqlite_url(tmp_path / "afr.db")) as afr,
        CaseStore(sqlite_url(tmp_path / "eeg.db")) as eeg,
    ):
        await afr.apply_batch("AFR", HISTORY)
        yield afr, eeg


async def _issue(afr: CaseStore, eeg: CaseStore) -> RouteTable:
    sink = MemoryRecordSink()
    # the sender's digests alone (k_csp=None): in this history every case has the same
    # values but its kind, so with its summary rows protected too (LP bounds included)
    # every total hides; the rule under test is the route table's floor
    source = await RegionDigests.load(afr, AFR, k=2, periods=["CSP12"], k_csp=None)
    assert source.pattern.published("CSP12", CASE, source.tallies["CSP12"][CASE]) is None, (
        "the sender's cycle digest hides kind=case"
    )
    await publish_tables(afr, route_issuer(sink), source)
    return await receive_table(eeg, (s.value for s in sink.sent))


async def test_a_table_is_published_where_the_senders_months_already_bound_its_hidden_cell(
    stores: tuple[CaseStore, CaseStore],
) -> None:
    """Withheld by the old rule; now the total, kind=case and the other cells with enough
    contributors are published."""
    table = await _issue(*stores)
    assert not table.withheld
    assert table.totals.cases == 7
    assert table.totals.contributors == 3
    kinds = {c.value: c.count for c in table.dimensions.get(Dimension.KIND, [])}
    assert kinds == {"case": 7}


def test_the_month_and_quarter_digests_put_a_floor_under_a_hidden_cycle_cell() -> None:
    def cells(case: int, alert: int, who: int) -> PeriodCells:
        out = {TOTAL: Tally(case + alert, who, ("CSP12",)), CASE: Tally(case, who, ("CSP12",))}
        if alert:
            out[ALERT] = Tally(alert, 1, ("CSP12",))
        return out

    tallies = {
        "2025-10": cells(4, 0, 3),
        "2025-11": cells(3, 0, 2),
        "2025-Q4": cells(7, 0, 3),
        "2026-05": cells(2, 1, 2),
        "2026-Q2": cells(2, 1, 2),
        "CSP12": cells(9, 1, 3),
    }
    pattern = digest_pattern(tallies, k=2, start_month=9)
    assert pattern.published("CSP12", CASE, tallies["CSP12"][CASE]) is None
    assert pattern.published("2026-05", CASE, tallies["2026-05"][CASE]) is None
    floors = digest_floors("CSP12", [CASE, ALERT], pattern=pattern, tallies=tallies)
    # 2025-Q4 publishes 7; May (and its quarter) hides case: it adds nothing
    assert floors == {CASE: 7, ALERT: 0}
    nonred = {  # one of the cases is TLP:RED
        TOTAL: Tally(9, 3, ("CSP12",)),
        CASE: Tally(8, 3, ("CSP12",)),
        ALERT: Tally(1, 1, ("CSP12",)),
    }
    sender = sender_view("CSP12", pattern=pattern, tallies=tallies, nonred=nonred)
    # the summary row hides case (alert has too few contributors); the cycle's red cases
    # (digest total 10 less summary total 9) come off the floor
    assert CASE in sender.summary_suppressed()
    assert sender.caps([CASE, ALERT, TOTAL]) == {CASE: 6, ALERT: 1, TOTAL: 9}


# -- the attack: an exact reader of everything the sender publishes ---------------------

VALUES = ("in_transit", "at_import", "stockpile")
MONTHS = ("2025-10", "2026-01")  # one month in each of two quarters of CSP12
QUARTERS = {"2025-10": "2025-Q4", "2026-01": "2026-Q1"}


@dataclass(frozen=True)
class _Case:
    month: str
    stage: str
    who: str
    red: bool
    routed: bool


def _history(seed: int) -> list[_Case]:
    rng = random.Random(seed)
    out: list[_Case] = []
    for month in MONTHS:
        for _ in range(rng.randint(3, 6)):
            stage = rng.choices(VALUES, (6, 3, 1))[0]
            red = rng.random() < 0.2
            routed = not red and rng.random() < 0.6
            out.append(_Case(month, stage, f"p{rng.randrange(5)}", red, routed))
    return out


def _tallies(cases: list[_Case], *, red: bool) -> dict[str, PeriodCells]:
    by: dict[str, dict[CellId, list[str]]] = {}
    for case in cases:
        if case.red and not red:
            continue
        for period in (case.month, QUARTERS[case.month], "CSP12"):
            for cell in (TOTAL, (STAGE, case.stage)):
                by.setdefault(period, {}).setdefault(cell, []).append(case.who)
    return {
        period: {c: Tally(len(w), len(set(w)), ("CSP12",)) for c, w in cells.items()}
        for period, cells in by.items()
    }


Shown = dict[CellId, int | None]  # listed cells: count, or None when suppressed


@dataclass(frozen=True)
class _Documents:
    """What the reader holds: each month digest (its quarter's is the same table), the
    cycle digest, the summary row, and the route table (``route``; ``omitted``: its stage
    dimension is left out)."""

    months: dict[str, Shown]
    cycle: Shown
    summary: Shown
    route: Shown
    omitted: bool


def _shown(table: RouteTable) -> tuple[Shown, bool]:
    shown: Shown = {TOTAL: table.totals.cases}
    omitted = True
    for dimension, cells in table.dimensions.items():
        if dimension.value == STAGE:
            omitted = False
            shown.update({(STAGE, c.value): c.count for c in cells})
    return shown, omitted


def _fits(value: int, shown: int | None) -> bool:
    return value == shown if shown is not None else value >= 1


def _month_options(shown: Shown) -> list[dict[str, int]]:
    """Every (stage → count) of a month consistent with its digest."""
    total = shown[TOTAL]
    top = total if total is not None else 12
    options = []
    for values in itertools.product(range(top + 1), repeat=len(VALUES)):
        counts = dict(zip(VALUES, values, strict=True))
        if not _fits(sum(values), total) or sum(values) == 0:
            continue
        if all(
            (counts[v] == 0) if (STAGE, v) not in shown else _fits(counts[v], shown[STAGE, v])
            for v in VALUES
        ):
            options.append(counts)
    return options


def _route_fits(docs: _Documents, nonred: Mapping[str, int]) -> list[dict[CellId, int]]:
    """Every completion of the route table under the summary cells *nonred* (a route cell
    counts at most its summary cell, the total at most the summary's total)."""
    route, whole = docs.route, sum(nonred.values())
    totals = [route[TOTAL]] if route[TOTAL] is not None else list(range(1, whole + 1))
    listed = sorted(c for c in route if c != TOTAL)
    out: list[dict[CellId, int]] = []
    for total in totals:
        if total is None or total > whole:
            continue
        if docs.omitted:
            out.append({TOTAL: total})
            continue
        ranges = [
            [n] if (n := route[c]) is not None else list(range(1, nonred[c[1]] + 1)) for c in listed
        ]
        for values in itertools.product(*ranges):
            if sum(values) != total:
                continue
            if all(n <= nonred[c[1]] for c, n in zip(listed, values, strict=True)):
                out.append({TOTAL: total, **dict(zip(listed, values, strict=True))})
    return out


def _summary_options(docs: _Documents, digest: Mapping[str, int]) -> list[dict[str, int]]:
    """Every (stage → non-red count) under the digest cells consistent with the summary."""
    ranges = []
    for v in VALUES:
        shown = docs.summary.get((STAGE, v), 0)
        if (STAGE, v) not in docs.summary:
            ranges.append([0])
        elif shown is not None:
            ranges.append([shown] if shown <= digest[v] else [])
        else:
            ranges.append(list(range(1, digest[v] + 1)))
    return [
        dict(zip(VALUES, values, strict=True))
        for values in itertools.product(*ranges)
        if _fits(sum(values), docs.summary.get(TOTAL))
    ]


def _cycle_fits(docs: _Documents, digest: Mapping[str, int]) -> bool:
    if not _fits(sum(digest.values()), docs.cycle[TOTAL]):
        return False
    return all(
        digest[v] == 0 if (STAGE, v) not in docs.cycle else _fits(digest[v], docs.cycle[STAGE, v])
        for v in VALUES
    )


@dataclass
class _Seen:
    """What the reader can tell: each sender cell's values without and with the route
    table, and each suppressed route cell's values."""

    without: dict[str, set[int]]
    with_route: dict[str, set[int]]
    route: dict[CellId, set[int]]


def reader(docs: _Documents) -> _Seen:
    """An exact search over every history of the sender's cells (each month's stages,
    then the non-red part of each cycle cell) consistent with what the reader holds."""
    seen = _Seen({}, {}, {})
    options = [_month_options(docs.months[m]) for m in MONTHS]
    for months in itertools.product(*options):
        digest = {v: sum(m[v] for m in months) for v in VALUES}
        if not _cycle_fits(docs, digest):
            continue
        for nonred in _summary_options(docs, digest):
            cells = {
                **{f"{m}/{v}": mo[v] for m, mo in zip(MONTHS, months, strict=True) for v in VALUES},
                **{f"cycle/{v}": digest[v] for v in VALUES},
                **{f"summary/{v}": nonred[v] for v in VALUES},
                "summary/total": sum(nonred.values()),
            }
            fits = _route_fits(docs, nonred)
            for name, value in cells.items():
                seen.without.setdefault(name, set()).add(value)
                if fits:
                    seen.with_route.setdefault(name, set()).add(value)
            for completion in fits:
                for cell, value in completion.items():
                    if docs.route.get(cell, 0) is None:
                        seen.route.setdefault(cell, set()).add(value)
    return seen


def _documents(cases: list[_Case], sender: SenderCells | None = None) -> _Documents:
    tallies = _tallies(cases, red=True)
    nonred = _tallies(cases, red=False).get("CSP12", {})
    pattern = digest_pattern(tallies, k=2, start_month=9)
    view = sender_view("CSP12", pattern=pattern, tallies=tallies, nonred=nonred)
    routed = [RouteCase(c.who, "CSP12", ((STAGE, c.stage),)) for c in cases if c.routed]
    cells = route_cells(routed)
    protection = protect_route(cells, sender or view, k=2)
    table = build_route_table(AFR, EEG, "CSP12", cells, protection, k=2, issued_at=ISSUED)
    hidden = view.summary_suppressed()

    def shown(period: str) -> Shown:
        return {c: pattern.published(period, c, t) for c, t in tallies.get(period, {}).items()}

    route, omitted = _shown(table)
    if table.withheld:
        route, omitted = {TOTAL: None}, True
    return _Documents(
        months={m: shown(m) for m in MONTHS},
        cycle=shown("CSP12"),
        summary={c: None if c in hidden else t.count for c, t in nonred.items()},
        route=route,
        omitted=omitted,
    )


def _seeds() -> Iterator[tuple[int, list[_Case]]]:
    for seed in range(40):
        cases = _history(seed)
        if sum(c.routed for c in cases) >= 2:
            yield seed, cases


def test_a_reader_of_everything_the_sender_publishes_learns_nothing_from_the_table() -> None:
    published = 0
    for seed, cases in _seeds():
        docs = _documents(cases)
        seen = reader(docs)
        assert seen.with_route == seen.without, f"seed {seed}: the table bounds a sender cell"
        for cell, values in seen.route.items():
            assert len(values) > 1, f"seed {seed}: suppressed route cell {cell} pinned"
        published += docs.route[TOTAL] is not None
    assert published >= 10, "the tables publish their totals"


class _NoRed:
    """The floor without taking the TLP:RED cases off: a reader's bound on the summary
    cell is mistaken for one on the digest cell."""

    def __init__(self, view: SenderCells) -> None:
        self.view = view

    def caps(self, cells: list[CellId]) -> dict[CellId, int]:
        hidden = self.view.summary_suppressed()
        out = {}
        for cell in cells:
            nonred = self.view.nonred.get(cell)
            if nonred is not None and cell not in hidden:
                out[cell] = nonred.count
            else:
                published = self.view.digest.get(cell)
                out[cell] = max(
                    1, published if published is not None else self.view.floors.get(cell, 0)
                )
        return out


def test_a_floor_that_forgets_the_red_cases_gives_a_summary_cell_away() -> None:
    """The same reader has teeth: with the naive floor some history's route table bounds
    a summary cell its own rules hide."""
    leaks = 0
    for _seed, cases in _seeds():
        tallies = _tallies(cases, red=True)
        nonred = _tallies(cases, red=False).get("CSP12", {})
        pattern = digest_pattern(tallies, k=2, start_month=9)
        view = sender_view("CSP12", pattern=pattern, tallies=tallies, nonred=nonred)
        docs = _documents(cases, cast("SenderCells", _NoRed(view)))
        seen = reader(docs)
        leaks += seen.with_route != seen.without
    assert leaks > 0


def test_a_total_is_kept_by_leaving_out_a_dimension_that_publishes_nothing() -> None:
    """Three cases from three States at three stages: every stage cell has one
    contributor, so listing them would pin each at one case unless the total went too.
    The stages are left out instead (not listed, not recorded, said in a note)."""
    cases = [
        RouteCase(f"p{i}", "CSP12", (CASE, (STAGE, stage)))
        for i, stage in enumerate(("in_transit", "at_import", "stockpile"))
    ]
    cells = route_cells(cases)
    wide = {c: Tally(40, 9, ("CSP12",)) for c in cells}
    sender = SenderCells(digest=dict.fromkeys(cells, 40), nonred=wide)
    protection = protect_route(cells, sender, k=2)
    assert protection.omitted == {STAGE}
    table = build_route_table(AFR, EEG, "CSP12", cells, protection, k=2, issued_at=ISSUED)
    assert table.totals.cases == 3
    assert Dimension.TRANSFER_STAGE not in table.dimensions
    assert {c.value: c.count for c in table.dimensions[Dimension.KIND]} == {"case": 3}
    assert any(note.startswith("Not shown: transfer_stage.") for note in table.notes)
    assert listed_cells(cells, protection) == {TOTAL: 3, CASE: 3}

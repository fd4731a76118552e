"""Regional trend digests against an independent recomputation from the stored cases."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_reporting_support import (
    TOTAL,
    History,
    expected_cells,
    make_facts,
    quarter_of,
)

from dief.catalogue import load_catalogue
from dief.periods import parse_period
from dief.reporting import build_digest, checklist_window, previous_period
from dief.shapes import Digest, Lesson, Trend
from dief.storage import CaseStore, sqlite_url
from dief.vocab import Dimension

MONTHS = ("2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10")
CATALOGUE = load_catalogue()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        yield s


def _cells(digest: Digest) -> dict[tuple[str, str], object]:
    return {(d.value, c.value): c for d, cells in digest.dimensions.items() for c in cells}


def _check_against_recomputation(digest: Digest, cases: list, k: int) -> None:  # type: ignore[type-arg]
    period = digest.period
    exp = expected_cells(cases, [period])
    before = previous_period(parse_period(period))
    exp_prev = expected_cells(cases, [str(before)]) if before is not None else {}
    total = exp.get(TOTAL)
    # totals
    if total is None:
        assert digest.totals.cases == 0
    elif total.contributors < k:
        assert digest.totals.withheld
        assert digest.totals.cases is None
        assert digest.totals.contributors is None
    else:
        assert (digest.totals.cases, digest.totals.contributors) == (
            total.count,
            total.contributors,
        )
    published_total = total.count if total is not None and total.contributors >= k else None
    # every dimension value with data is listed, nothing else
    cells = _cells(digest)
    assert set(cells) == {pair for pair in exp if pair != TOTAL}
    suppressed = 0
    for pair, cell in cells.items():
        want = exp[pair]
        if want.contributors < k:
            suppressed += 1
            assert cell.suppressed  # type: ignore[attr-defined]
            for name in ("count", "contributors", "share", "previous", "change", "trend"):
                assert getattr(cell, name) is None, (pair, name)
            continue
        assert not cell.suppressed  # type: ignore[attr-defined]
        assert cell.count == want.count  # type: ignore[attr-defined]
        assert cell.contributors == want.contributors  # type: ignore[attr-defined]
        if published_total is not None:
            assert cell.share == round(want.count / published_total, 4)  # type: ignore[attr-defined]
        prev = exp_prev.get(pair)
        if prev is None:
            assert cell.previous == 0  # type: ignore[attr-defined]
        elif prev.contributors < k:
            assert cell.previous is None  # type: ignore[attr-defined]
            assert cell.change is None  # type: ignore[attr-defined]
            assert cell.trend is None  # type: ignore[attr-defined]
        else:
            assert cell.previous == prev.count  # type: ignore[attr-defined]
            assert cell.change == want.count - prev.count  # type: ignore[attr-defined]
    assert digest.totals.suppressed == suppressed == digest.notes.suppressed_cells
    # checklist over the trailing four quarters
    window, _prior = checklist_window(parse_period(period))
    exp_window = expected_cells(cases, [str(q) for q in window])
    indicators = {p[1]: e for p, e in exp_window.items() if p[0] == "risk_indicator"}
    assert {e.id for e in digest.checklist} == set(indicators)
    window_total = exp_window.get(TOTAL)
    seen_hidden = False
    for entry in digest.checklist:
        want = indicators[entry.id]
        if want.contributors < k or window_total is None or window_total.contributors < k:
            assert entry.suppressed
            assert entry.count is None
            assert entry.prevalence is None
            seen_hidden = True
        else:
            assert not seen_hidden, "suppressed entries rank last"
            assert entry.count == want.count
            assert window_total is not None
            assert entry.prevalence == round(want.count / window_total.count, 4)
            assert entry.question == CATALOGUE[entry.id].question
    prevalences = [e.prevalence for e in digest.checklist if not e.suppressed]
    assert prevalences == sorted(prevalences, reverse=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_digest_equals_independent_recomputation(store: CaseStore, seed: int) -> None:
    rng = random.Random(seed)
    history = History("AFR", rng, MONTHS, nodes=4)
    for _ in range(6):
        await store.apply_batch("AFR", history.batch(rng.randint(20, 60)))
    cases = await store.stored_cases("AFR")
    assert any(c.status == "withdrawn" for c in cases)
    assert any(c.revision > 1 for c in cases)
    periods = await store.periods_with_data("AFR")
    assert "2026-Q3" in periods
    for k in (1, 2, 3):
        for period in periods:
            digest = await build_digest(store, "AFR", period, k=k, catalogue=CATALOGUE)
            _check_against_recomputation(digest, cases, k)


async def test_quarter_spanning_two_cycles_never_overstates_contributors(
    store: CaseStore,
) -> None:
    # One node reports in August (CSP12) and in September (CSP13): two pseudonyms, one
    # State. Q3 must not count them as two contributors.
    values = (("kind", "case"), ("method", "ant_trade"))
    await store.apply_batch(
        "AFR",
        [
            make_facts(region="AFR", month="2026-08", node=7, values=values),
            make_facts(region="AFR", month="2026-09", node=7, values=values),
            make_facts(region="AFR", month="2026-09", node=7, values=values),
        ],
    )
    digest = await build_digest(store, "AFR", "2026-Q3", k=2, catalogue=CATALOGUE)
    assert digest.totals.withheld
    assert digest.totals.cases is None
    for cells in digest.dimensions.values():
        for cell in cells:
            assert cell.suppressed
            assert cell.count is None
    assert digest.notes.cycles == ["CSP12", "CSP13"]
    assert digest.notes.contributors_lower_bound
    assert any("lower bound" in line for line in digest.notes.text)
    # A second node in September only: the lower bound (max per cycle) reaches 2 in CSP13.
    await store.apply_batch(
        "AFR", [make_facts(region="AFR", month="2026-09", node=8, values=values)]
    )
    digest = await build_digest(store, "AFR", "2026-Q3", k=2, catalogue=CATALOGUE)
    assert (digest.totals.cases, digest.totals.contributors) == (4, 2)
    # Two different nodes, one per cycle, stay suppressed: the lower bound is 1.
    await store.apply_batch(
        "APG",
        [
            make_facts(region="APG", month="2026-08", node=1, values=values),
            make_facts(region="APG", month="2026-09", node=2, values=values),
        ],
    )
    digest = await build_digest(store, "APG", "2026-Q3", k=2, catalogue=CATALOGUE)
    assert digest.totals.withheld


async def test_trend_flags_on_a_constructed_series(store: CaseStore) -> None:
    facts = []
    # May: 2 contributors; June: rising method, falling item, new transport mode
    for i in range(12):
        facts.append(
            make_facts(
                region="EEG",
                month="2026-05",
                node=i % 2,
                values=(("kind", "case"), ("item_category", "ammunition"), ("method", "other")),
            )
        )
    for i in range(30):
        values = [("kind", "case"), ("method", "ant_trade"), ("transport_mode", "sea")]
        if i < 2:
            values.append(("item_category", "ammunition"))
        if i < 5:
            values.append(("method", "other"))
        facts.append(make_facts(region="EEG", month="2026-06", node=i % 3, values=values))
    for i in range(3):
        facts.append(
            make_facts(region="EEG", month="2026-05", node=i % 2, values=(("method", "ant_trade"),))
        )
    await store.apply_batch("EEG", facts)
    digest = await build_digest(store, "EEG", "2026-06", k=2, catalogue=CATALOGUE)
    cells = _cells(digest)
    assert cells[("method", "ant_trade")].trend is Trend.RISING  # type: ignore[attr-defined]
    assert cells[("method", "ant_trade")].previous == 3  # type: ignore[attr-defined]
    assert cells[("item_category", "ammunition")].trend is Trend.FALLING  # type: ignore[attr-defined]
    assert cells[("transport_mode", "sea")].trend is Trend.NEW  # type: ignore[attr-defined]
    assert cells[("method", "other")].trend is Trend.STABLE  # type: ignore[attr-defined]
    assert digest.totals.trend is Trend.RISING
    assert digest.notes.trend_test is not None
    assert digest.notes.trend_test.alpha == 0.05
    assert digest.notes.trend_test.min_count == 5


async def test_red_counts_in_digest_and_dead_letters_in_notes(store: CaseStore) -> None:
    values = (("kind", "alert"),)
    await store.apply_batch(
        "GRULAC",
        [
            make_facts(region="GRULAC", month="2026-05", node=n, values=values, tlp="red")
            for n in range(3)
        ],
        dead=[(None, "malformed"), ("rec-1", "authentication_failed"), (None, "malformed")],
    )
    digest = await build_digest(store, "GRULAC", "2026-05", k=2, catalogue=CATALOGUE)
    assert digest.totals.cases == 3
    assert digest.notes.dead_letters == {"authentication_failed": 1, "malformed": 2}
    assert digest.notes.dead_lettered == 3
    assert digest.notes.k == 2


async def test_empty_period_and_lessons(store: CaseStore) -> None:
    lessons = [
        Lesson(text="Verify the route.", tlp="amber", stage="in_transit"),
        Lesson(text="Secret.", tlp="red", stage="in_transit"),
        Lesson(text="Strict.", tlp="amber_strict", stage="stockpile"),
        Lesson(text="Check the certificate.", tlp="green", stage="pre_transfer"),
        Lesson(text="No stage.", tlp="clear"),
    ]
    digest = await build_digest(store, "WEOG", "CSP12", k=2, catalogue=CATALOGUE, lessons=lessons)
    assert digest.totals.cases == 0
    assert all(cells == [] for cells in digest.dimensions.values())
    assert set(digest.dimensions) == set(Dimension)
    assert [lesson.text for lesson in digest.lessons] == [
        "Check the certificate.",
        "Verify the route.",
        "No stage.",
    ]
    # a cycle's window ends at the quarter of its last month (2026-08 → 2026-Q3)
    assert digest.notes.checklist_window == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]


def test_checklist_window_and_previous_period() -> None:
    window, prior = checklist_window(parse_period("2026-05"))
    assert [str(q) for q in window] == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    assert [str(q) for q in prior] == ["2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2"]
    assert str(previous_period(parse_period("CSP12"))) == "CSP11"
    assert previous_period(parse_period("CSP1")) is None
    assert str(previous_period(parse_period("2026-01"))) == "2025-12"
    assert quarter_of("2026-07") == "2026-Q3"


async def test_digest_reads_cells_not_cases(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.apply_batch(
        "AFR", [make_facts(region="AFR", month="2026-05", node=n) for n in range(4)]
    )

    async def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a digest must not scan the cases")

    monkeypatch.setattr(store, "stored_cases", forbidden)
    monkeypatch.setattr(store, "sealed_cases", forbidden)
    calls: list[tuple[str, ...]] = []
    original = store.cell_rows

    async def counting(region: str, periods: list[str], **kw: bool) -> list:  # type: ignore[type-arg]
        calls.append(tuple(periods))
        return await original(region, periods, **kw)

    monkeypatch.setattr(store, "cell_rows", counting)
    await build_digest(store, "AFR", "2026-05", k=2, catalogue=CATALOGUE)
    assert len(calls) == 1
    assert len(calls[0]) <= 10

"""Regional trend digests against an independent recomputation from the stored cases."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

import pytest

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.digests import build_digest, checklist_window, previous_period, withheld_dimensions
from dief.disclosure import MONTH_DIMENSIONS, months_by_total
from dief.disclosure import _withheld as _withholding
from dief.periods import Month, is_cycle, parse_period
from dief.vocab import Dimension
from dief.wire import Cell, Digest, Lesson, Trend
from tests.unit.reporting_support import (
    TOTAL,
    History,
    expected_cells,
    make_facts,
    quarter_of,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

MONTHS = ("2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10")
CATALOGUE = load_catalogue()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        yield s


def _cells(digest: Digest) -> dict[tuple[str, str], Cell]:
    return {(d.value, c.value): c for d, cells in digest.dimensions.items() for c in cells}


def _withheld(exp: dict[tuple[str, str], Any], k: int) -> set[Dimension]:
    """The dimensions of a period's expected cells whose every value is below *k*."""
    values: dict[str, list[int]] = {}
    for pair, tally in exp.items():
        if pair != TOTAL:
            values.setdefault(pair[0], []).append(tally.contributors)
    return {Dimension(d) for d, seen in values.items() if max(seen) < k}


def _published(digest: Digest | None, pair: tuple[str, str]) -> int | None:
    """What *digest* publishes for a cell: 0 when not listed (or no digest: no data)."""
    if digest is None:
        return 0
    if pair == TOTAL:
        return digest.totals.cases
    cell = _cells(digest).get(pair)
    if cell is None:
        return 0
    return cell.count


def _check_against_recomputation(  # noqa: C901, PLR0912  one walk of a digest against its recomputation: totals, cells, checklist, in order
    digest: Digest,
    cases: list[Any],
    k: int,
    digests: dict[str, Digest],
    *,
    coarse: bool = False,
) -> None:
    """*digest* against the stored cases, and its previous counts against the digest of the
    previous period (*digests*: every digest of the region, built together). *coarse*: a
    month published by total (the default tables with summary rows): its total and
    ``kind`` only (docs/digests.md, "Tables designed for the data").

    Secondary suppression (the region's joint pattern) may hide a cell that has k or more
    contributors: such a cell is counted, and the count must be the one the notes give;
    every published value must be the true one.
    """
    period = digest.period
    exp = expected_cells(cases, [period])
    before = previous_period(parse_period(period))
    exp_prev = expected_cells(cases, [str(before)]) if before is not None else {}
    earlier = digests.get(str(before)) if before is not None else None
    if before is not None and exp_prev:
        assert earlier is not None, "the previous period has data, so it has a digest"
    total = exp.get(TOTAL)
    # totals
    if total is None:
        assert digest.totals.cases == 0
    elif total.contributors < k:
        assert digest.totals.withheld
        assert digest.totals.cases is None
        assert digest.totals.contributors is None
        assert not digest.notes.totals_secondary
    elif digest.totals.withheld:
        assert digest.notes.totals_secondary  # withheld although k contributors: secondary
        assert (digest.totals.cases, digest.totals.contributors) == (None, None)
    else:
        assert not digest.notes.totals_secondary
        assert (digest.totals.cases, digest.totals.contributors) == (
            total.count,
            total.contributors,
        )
        # the previous total is what the previous period's digest publishes
        assert digest.totals.previous == _published(earlier, TOTAL)
    published_total = digest.totals.cases
    few = total is not None and total.contributors < k
    few_before = (prev_total := exp_prev.get(TOTAL)) is not None and prev_total.contributors < k
    # every dimension value with data is listed, nothing else; nothing with fewer than k
    # contributors in the period (a listed value would tell what their cases report)
    cells = _cells(digest)
    # with withholding on (opt-in), a dimension whose every value has fewer than k
    # contributors is withheld: no value listed, the notes name it (dief.digests._withheld;
    # these digests have no earlier issue)
    shown = {p: e for p, e in exp.items() if not coarse or p[0] in MONTH_DIMENSIONS}
    withheld = set() if few or not _withholding.WITHHOLD_BY_DEFAULT else _withheld(shown, k)
    assert withheld_dimensions(digest) == withheld
    assert not withheld & set(digest.dimensions)
    assert set(cells) == (
        set() if few else {p for p in shown if p != TOTAL and Dimension(p[0]) not in withheld}
    )
    assert not few or digest.dimensions == {}
    primary = secondary = 0
    for pair, cell in cells.items():
        want = exp[pair]
        if cell.suppressed:
            if want.contributors < k:
                primary += 1
            else:
                secondary += 1
            for name in ("count", "contributors", "share", "previous", "change", "trend"):
                assert getattr(cell, name) is None, (pair, name)
            continue
        assert want.contributors >= k, "a cell below k is always suppressed"
        assert cell.count == want.count
        assert cell.contributors == want.contributors
        if published_total is not None:
            assert cell.share == round(want.count / published_total, 4)
        else:
            assert cell.share is None
        prev = exp_prev.get(pair)
        # nothing is compared with a period of fewer than k contributors (0 or hidden
        # would tell whether their cases have the value)
        gone = earlier is not None and Dimension(pair[0]) in withheld_dimensions(earlier)
        shown_before = None if few_before or gone else _published(earlier, pair)
        assert cell.previous == shown_before
        if few_before or gone:
            assert cell.change is None
            assert cell.trend is None
        elif prev is None:
            assert cell.previous == 0
        elif shown_before is None:
            # below k in the previous period, or hidden there by its secondary suppression
            assert cell.change is None
            assert cell.trend is None
        else:
            assert prev.contributors >= k
            assert cell.previous == prev.count
            assert cell.change == want.count - prev.count
    assert digest.totals.suppressed == primary + secondary == digest.notes.suppressed_cells
    assert digest.notes.primary_suppressed == primary
    assert digest.notes.secondary_suppressed == secondary
    if k == 1:  # nothing below k: nothing to protect, everything published
        assert secondary == 0
        assert not digest.totals.withheld
    # checklist over the trailing four quarters
    window, _prior = checklist_window(parse_period(period))
    exp_window = expected_cells(cases, [str(q) for q in window])
    indicators = {p[1]: e for p, e in exp_window.items() if p[0] == "risk_indicator"}
    # the window's contributors: the largest count of one quarter (a lower bound)
    quarters = [expected_cells(cases, [str(q)]).get(TOTAL) for q in window]
    few_window = TOTAL in exp_window and max(q.contributors for q in quarters if q) < k
    assert {e.id for e in digest.checklist} == (set() if few_window else set(indicators))
    assert digest.notes.checklist_window == ([] if few_window else [str(q) for q in window])
    window_total = exp_window.get(TOTAL)
    seen_hidden = False
    for entry in digest.checklist:
        want = indicators[entry.id]
        if entry.suppressed:
            assert entry.count is None
            assert entry.prevalence is None
            assert entry.trend is None
            seen_hidden = True
            continue
        assert not seen_hidden, "suppressed entries rank last"
        assert want.contributors >= k
        assert window_total is not None
        assert window_total.contributors >= k
        assert entry.count == want.count
        if entry.prevalence is not None:  # null where the window's total is hidden
            assert entry.prevalence == round(want.count / window_total.count, 4)
        assert entry.question == CATALOGUE[entry.id].question
    if k == 1:
        assert not seen_hidden
        assert all(e.prevalence is not None for e in digest.checklist)
    prevalences = [e.prevalence or 0.0 for e in digest.checklist if not e.suppressed]
    assert prevalences == sorted(prevalences, reverse=True)


@pytest.mark.slow
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
    secondary = 0
    for k in (1, 2, 3):
        # k = 1 alone: nothing below k in the digests, and their summary rows left out
        # (with them, the rows' cells below k_csp are protected in the digests too)
        k_csp = None if k == 1 else 3
        digests = {
            period: await build_digest(store, "AFR", period, k=k, catalogue=CATALOGUE, k_csp=k_csp)
            for period in periods
        }
        for digest in digests.values():
            coarse = (
                k_csp is not None
                and months_by_total(None)
                and isinstance(parse_period(digest.period), Month)
            )
            _check_against_recomputation(digest, cases, k, digests, coarse=coarse)
            secondary += digest.notes.secondary_suppressed
    assert secondary > 0  # the data needs secondary suppression (see the attacker tests)


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
    # May: 2 contributors; June: rising method, falling item, new transport mode
    facts = [
        make_facts(
            region="EEG",
            month="2026-05",
            node=i % 2,
            values=(("kind", "case"), ("item_category", "ammunition"), ("method", "other")),
        )
        for i in range(12)
    ]
    for i in range(30):
        values = [("kind", "case"), ("method", "ant_trade"), ("transport_mode", "sea")]
        if i < 2:
            values.append(("item_category", "ammunition"))
        if i < 5:
            values.append(("method", "other"))
        facts.append(make_facts(region="EEG", month="2026-06", node=i % 3, values=values))
    facts.extend(
        make_facts(region="EEG", month="2026-05", node=i % 2, values=(("method", "ant_trade"),))
        for i in range(3)
    )
    await store.apply_batch("EEG", facts)
    # the digests alone: every value here has two or three contributors, so with the
    # summary rows (k_csp = 3) most cells would be protected for the summary's sake
    digest = await build_digest(store, "EEG", "2026-06", k=2, catalogue=CATALOGUE, k_csp=None)
    cells = _cells(digest)
    assert cells["method", "ant_trade"].trend is Trend.RISING
    assert cells["method", "ant_trade"].previous == 3
    assert cells["item_category", "ammunition"].trend is Trend.FALLING
    assert cells["transport_mode", "sea"].trend is Trend.NEW
    assert cells["method", "other"].trend is Trend.STABLE
    assert digest.totals.trend is Trend.RISING
    assert digest.notes.trend_test is not None
    assert digest.notes.trend_test.alpha == pytest.approx(0.05)
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

    async def counting(region: str, periods: list[str], **kw: bool) -> list[Any]:
        calls.append(tuple(periods))
        return await original(region, periods, **kw)

    monkeypatch.setattr(store, "cell_rows", counting)
    await build_digest(store, "AFR", "2026-05", k=2, catalogue=CATALOGUE)
    # one read of every period of the region with data: the suppression pattern is joint
    # across the region's digests (a digest alone would be open to its quarter minus the
    # other months), and one of its cycles without TLP:RED (its rows of the CSP summaries,
    # protected with the digests), so the reads are O(cells of the region), never the cases
    assert len(calls) == 2
    assert sorted(calls[0]) == sorted(await store.periods_with_data("AFR"))
    # (whole cycles: a half-cycle CSP12-H1 has no summary row)
    assert sorted(calls[1]) == sorted(p for p in calls[0] if is_cycle(p))

"""CSP summaries: numbers, TLP:RED exclusion, and an attacker who knows how tables add up."""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.disclosure import SINGLE_VALUED
from dief.secretariat import build_summary
from dief.vocab import Dimension, Region
from dief.wire import CspSummary, RegionTable
from tests.unit.reporting_support import (
    TOTAL,
    Expected,
    History,
    cycle_of,
    expected_cells,
    make_facts,
    quarter_of,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

CATALOGUE = load_catalogue()
REGIONS = ("AFR", "APG", "EEG", "GRULAC")
CSP11_12 = (
    "2025-03", "2025-05", "2025-07", "2025-08",  # CSP11
    "2025-09", "2025-11", "2026-01", "2026-03", "2026-05", "2026-07", "2026-08",  # CSP12
)  # fmt: skip


def test_support_period_helpers() -> None:
    assert quarter_of("2026-09") == "2026-Q3"
    assert cycle_of("2026-09") == "CSP13"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        yield s


async def _fill(store: CaseStore, seed: int, *, nodes: int = 5, batches: int = 3) -> None:
    rng = random.Random(seed)
    for region in REGIONS:
        history = History(region, rng, CSP11_12, nodes=nodes, red_share=0.2)
        for _ in range(batches):
            await store.apply_batch(region, history.batch(rng.randint(25, 45)))
    # TLP:RED only: an indicator no other case cites, from plenty of contributors
    for region in ("AFR", "APG"):
        await store.apply_batch(
            region,
            [
                make_facts(
                    region=region,
                    month="2026-02",
                    node=n,
                    values=(("kind", "case"), ("risk_indicator", "CTX-01")),
                    tlp="red",
                )
                for n in range(6)
            ],
        )


def _tables(summary: CspSummary) -> dict[str, RegionTable]:
    return {**{r.value: t for r, t in summary.regions.items()}, "_global": summary.global_}


async def _expected(store: CaseStore) -> dict[str, dict[tuple[str, str], Expected]]:
    return {
        r: expected_cells(await store.stored_cases(r), ["CSP12"], include_red=False)
        for r in REGIONS
    }


@pytest.mark.parametrize(("seed", "k"), [(11, 3), (12, 3), (13, 2), (14, 4)])
async def test_summary_numbers_match_recomputation(store: CaseStore, seed: int, k: int) -> None:
    await _fill(store, seed)
    summary = await build_summary(store, "CSP12", k=k, catalogue=CATALOGUE, regions=REGIONS)
    assert (summary.from_, summary.to, summary.k) == ("2025-09", "2026-08", k)
    assert summary.signature is None
    expected = await _expected(store)
    # the global cell: counts add up over regions, contributors are the max (lower bound)
    glob: dict[tuple[str, str], Expected] = {}
    for cells in expected.values():
        for pair, e in cells.items():
            old = glob.get(pair, Expected(0, 0))
            glob[pair] = Expected(old.count + e.count, max(old.contributors, e.contributors))
    expected["_global"] = glob
    primary = suppressed = 0
    for name, table in _tables(summary).items():
        exp = expected[name]
        total = exp.get(TOTAL)
        if total is None:
            assert table.totals.cases == 0
        else:
            primary += total.contributors < k
            if table.totals.withheld:
                suppressed += 1
                assert table.totals.cases is None
                assert table.totals.contributors is None
            else:
                assert total.contributors >= k
                assert (table.totals.cases, table.totals.contributors) == (
                    total.count,
                    total.contributors,
                )
        listed = {(d.value, c.value): c for d, cells in table.dimensions.items() for c in cells}
        assert set(listed) == {p for p in exp if p != TOTAL}
        for pair, cell in listed.items():
            want = exp[pair]
            primary += want.contributors < k
            if cell.suppressed:
                suppressed += 1
                assert cell.count is None
                assert cell.contributors is None
                assert cell.share is None
                continue
            assert want.contributors >= k, f"{name} {pair} published below k"
            assert (cell.count, cell.contributors) == (want.count, want.contributors)
            if table.totals.cases:
                assert cell.share == round(want.count / table.totals.cases, 4)
            else:
                assert cell.share is None
    method = summary.methodology
    assert (method.primary, method.suppressed) == (primary, suppressed)
    assert method.secondary == suppressed - primary
    assert method.k == k


async def test_red_cases_never_enter_the_summary(store: CaseStore) -> None:
    await _fill(store, 21)
    summary = await build_summary(store, "CSP12", k=3, catalogue=CATALOGUE, regions=REGIONS)
    text = summary.to_json()
    assert "CTX-01" not in text
    for table in _tables(summary).values():
        assert "CTX-01" not in {c.value for c in table.dimensions[Dimension.RISK_INDICATOR]}
    assert all(e.id != "CTX-01" for e in summary.checklist)
    # the totals are those of the non-red cases
    expected = await _expected(store)
    afr = summary.regions[Region.AFR].totals
    if not afr.withheld:
        assert afr.cases == expected["AFR"][TOTAL].count
    assert summary.methodology.model_extra is not None
    assert summary.methodology.model_extra["red_excluded"] is True


def _groups_from_published(summary: CspSummary) -> list[tuple[str, list[str]]]:
    """The additive structure an attacker knows, in terms of cell names."""
    tables = _tables(summary)
    groups: list[tuple[str, list[str]]] = []
    for name, table in tables.items():
        for dim in SINGLE_VALUED:
            members = [f"{name}/{dim.value}/{c.value}" for c in table.dimensions[dim]]
            if members:
                groups.append((f"{name}/_total", members))
    for dim, cells in summary.global_.dimensions.items():
        for cell in cells:
            members = [
                f"{r}/{dim.value}/{cell.value}"
                for r, t in tables.items()
                if r != "_global" and any(c.value == cell.value for c in t.dimensions[dim])
            ]
            groups.append((f"_global/{dim.value}/{cell.value}", members))
    groups.append(
        (
            "_global/_total",
            [
                f"{r}/_total"
                for r, t in tables.items()
                if r != "_global" and (t.totals.cases is None or t.totals.cases > 0)
            ],
        )
    )
    return groups


def _published_cells(summary: CspSummary) -> tuple[dict[str, int], set[str]]:
    """The summary's published cells (key → count) and its suppressed ones."""
    known: dict[str, int] = {}
    hidden: set[str] = set()
    for name, table in _tables(summary).items():
        if table.totals.cases is None:
            hidden.add(f"{name}/_total")
        else:
            known[f"{name}/_total"] = table.totals.cases
        for dim, cells in table.dimensions.items():
            for cell in cells:
                key = f"{name}/{dim.value}/{cell.value}"
                if cell.count is None:
                    hidden.add(key)
                else:
                    known[key] = cell.count
    return known, hidden


def _by_difference(
    marginal: str, members: list[str], known: dict[str, int], hidden: set[str]
) -> set[str]:
    """The hidden cells of one group a reader computes from its published cells alone."""
    recovered: set[str] = set()
    hidden_members = [m for m in members if m in hidden]
    if marginal in known and hidden_members:
        rest = known[marginal] - sum(known[m] for m in members if m in known)
        if len(hidden_members) == 1 or rest == len(hidden_members):
            recovered.update(hidden_members)
    if marginal in hidden and not hidden_members:
        recovered.add(marginal)
    return recovered


def _by_rank(matrix: np.ndarray, index: dict[str, int]) -> set[str]:
    """The unknowns the equations (*matrix*, one column per unknown) determine."""
    rank = np.linalg.matrix_rank(matrix)
    recovered: set[str] = set()
    for key, i in index.items():
        unit = np.zeros(len(index))
        unit[i] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            recovered.add(key)
    return recovered


def _attack(summary: CspSummary) -> set[str]:
    """Every suppressed cell an attacker can compute exactly from the published summary."""
    known, hidden = _published_cells(summary)
    unknown = sorted(hidden)
    index = {key: i for i, key in enumerate(unknown)}
    rows: list[np.ndarray] = []
    recovered: set[str] = set()
    for marginal, members in _groups_from_published(summary):
        row = np.zeros(len(unknown))
        for m in members:
            if m in index:
                row[index[m]] += 1
        if marginal in index:
            row[index[marginal]] -= 1
        if row.any():
            rows.append(row)
        recovered |= _by_difference(marginal, members, known, hidden)
    if rows and unknown:
        recovered |= _by_rank(np.array(rows), index)
    return recovered


@pytest.mark.parametrize(
    ("seed", "k", "nodes"),
    [
        (31, 3, 5),
        pytest.param(32, 3, 4, marks=pytest.mark.slow),
        pytest.param(33, 4, 6, marks=pytest.mark.slow),
        (34, 3, 8),
    ],
)
async def test_no_suppressed_cell_is_recoverable(
    store: CaseStore, seed: int, k: int, nodes: int
) -> None:
    await _fill(store, seed, nodes=nodes)
    summary = await build_summary(store, "CSP12", k=k, catalogue=CATALOGUE, regions=REGIONS)
    assert summary.methodology.primary > 0, "the data must exercise suppression"
    assert _attack(summary) == set()


@pytest.mark.slow
async def test_attacker_finds_leaks_without_secondary_suppression(store: CaseStore) -> None:
    """The attacker is real: with only primary suppression it recovers cells."""
    await _fill(store, 35)
    summary = await build_summary(store, "CSP12", k=3, catalogue=CATALOGUE, regions=REGIONS)
    assert summary.methodology.secondary > 0
    expected = await _expected(store)
    glob: dict[tuple[str, str], Expected] = {}
    for cells in expected.values():
        for pair, e in cells.items():
            old = glob.get(pair, Expected(0, 0))
            glob[pair] = Expected(old.count + e.count, max(old.contributors, e.contributors))
    expected["_global"] = glob
    data = summary.model_dump(by_alias=True)
    tables = {**{r.value: t for r, t in data["regions"].items()}, "_global": data["global"]}
    for name, table in tables.items():  # undo every secondary suppression
        total = expected[name].get(TOTAL)
        if table["totals"]["cases"] is None and total is not None and total.contributors >= 3:
            table["totals"].update(cases=total.count, contributors=total.contributors)
            table["totals"]["withheld"] = False
        for dim, cells in table["dimensions"].items():
            for cell in cells:
                want = expected[name][dim, cell["value"]]
                if cell["suppressed"] and want.contributors >= 3:
                    cell.update(count=want.count, contributors=want.contributors, suppressed=False)
    assert _attack(CspSummary.model_validate(data))
    # and a hand-made leak is found
    data = summary.model_dump(by_alias=True)
    data["regions"][Region.AFR]["totals"] = {"cases": 10, "contributors": 5, "suppressed": 1}
    data["regions"][Region.AFR]["dimensions"]["kind"] = [
        {"value": "case", "count": 7, "contributors": 4},
        {"value": "alert", "count": None, "contributors": None, "suppressed": True},
    ]
    assert "AFR/kind/alert" in _attack(CspSummary.model_validate(data))


async def test_patterns_need_two_published_rising_regions(store: CaseStore) -> None:
    facts: dict[str, list[Any]] = {r: [] for r in REGIONS}
    for region in ("AFR", "APG", "EEG"):
        rising = region != "EEG"
        for i in range(4):  # CSP11: a few
            facts[region].append(
                make_facts(
                    region=region, month="2025-05", node=i, values=(("method", "ant_trade"),)
                )
            )
        for i in range(24 if rising else 5):  # CSP12: many in AFR and APG only
            facts[region].append(
                make_facts(
                    region=region, month="2026-05", node=i % 4, values=(("method", "ant_trade"),)
                )
            )
    for region, batch in facts.items():
        if batch:
            await store.apply_batch(region, batch)
    summary = await build_summary(store, "CSP12", k=3, catalogue=CATALOGUE, regions=REGIONS)
    found = {(p.dimension.value, p.value): [r.value for r in p.regions] for p in summary.patterns}
    assert found["method", "ant_trade"] == ["AFR", "APG"]
    assert summary.patterns[0].previous_cycle == "CSP11"
    assert any("ant trade" in paragraph for paragraph in summary.narrative)


async def test_narrative_states_only_published_numbers(store: CaseStore) -> None:
    await _fill(store, 41)
    summary = await build_summary(store, "CSP12", k=3, catalogue=CATALOGUE, regions=REGIONS)
    method = summary.methodology
    # the years of the cycle, k and the suppression counts
    allowed = {2025, 2026, method.suppressed, method.primary, method.secondary, method.k}
    allowed.add(method.kept_for_stability)
    for table in _tables(summary).values():
        for value in (table.totals.cases, table.totals.contributors):
            if value is not None:
                allowed.add(value)
        for cells in table.dimensions.values():
            for cell in cells:
                if cell.count is not None:
                    allowed.add(cell.count)
                if cell.share is not None:
                    allowed.add(round(cell.share * 100))
    allowed |= {round((e.prevalence or 0) * 100) for e in summary.checklist}
    text = " ".join(summary.narrative)
    numbers = {int(n) for n in re.findall(r"(?<![A-Z-])\b\d+\b", text)}  # not CSP12, EU-04
    assert numbers <= allowed
    again = await build_summary(store, "CSP12", k=3, catalogue=CATALOGUE, regions=REGIONS)
    assert again.narrative == summary.narrative


async def test_a_store_per_region_gives_the_same_summary(tmp_path: Path) -> None:
    rng = random.Random(51)
    stores = {r: CaseStore(sqlite_url(tmp_path / f"{r}.db")) for r in ("AFR", "APG")}
    shared = CaseStore(sqlite_url(tmp_path / "all.db"))
    for s in (*stores.values(), shared):
        await s.start()
    try:
        for region in ("AFR", "APG"):
            batch = History(region, rng, CSP11_12, nodes=5).batch(60)
            await stores[region].apply_batch(region, batch)
            await shared.apply_batch(region, batch)
        one = await build_summary(shared, "CSP12", catalogue=CATALOGUE, regions=["AFR", "APG"])
        many = await build_summary(stores, "CSP12", catalogue=CATALOGUE)
        assert one.to_json() == many.to_json()
        assert set(many.regions) == {Region.AFR, Region.APG}
    finally:
        for s in (*stores.values(), shared):
            await s.stop()

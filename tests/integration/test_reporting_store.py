"""Digests and summaries on real databases: SQLite and the session's PostgreSQL server.

Synthetic cases go through the real models (validate, generalise and sign as their node,
``case_values``) into ``CaseFacts``, each to its own region, and are applied with
``CaseStore.apply_batch`` to both databases. Every digest and summary must be identical on
both, and equal to a recomputation from the stored cases.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from dief.aggregator.store import CaseStore, StoredCase
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.digests import build_digest
from dief.periods import Month
from dief.render import dump_json, write_outputs
from dief.secretariat import build_summary
from dief.synthetic import generate_cases
from dief.vocab import Region
from tests.unit.record_helpers import signed_facts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator
    from contextlib import AbstractContextManager

    from dief.aggregator import CaseFacts

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.postgres]

CATALOGUE = load_catalogue()
TODAY = date(2026, 10, 15)
TOTAL = ("_total", "_all")


@pytest.fixture(scope="module")
def module_postgres_url(
    make_postgres_database: Callable[[], AbstractContextManager[str]],
) -> Iterator[str]:
    """A fresh database on the session's PostgreSQL server for this module."""
    with make_postgres_database() as url:
        yield url


def synthetic_batches(n: int, seed: int) -> dict[str, list[CaseFacts]]:
    """Region → facts in posting order, as the nodes would publish them (each to its own
    region only, records v2: the route regions learn of it by route tables)."""
    lines = generate_cases(n, seed=seed, indicator_ids=CATALOGUE.ids, today=TODAY)
    return signed_facts(lines, today=TODAY)


def _expected(cases: list[StoredCase], period: str) -> dict[tuple[str, str], tuple[int, int]]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    who: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for case in cases:
        quarter = f"{case.month[:4]}-Q{(int(case.month[5:]) - 1) // 3 + 1}"
        half = str(Month.parse(case.month).half())
        if case.status != "active" or period not in {case.month, quarter, half, case.cycle}:
            continue
        for pair in (TOTAL, *case.values):
            counts[pair] += 1
            who[pair][case.cycle].add(case.contributor)
    return {p: (n, max(len(s) for s in who[p].values())) for p, n in counts.items()}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stores(module_postgres_url: str) -> AsyncIterator[tuple[CaseStore, CaseStore]]:
    tmp = Path(tempfile.mkdtemp(prefix="dief-sqlite-"))
    lite = CaseStore(sqlite_url(tmp / "cases.db"))
    pg = CaseStore(module_postgres_url)
    await asyncio.gather(lite.start(), pg.start())
    batches = synthetic_batches(900, seed=17)
    for region, facts in batches.items():
        for start in range(0, len(facts), 200):
            chunk = facts[start : start + 200]
            await lite.apply_batch(region, chunk)
            await pg.apply_batch(region, chunk)
    try:
        yield lite, pg
    finally:
        await asyncio.gather(lite.stop(), pg.stop())
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.asyncio(loop_scope="module")
async def test_postgres_and_sqlite_agree_with_the_recomputation(
    stores: tuple[CaseStore, CaseStore],
) -> None:
    lite, pg = stores
    checked = 0
    for region in Region:
        periods = await lite.periods_with_data(region.value)
        assert periods == await pg.periods_with_data(region.value)
        assert periods, f"the synthetic set has cases in {region.value}"
        cases = await pg.stored_cases(region.value)
        for period in periods:
            one = await build_digest(lite, region, period, k=2, catalogue=CATALOGUE)
            two = await build_digest(pg, region, period, k=2, catalogue=CATALOGUE)
            assert dump_json(one) == dump_json(two)
            expected = _expected(cases, period)
            secondary = 0
            for dim, cells in two.dimensions.items():
                for cell in cells:
                    count, contributors = expected[dim.value, cell.value]
                    if contributors < 2:
                        assert cell.suppressed
                        assert cell.count is None
                    elif cell.suppressed:
                        # two contributors or more, hidden by the region's joint secondary
                        # suppression (so that no suppressed cell can be computed)
                        assert cell.count is None
                        secondary += 1
                    else:
                        assert (cell.count, cell.contributors) == (count, contributors)
            assert two.notes.secondary_suppressed == secondary
            checked += 1
    assert checked > 50
    for cycle in ("CSP12", "CSP13"):
        one_s = await build_summary(lite, cycle, k=3, catalogue=CATALOGUE)
        two_s = await build_summary(pg, cycle, k=3, catalogue=CATALOGUE)
        assert one_s.to_json() == two_s.to_json()


@pytest.mark.asyncio(loop_scope="module")
async def test_write_outputs_from_postgres(
    stores: tuple[CaseStore, CaseStore], tmp_path: Path
) -> None:
    _, pg = stores
    index = await write_outputs(
        tmp_path, pg, regions=list(Region), k_meeting=2, k_csp=3, catalogue=CATALOGUE
    )
    assert {o.period for o in index.summaries} >= {"CSP12", "CSP13"}
    summary = (tmp_path / "summary" / "CSP13.md").read_text(encoding="utf-8")
    assert summary.startswith("# DIEF summary for CSP13 (2026-09 to 2027-08)")
    assert all(p.is_file() for p in index.paths)
    # digests: .json .md .html .csv; summaries: .json .md .html .docx .csv
    assert len(index.paths) == 4 * len(index.digests) + 5 * len(index.summaries)

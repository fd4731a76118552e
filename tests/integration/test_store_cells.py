"""The incremental cell tables (``cell_counts``, ``cell_totals``) on SQLite and PostgreSQL.

Random histories of records (revisions out of order, withdrawals, red cases, forged owner
keys, redeliveries, cases with other regions on their route, contributors coming and going),
split into random batches, must leave exactly the cells of an independent model stated from
DESIGN §5/§7, and exactly what ``rebuild_cells`` computes from the stored cases afterwards.
Migrations 0004 and 0005 must turn a database filled at 0003 into the same cells and cases.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from alembic import command
from alembic.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

import dief.aggregator.store
from dief.aggregator import CaseFacts, CaseState, CellKey, cell_keys
from dief.aggregator.store import CaseStore
from dief.aggregator.store._store import migrate
from tests.integration._pipeline_helpers import DATABASE_KINDS, database_url

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable

pytestmark = pytest.mark.integration

MONTHS = ("2025-08", "2025-09", "2025-11", "2026-01", "2026-02")
OWNERS = ("1" * 32, "2" * 32)
WHO = ("a" * 32, "b" * 32, "c" * 32)
VALUES = (("method", "x"), ("method", "y"), ("kind", "case"), ("kind", "alert"))

Cells = dict[tuple[str, str, str, str], tuple[int, int]]


def _quarter(month: str) -> str:
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"


def _cycle(month: str) -> str:
    return "CSP12" if month >= "2025-09" else "CSP11"


def _half(month: str) -> str:
    """The half-cycle by the September start: September-February H1, March-August H2."""
    return _cycle(month) + ("-H1" if int(month[5:7]) in {9, 10, 11, 12, 1, 2} else "-H2")


PERIODS = sorted({p for m in MONTHS for p in (m, _quarter(m), _half(m), _cycle(m))})


def facts(
    region: str,
    *,
    record_id: str,
    case_id: str,
    revision: int,
    owner: str,
    who: str,
    status: str,
    month: str,
    tlp: str,
    related: bool,
    values: Iterable[tuple[str, str]],
) -> CaseFacts:
    return CaseFacts(
        record_id=record_id,
        case_id=case_id,
        revision=revision,
        region=region,
        status=status,
        contributor=who,
        owner_key=owner,
        month=month,
        cycle=_cycle(month),
        tlp=tlp,
        values=tuple(sorted(set(values))),
        sealed=b"{}",
        # A case goes to its own region only (records v2): the regions on its route are
        # in its row, never counted there.
        related_regions=("ZZZ",) if related else (),
    )


def model(history: Iterable[CaseFacts], *, include_red: bool) -> Cells:
    """Cells by the rules stated plainly: per case, the first record that got in sets the
    owner; the highest revision from that owner counts if active; a case counts once per
    distinct value in its month, quarter, half-cycle and cycle; contributors are distinct
    per cell."""
    owner: dict[str, str] = {}
    best: dict[str, CaseFacts] = {}
    seen: set[str] = set()
    for rec in history:
        if rec.record_id in seen:
            continue
        seen.add(rec.record_id)
        owner.setdefault(rec.case_id, rec.owner_key)
        if rec.owner_key == owner[rec.case_id] and (
            rec.case_id not in best or rec.revision > best[rec.case_id].revision
        ):
            best[rec.case_id] = rec
    count: dict[tuple[str, str, str, str], int] = defaultdict(int)
    who: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
    for rec in best.values():
        if rec.status != "active" or (rec.tlp == "red" and not include_red):
            continue
        for period in (rec.month, _quarter(rec.month), _half(rec.month), rec.cycle):
            for dim, value in {("_total", "_all"), *rec.values}:
                cell = (period, dim, value, rec.cycle)
                count[cell] += 1
                who[cell].add(rec.contributor)
    return {cell: (n, len(who[cell])) for cell, n in count.items()}


async def stored(store: CaseStore, region: str, *, include_red: bool) -> Cells:
    rows = await store.cell_rows(region, PERIODS, include_red=include_red)
    cells = {(r.period, r.dimension, r.value, r.cycle): (r.count, r.contributors) for r in rows}
    assert len(cells) == len(rows), "one row per cell"
    return cells


@pytest.fixture(params=DATABASE_KINDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with database_url(request.param, tmp_path) as url, CaseStore(url) as s:
        yield s


_regions = itertools.count()

_record = st.fixed_dictionaries(
    {
        "record_id": st.uuids().map(lambda u: u.hex[:24]),
        "case_id": st.sampled_from(("c1", "c2", "c3", "c4")),
        "revision": st.integers(1, 4),
        "owner": st.sampled_from(OWNERS),
        "who": st.sampled_from(WHO),
        "status": st.sampled_from(("active", "active", "withdrawn")),
        "month": st.sampled_from(MONTHS),
        "tlp": st.sampled_from(("amber", "red")),
        "related": st.sampled_from((False, False, False, True)),
        "values": st.lists(st.sampled_from(VALUES), max_size=3),
    }
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    raw=st.lists(_record, max_size=24),
    cuts=st.lists(st.integers(0, 24), max_size=5),
)
async def test_incremental_cells_equal_the_model_and_a_rebuild(
    store: CaseStore, raw: list[dict[str, Any]], cuts: list[int]
) -> None:
    region = f"R{next(_regions)}"  # a fresh region per example, in the same database
    # Record ids are unique across regions in one database: scope them to the example.
    history = [
        facts(region, **{**record, "record_id": f"{region}/{record['record_id']}"})
        for record in raw
    ]
    # Redeliver a prefix at the end, as after a crash before the offset commit.
    history += history[: len(history) // 2]
    bounds = sorted({0, len(history), *(c for c in cuts if c <= len(history))})
    for start, end in itertools.pairwise(bounds):
        await store.apply_batch(region, history[start:end])
        so_far = history[:end]
        assert await stored(store, region, include_red=True) == model(so_far, include_red=True)
        assert await stored(store, region, include_red=False) == model(so_far, include_red=False)
    expected = model(history, include_red=True)
    assert await store.periods_with_data(region) == sorted({cell[0] for cell in expected})
    await store.rebuild_cells(region)
    assert await stored(store, region, include_red=True) == expected
    assert await stored(store, region, include_red=False) == model(history, include_red=False)


# -- migrations 0004 and 0005: a database filled at 0003 ------------------------------

_OLD_CELL = text(
    "INSERT INTO cell_counts (region, period, dimension, value, cycle, contributor, red, n)"
    " VALUES (:region, :period, :dimension, :value, :cycle, :contributor, :red, :n)"
)
_OLD_CASE = text(
    "INSERT INTO cases (region, case_id, revision, owner_tag, status, contributor, month,"
    " cycle, tlp, record_id, sealed, updated_at) VALUES (:region, :case_id, :revision,"
    " :owner_tag, :status, :contributor, :month, :cycle, :tlp, :record_id, :sealed, :now)"
)
_OLD_VALUE = text(
    "INSERT INTO case_values (region, case_id, dimension, value)"
    " VALUES (:region, :case_id, :dimension, :value)"
)


def _old_layout_history(region: str) -> list[CaseFacts]:
    """30 cases of three contributors over both cycles, some red, some withdrawn."""
    return [
        facts(
            region,
            record_id=f"{region}-{i}",
            case_id=f"case-{i}",
            revision=1 + i % 2,
            owner=OWNERS[i % 2],
            who=WHO[i % 3],
            status="withdrawn" if i % 7 == 3 else "active",
            month=MONTHS[i % len(MONTHS)],
            tlp="red" if i % 5 == 1 else "amber",
            related=False,
            values=[] if i % 10 == 9 else [VALUES[i % 4], VALUES[(i * 3) % 4]],
        )
        for i in range(30)
    ]


OldCells = set[tuple[str, str, str, str, str, str, bool, int]]


def _downgrade(connection: Connection, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option(
        "script_location", str(Path(dief.aggregator.store.__file__).parent / "migrations")
    )
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, revision)


async def _old_tables(url: str) -> tuple[OldCells, set[tuple[str, str, str, str]]]:
    """The non-zero rows of the 0003 ``cell_counts`` and the ``case_values`` rows."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            cells = await conn.execute(
                text(
                    "SELECT region, period, dimension, value, cycle, contributor, red, n"
                    " FROM cell_counts WHERE n > 0"
                )
            )
            values = await conn.execute(
                text("SELECT region, case_id, dimension, value FROM case_values")
            )
            return (
                {(*r[:6], bool(r[6]), int(r[7])) for r in cells},
                {tuple(r) for r in values},
            )
    finally:
        await engine.dispose()


def _old_keys(state: CaseState) -> list[CellKey]:
    """The cell keys of the code before half-cycles (migration 0013 adds the halves)."""
    return [key for key in cell_keys(state) if key[0] != state.half]


async def _fill_at_0003(url: str, regions: Iterable[str]) -> None:
    """The schema of migration 0003, filled the way the code of that revision wrote it:
    cell_counts keyed by (…, contributor, red), with rows left at zero by withdrawals."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(migrate, "0003")
            for region in regions:
                cells: Counter[tuple[str, str, str, str, str, bool]] = Counter()
                for f in _old_layout_history(region):
                    state = CaseState.of(f)
                    cells.update((*key, state.red) for key in _old_keys(state))
                    if f.status == "withdrawn":  # it once counted, as revision 1
                        was = _old_keys(replace(state, status="active"))
                        cells.update({(*key, state.red): 0 for key in was})
                    await conn.execute(
                        _OLD_CASE,
                        {
                            "region": region,
                            "case_id": f.case_id,
                            "revision": f.revision,
                            "owner_tag": f.owner_key,  # the column before migration 0010
                            "status": f.status,
                            "contributor": f.contributor,
                            "month": f.month,
                            "cycle": f.cycle,
                            "tlp": f.tlp,
                            "record_id": f.record_id,
                            "sealed": f.sealed,
                            "now": datetime.now(UTC),
                        },
                    )
                    if f.values:
                        await conn.execute(
                            _OLD_VALUE,
                            [
                                {"region": region, "case_id": f.case_id, "dimension": d, "value": v}
                                for d, v in f.values
                            ],
                        )
                await conn.execute(
                    _OLD_CELL,
                    [
                        {
                            "region": region,
                            "period": p,
                            "dimension": d,
                            "value": v,
                            "cycle": c,
                            "contributor": who,
                            "red": red,
                            "n": n,
                        }
                        for (p, d, v, c, who, red), n in cells.items()
                    ],
                )
    finally:
        await engine.dispose()


@pytest.mark.parametrize("kind", DATABASE_KINDS)
async def test_migrations_from_0003_keep_cells_and_cases(kind: str, tmp_path: Path) -> None:
    """0004 regroups the cells; 0005 moves case_values into the cases rows."""
    regions = ("AFR", "APG")
    async with database_url(kind, tmp_path) as url:
        await _fill_at_0003(url, regions)
        written = await _old_tables(url)
        async with CaseStore(url) as store:  # upgrades to head
            for region in regions:
                history = _old_layout_history(region)
                assert {
                    (c.case_id, c.revision, c.status, c.contributor, c.month, c.tlp, c.values)
                    for c in await store.stored_cases(region)
                } == {
                    (f.case_id, f.revision, f.status, f.contributor, f.month, f.tlp, f.values)
                    for f in history
                }
                for red in (True, False):
                    assert await stored(store, region, include_red=red) == model(
                        history, include_red=red
                    )
                assert await store.periods_with_data(region) == sorted(
                    {cell[0] for cell in model(history, include_red=True)}
                )
        # Down to 0003 gives back what was written (less the rows at zero), and up again.
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(_downgrade, "0003")
        finally:
            await engine.dispose()
        assert await _old_tables(url) == written
        async with CaseStore(url) as store:
            for red in (True, False):
                assert await stored(store, "AFR", include_red=red) == model(
                    _old_layout_history("AFR"), include_red=red
                )
            # The migrated rows go on counting incrementally, and equal a rebuild.
            more = [
                facts(
                    "AFR",
                    record_id=f"more-{i}",
                    case_id=f"case-{i}",
                    revision=5,
                    owner=OWNERS[i % 2],
                    who=WHO[(i + 1) % 3],
                    status="withdrawn" if i % 4 == 0 else "active",
                    month=MONTHS[(i + 2) % len(MONTHS)],
                    tlp="red" if i % 3 == 0 else "green",
                    related=False,
                    values=[VALUES[(i + 1) % 4]],
                )
                for i in range(0, 30, 2)
            ]
            await store.apply_batch("AFR", more)
            history = [*_old_layout_history("AFR"), *more]
            for red in (True, False):
                assert await stored(store, "AFR", include_red=red) == model(
                    history, include_red=red
                )
            await store.rebuild_cells("AFR")
            for red in (True, False):
                assert await stored(store, "AFR", include_red=red) == model(
                    history, include_red=red
                )

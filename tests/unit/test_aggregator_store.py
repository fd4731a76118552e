"""CaseStore on SQLite: one transaction per batch, idempotent, rebuildable (DESIGN §7, §8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from dief.aggregator import BatchPlan, CaseFacts, Outcome
from dief.aggregator.store import CaseStore, CellRow
from dief.database import sqlite_url

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable
    from pathlib import Path

OWNER_1 = "1" * 32
OWNER_2 = "2" * 32
WHO_1 = "a" * 32
WHO_2 = "b" * 32


def facts(
    case_id: str,
    revision: int,
    *,
    owner: str = OWNER_1,
    who: str = WHO_1,
    status: str = "active",
    month: str = "2026-01",
    tlp: str = "amber",
    values: Iterable[tuple[str, str]] = (("method", "corruption"),),
    record_id: str | None = None,
) -> CaseFacts:
    return CaseFacts(
        record_id=record_id or f"{case_id}/{revision}/{owner[0]}",
        case_id=case_id,
        revision=revision,
        region="AFR",
        status=status,
        contributor=who,
        owner_key=owner,
        month=month,
        cycle="CSP12" if month >= "2025-09" else "CSP11",
        tlp=tlp,
        values=tuple(sorted(values)),
        related_regions=("APG",) if case_id == "c5" else (),
        sealed=b'{"sealed": true}',
    )


BATCH = [
    facts("c1", 1, values=[("method", "corruption"), ("method", "theft_or_loss")]),
    facts("c1", 2, values=[("method", "theft_or_loss")]),  # latest counts
    facts("c2", 1, who=WHO_2, owner=OWNER_2, month="2026-02"),
    facts("c2", 2, owner=OWNER_1, status="withdrawn"),  # another owner key: changes nothing
    facts("c3", 1, month="2025-08", tlp="red"),
    facts("c3", 2, status="withdrawn"),  # withdrawn counts nowhere
    facts("c4", 3, month="2026-03"),
    facts("c4", 2, month="2026-01"),  # stale
    facts("c5", 1, month="2025-08", status="withdrawn"),  # on a route, withdrawn: nowhere
]
BATCH.append(BATCH[0])  # the same record again: a duplicate

PERIODS = ["2025-08", "2025-Q3", "CSP11", "2026-01", "2026-02", "2026-03", "2026-Q1", "CSP12"]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "agg.sqlite")) as s:
        yield s


def rows(found: list[CellRow]) -> set[tuple[str, str, str, str, int, int]]:
    return {(r.period, r.dimension, r.value, r.cycle, r.count, r.contributors) for r in found}


async def test_apply_counts_by_the_rules(store: CaseStore) -> None:
    plan = await store.apply_batch("AFR", BATCH)
    assert plan.outcomes == [
        Outcome.APPLIED,
        Outcome.APPLIED,
        Outcome.APPLIED,
        Outcome.OWNERSHIP,
        Outcome.APPLIED,
        Outcome.APPLIED,
        Outcome.APPLIED,
        Outcome.STALE,
        Outcome.APPLIED,
        Outcome.DUPLICATE,
    ]
    got = rows(await store.cell_rows("AFR", PERIODS))
    expected = {
        # c1 revision 2 (2026-01, WHO_1), c2 revision 1 (2026-02, WHO_2), c4 (2026-03, WHO_1)
        ("2026-01", "_total", "_all", "CSP12", 1, 1),
        ("2026-01", "method", "theft_or_loss", "CSP12", 1, 1),
        ("2026-02", "_total", "_all", "CSP12", 1, 1),
        ("2026-02", "method", "corruption", "CSP12", 1, 1),
        ("2026-03", "_total", "_all", "CSP12", 1, 1),
        ("2026-03", "method", "corruption", "CSP12", 1, 1),
        ("2026-Q1", "_total", "_all", "CSP12", 3, 2),
        ("2026-Q1", "method", "theft_or_loss", "CSP12", 1, 1),
        ("2026-Q1", "method", "corruption", "CSP12", 2, 2),
        ("CSP12", "_total", "_all", "CSP12", 3, 2),
        ("CSP12", "method", "theft_or_loss", "CSP12", 1, 1),
        ("CSP12", "method", "corruption", "CSP12", 2, 2),
    }
    assert got == expected
    assert await store.periods_with_data("AFR") == sorted(
        ["2026-01", "2026-02", "2026-03", "2026-Q1", "CSP12-H1", "CSP12-H2", "CSP12"]
    )
    halves = rows(await store.cell_rows("AFR", ["CSP12-H1", "CSP12-H2"]))
    assert halves == {  # H1 (September-February) holds c1 and c2, H2 holds c4
        ("CSP12-H1", "_total", "_all", "CSP12", 2, 2),
        ("CSP12-H1", "method", "theft_or_loss", "CSP12", 1, 1),
        ("CSP12-H1", "method", "corruption", "CSP12", 1, 1),
        ("CSP12-H2", "_total", "_all", "CSP12", 1, 1),
        ("CSP12-H2", "method", "corruption", "CSP12", 1, 1),
    }
    assert await store.outcome_counts("AFR") == {
        "applied": 7,
        "ownership": 1,
        "stale": 1,
    }
    assert await store.dead_letter_counts("AFR") == {"ownership": 1}
    stored = {c.case_id: (c.revision, c.status) for c in await store.stored_cases("AFR")}
    assert stored == {
        "c1": (2, "active"),
        "c2": (1, "active"),
        "c3": (2, "withdrawn"),
        "c4": (3, "active"),
        "c5": (1, "withdrawn"),
    }
    assert await store.cell_rows("APG", PERIODS) == []


async def test_red_cases_can_be_left_out(store: CaseStore) -> None:
    await store.apply_batch("AFR", [facts("r1", 1, tlp="red"), facts("g1", 1, who=WHO_2)])
    everything = rows(await store.cell_rows("AFR", ["2026-01"]))
    no_red = rows(await store.cell_rows("AFR", ["2026-01"], include_red=False))
    assert ("2026-01", "_total", "_all", "CSP12", 2, 2) in everything
    assert ("2026-01", "_total", "_all", "CSP12", 1, 1) in no_red


async def test_rebuild_gives_identical_cells(store: CaseStore) -> None:
    await store.apply_batch("AFR", BATCH)
    # More batches, so the incremental counts went up and down.
    await store.apply_batch(
        "AFR",
        [
            facts("c1", 3, month="2025-10", who=WHO_2, values=[("kind", "alert")]),
            facts("c3", 3, month="2026-02"),
            facts("c4", 4, status="withdrawn"),
            facts("c6", 1, month="2025-08", tlp="red", values=[("method", "x"), ("kind", "case")]),
        ],
    )
    periods = [*PERIODS, "2025-10", "2025-Q4"]
    before = rows(await store.cell_rows("AFR", periods))
    before_no_red = rows(await store.cell_rows("AFR", periods, include_red=False))
    assert before  # something to compare
    await store.rebuild_cells("AFR")
    assert rows(await store.cell_rows("AFR", periods)) == before
    assert rows(await store.cell_rows("AFR", periods, include_red=False)) == before_no_red


async def test_redelivered_batch_changes_nothing(store: CaseStore) -> None:
    await store.apply_batch("AFR", BATCH)
    before = rows(await store.cell_rows("AFR", PERIODS))
    outcomes = await store.outcome_counts("AFR")
    plan = await store.apply_batch("AFR", BATCH)
    assert set(plan.outcomes) == {Outcome.DUPLICATE}
    assert rows(await store.cell_rows("AFR", PERIODS)) == before
    assert await store.outcome_counts("AFR") == outcomes
    assert await store.dead_letter_counts("AFR") == {"ownership": 1}


async def test_failure_before_commit_leaves_nothing(store: CaseStore) -> None:
    class SinkDownError(Exception):
        pass

    async def fail(_plan: BatchPlan) -> None:
        raise SinkDownError

    with pytest.raises(SinkDownError):
        await store.apply_batch("AFR", BATCH, dead=[("rid", "malformed")], before_commit=fail)
    assert await store.cell_rows("AFR", PERIODS) == []
    assert await store.outcome_counts() == {}
    assert await store.dead_letter_counts("AFR") == {}
    # The redelivery then applies in full.
    seen: list[int] = []

    async def ok(plan: BatchPlan) -> None:
        seen.append(len(plan.outcomes))

    plan = await store.apply_batch("AFR", BATCH, dead=[("rid", "malformed")], before_commit=ok)
    assert seen == [len(BATCH)]
    assert plan.outcomes.count(Outcome.APPLIED) == 7
    assert await store.dead_letter_counts("AFR") == {"ownership": 1, "malformed": 1}


async def test_dead_letters_with_a_record_id_count_once(store: CaseStore) -> None:
    dead = [("dead-1", "wrong_region"), (None, "malformed")]
    await store.apply_batch("AFR", [], dead=dead)
    await store.apply_batch("AFR", [], dead=[("dead-1", "wrong_region")])
    counts = await store.dead_letter_counts("AFR")
    assert counts == {"wrong_region": 1, "malformed": 1}
    assert (await store.outcome_counts("AFR"))["dlq:wrong_region"] == 1

"""plan_batch: the counting rules of DESIGN §5, without a database.

Every expectation here is written out by hand or computed by an independent model
(``_expected``), never with ``cell_keys`` applied to the plan's own output.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from typing import TYPE_CHECKING

from hypothesis import given, settings
from hypothesis import strategies as st

from dief.aggregator import TOTAL, CaseFacts, CaseState, Outcome, cell_keys, plan_batch

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

OWNER = "a" * 32
OTHER_OWNER = "b" * 32
WHO = "c" * 32


def facts(
    case_id: str,
    revision: int,
    *,
    record_id: str | None = None,
    owner: str = OWNER,
    status: str = "active",
    contributor: str = WHO,
    month: str = "2026-01",
    cycle: str = "CSP12",
    tlp: str = "amber",
    values: Iterable[tuple[str, str]] = (("kind", "case"),),
) -> CaseFacts:
    return CaseFacts(
        record_id=record_id or f"{case_id}-r{revision}-{owner[:1]}-{status}",
        case_id=case_id,
        revision=revision,
        region="AFR",
        status=status,
        contributor=contributor,
        owner_key=owner,
        month=month,
        cycle=cycle,
        tlp=tlp,
        values=tuple(sorted(values)),
        sealed=b"{}",
    )


def cells(
    month: str, cycle: str, who: str, pairs: Iterable[tuple[str, str]]
) -> Counter[tuple[str, str, str, str, str]]:
    """The cell rows one counted case adds one to, written out independently."""
    year, mm = month.split("-")
    quarter = f"{year}-Q{(int(mm) - 1) // 3 + 1}"
    # the half by the September start, when the cycle is the month's by that start
    fits = cycle == f"CSP{int(year) - 2013 - (int(mm) < 9)}"
    half = (f"{cycle}-H1" if int(mm) in {9, 10, 11, 12, 1, 2} else f"{cycle}-H2") if fits else ""
    return Counter(
        (period, dim, value, cycle, who)
        for period in (month, quarter, half, cycle)
        if period
        for dim, value in [("_total", "_all"), *pairs]
    )


def test_cell_keys_one_count_per_distinct_value_and_period() -> None:
    state = CaseState.of(
        facts("c1", 1, month="2026-05", values=[("method", "corruption"), ("method", "theft")])
    )
    keys = cell_keys(state)
    assert Counter(keys) == cells(
        "2026-05", "CSP12", WHO, [("method", "corruption"), ("method", "theft")]
    )
    assert {k[0] for k in keys} == {"2026-05", "2026-Q2", "CSP12-H2", "CSP12"}
    assert TOTAL == ("_total", "_all")
    assert cell_keys(CaseState.of(facts("c1", 2, status="withdrawn"))) == []


def test_cell_keys_count_the_half_the_facts_name() -> None:
    """The aggregator names the half by its start month; facts without one take the
    September start, and a month/cycle pair that does not fit it counts in no half."""
    assert CaseState.of(facts("c1", 1, month="2026-02")).half == "CSP12-H1"
    january_start = dataclasses.replace(
        facts("c1", 1, month="2026-02", cycle="CSP13"), half="CSP13-H1"
    )
    keys = cell_keys(CaseState.of(january_start))
    assert {k[0] for k in keys} == {"2026-02", "2026-Q1", "CSP13-H1", "CSP13"}
    assert {k[3] for k in keys} == {"CSP13"}  # the half's rows keep the case's cycle
    unknown = CaseState.of(facts("c1", 1, month="2026-02", cycle="CSP13"))
    assert unknown.half == ""
    assert {k[0] for k in cell_keys(unknown)} == {"2026-02", "2026-Q1", "CSP13"}


def test_red_cases_count_in_red_deltas_too() -> None:
    red = facts("c1", 1, tlp="red")
    plan = plan_batch([red, facts("c2", 1, contributor="d" * 32)], {}, [])
    one = cells("2026-01", "CSP12", WHO, [("kind", "case")])
    assert plan.red_deltas == one
    assert plan.deltas == one + cells("2026-01", "CSP12", "d" * 32, [("kind", "case")])
    # Turning red: the count stays, its red part moves.
    amber = CaseState.of(facts("c3", 1))
    plan = plan_batch([facts("c3", 2, tlp="red")], {"c3": amber}, [])
    assert not plan.deltas
    assert plan.red_deltas == one
    # And back.
    plan = plan_batch([facts("c1", 2)], {"c1": CaseState.of(red)}, [])
    assert not plan.deltas
    assert dict(plan.red_deltas) == {k: -v for k, v in one.items()}


def test_new_case_counts() -> None:
    rec = facts("c1", 1, values=[("kind", "case"), ("method", "corruption")])
    plan = plan_batch([rec], {}, [])
    assert plan.outcomes == [Outcome.APPLIED]
    assert plan.upserts == {"c1": rec}
    assert plan.deltas == cells(
        "2026-01", "CSP12", WHO, [("kind", "case"), ("method", "corruption")]
    )


def test_latest_revision_replaces_the_stored_one() -> None:
    old = facts("c1", 1, month="2025-12", values=[("method", "corruption")])
    new = facts("c1", 2, month="2026-02", values=[("method", "theft")])
    plan = plan_batch([new], {"c1": CaseState.of(old)}, [old.record_id])
    expected = cells("2026-02", "CSP12", WHO, [("method", "theft")])
    expected.subtract(cells("2025-12", "CSP12", WHO, [("method", "corruption")]))
    # The CSP12 total is unchanged (-1 +1) and must not appear as a zero entry.
    expected = Counter({k: v for k, v in expected.items() if v})
    assert plan.outcomes == [Outcome.APPLIED]
    assert plan.upserts == {"c1": new}
    assert dict(plan.deltas) == dict(expected)
    assert ("CSP12", "_total", "_all", "CSP12", WHO) not in plan.deltas


def test_withdrawn_counts_nowhere() -> None:
    old = facts("c1", 1)
    gone = facts("c1", 2, status="withdrawn")
    plan = plan_batch([gone], {"c1": CaseState.of(old)}, [])
    assert plan.outcomes == [Outcome.APPLIED]
    assert plan.upserts == {"c1": gone}  # stored, so a later stale revision is recognised
    assert dict(plan.deltas) == {
        k: -v for k, v in cells("2026-01", "CSP12", WHO, [("kind", "case")]).items()
    }
    # A case first seen withdrawn counts nowhere at all.
    fresh = plan_batch([facts("c2", 3, status="withdrawn")], {}, [])
    assert fresh.outcomes == [Outcome.APPLIED]
    assert not fresh.deltas


def test_revision_after_withdrawal_counts_again() -> None:
    recs = [facts("c1", 1), facts("c1", 2, status="withdrawn"), facts("c1", 3, month="2026-03")]
    plan = plan_batch(recs, {}, [])
    assert plan.outcomes == [Outcome.APPLIED] * 3
    assert plan.deltas == cells("2026-03", "CSP12", WHO, [("kind", "case")])


def test_another_owner_key_is_refused_and_changes_nothing() -> None:
    # Never in practice (the case id derives from the owner key): the defence still holds.
    stored = CaseState.of(facts("c1", 1))
    forged = facts("c1", 2, owner=OTHER_OWNER, status="withdrawn")
    plan = plan_batch([forged], {"c1": stored}, [])
    assert plan.outcomes == [Outcome.OWNERSHIP]
    assert not plan.upserts
    assert not plan.deltas
    # Also within one batch: the first revision establishes the owner.
    first = facts("c2", 1)
    plan = plan_batch([first, facts("c2", 2, owner=OTHER_OWNER)], {}, [])
    assert plan.outcomes == [Outcome.APPLIED, Outcome.OWNERSHIP]
    assert plan.upserts == {"c2": first}
    assert plan.deltas == cells("2026-01", "CSP12", WHO, [("kind", "case")])


def test_revision_not_above_stored_is_a_redelivery() -> None:
    # (case_id, revision) deduplicates verified records (DESIGN §8): the stored revision in
    # other bytes is a duplicate, an older one stale.
    stored = CaseState.of(facts("c1", 3))
    plan = plan_batch(
        [facts("c1", 2, record_id="x"), facts("c1", 3, record_id="y")], {"c1": stored}, []
    )
    assert plan.outcomes == [Outcome.STALE, Outcome.DUPLICATE]
    assert not plan.upserts
    assert not plan.deltas


def test_duplicate_record_id() -> None:
    rec = facts("c1", 1)
    plan = plan_batch([rec], {}, [rec.record_id])
    assert plan.outcomes == [Outcome.DUPLICATE]
    assert not plan.upserts
    assert not plan.deltas
    # The same record twice in one batch counts once.
    plan = plan_batch([rec, rec], {}, [])
    assert plan.outcomes == [Outcome.APPLIED, Outcome.DUPLICATE]
    assert plan.deltas == cells("2026-01", "CSP12", WHO, [("kind", "case")])


def test_several_revisions_in_one_batch_out_of_order() -> None:
    r1 = facts("c1", 1, values=[("method", "a")])
    r3 = facts("c1", 3, values=[("method", "c")])
    r2 = facts("c1", 2, values=[("method", "b")])
    plan = plan_batch([r1, r3, r2], {}, [])
    assert plan.outcomes == [Outcome.APPLIED, Outcome.APPLIED, Outcome.STALE]
    assert plan.upserts == {"c1": r3}
    assert plan.deltas == cells("2026-01", "CSP12", WHO, [("method", "c")])


# -- an independent model, checked on random histories split into random batches ---------

_CASES = ("c1", "c2", "c3")


Key = tuple[str, str, str, str, str]


def _expected(history: list[CaseFacts]) -> tuple[Counter[Key], Counter[Key]]:
    """Cells from the rules stated plainly: per case, the owner is whoever sent the first
    record that got in; the highest revision from that owner is what counts, if active."""
    owner: dict[str, str] = {}
    best: dict[str, CaseFacts] = {}
    seen: set[str] = set()
    for rec in history:
        if rec.record_id in seen:
            continue
        seen.add(rec.record_id)
        owner.setdefault(rec.case_id, rec.owner_key)
        if rec.owner_key != owner[rec.case_id]:
            continue
        if rec.case_id not in best or rec.revision > best[rec.case_id].revision:
            best[rec.case_id] = rec
    out: Counter[Key] = Counter()
    red: Counter[Key] = Counter()
    for rec in best.values():
        if rec.status == "active":
            out += cells(rec.month, rec.cycle, rec.contributor, rec.values)
            if rec.tlp == "red":
                red += cells(rec.month, rec.cycle, rec.contributor, rec.values)
    return out, red


_record = st.builds(
    lambda rid, case_id, revision, owner, status, month, method, tlp: facts(
        case_id,
        revision,
        record_id=str(rid),
        owner=owner,
        status=status,
        month=month,
        contributor=owner[:1] * 32,
        values=[("method", method)],
        tlp=tlp,
    ),
    st.uuids(),
    st.sampled_from(_CASES),
    st.integers(1, 4),
    st.sampled_from((OWNER, OTHER_OWNER)),
    st.sampled_from(("active", "withdrawn")),
    st.sampled_from(("2025-08", "2025-09", "2026-01")),
    st.sampled_from(("x", "y")),
    st.sampled_from(("amber", "red")),
)


@settings(max_examples=150, deadline=None)
@given(history=st.lists(_record, max_size=14), cuts=st.lists(st.integers(0, 14), max_size=4))
def test_any_batching_gives_the_model_cells(history: list[CaseFacts], cuts: list[int]) -> None:
    # Redeliver a prefix at the end, as after a crash before the offset commit.
    history += history[: len(history) // 2]
    bounds = sorted({0, len(history), *(c for c in cuts if c <= len(history))})
    states: dict[str, CaseState] = {}
    applied: set[str] = set()
    total: Counter[Key] = Counter()
    red: Counter[Key] = Counter()
    for start, end in itertools.pairwise(bounds):
        batch = history[start:end]
        plan = plan_batch(batch, dict(states), set(applied))
        assert len(plan.outcomes) == len(batch)
        assert all(v != 0 for v in plan.deltas.values())
        assert all(v != 0 for v in plan.red_deltas.values())
        total.update(plan.deltas)
        red.update(plan.red_deltas)
        states.update({cid: CaseState.of(f) for cid, f in plan.upserts.items()})
        applied.update(
            r.record_id for r, o in zip(batch, plan.outcomes, strict=True) if o != Outcome.DUPLICATE
        )
    expected, expected_red = _expected(history)
    assert _nonzero(total) == _nonzero(expected)
    assert _nonzero(red) == _nonzero(expected_red)


def _nonzero(c: Mapping[Key, int]) -> dict[object, int]:
    assert all(v >= 0 for v in c.values()), "a cell count went negative"
    return {k: v for k, v in c.items() if v}

"""The totals plan (``dief.disclosure._totals_plan``, docs/digests.md "Totals planned"):
the cheapest set of totals that keeps every hidden total of the totals' own sums
undetermined, checked against every subset of a small history; and a search that starts
from it protects every cell as before."""

from __future__ import annotations

import itertools
import random

import pytest
from scipy.optimize import milp  # type: ignore[import-untyped]  # scipy ships no stubs

from dief.disclosure import _totals_plan
from dief.disclosure._choice import forced, least_value
from dief.disclosure._elimination import Elimination
from dief.disclosure._search import _Search
from dief.disclosure._suppression import (
    Group,
    Key,
    _live_groups,
    _orderings,
    _reissue,
    determined_cells,
    protect,
)
from dief.disclosure._totals_plan import Cut, PlanMemo, plan_totals

T = ("_total", "_all")
MONTHS = [f"2025-{m:02d}" for m in range(7, 13)]
#: the sums of the history: two quarters, a half that cuts across them, its months' half
SUMS = {
    "2025-Q3": MONTHS[0:3],
    "2025-Q4": MONTHS[3:6],
    "CSP12-H1": MONTHS[2:6],
    "CSP11-H2": MONTHS[0:2],
}
WEIGHT = {"2025-Q3": 2.0, "2025-Q4": 2.0, "CSP12-H1": 8.0, "CSP11-H2": 8.0}
HISTORIES = 40


def _history(rng: random.Random) -> tuple[dict[Key, int], set[Key], list[Group]]:
    """Random month totals (one to four cases), some reported by one State (primary)."""
    counts: dict[Key, int] = {(m, *T): rng.randint(1, 4) for m in MONTHS}
    for period, months in SUMS.items():
        counts[period, *T] = sum(counts[m, *T] for m in months)
    primary = {(m, *T) for m in MONTHS if rng.random() < 0.3}
    groups = [Group((p, *T), tuple((m, *T) for m in months)) for p, months in SUMS.items()]
    return counts, primary, groups


def _search(counts: dict[Key, int], primary: set[Key], groups: list[Group]) -> _Search:
    rank, by_size = _orderings(counts, order=None, prefer=frozenset(), cost=None)
    live = _live_groups(groups, counts)
    first = frozenset(primary)
    reissue = _reissue(None, counts, first, live, frozenset())
    reserve = frozenset(counts) - first
    return _Search(counts, live, first, reissue, by_size=by_size, rank=rank, reserve=reserve)


def _weight(key: Key) -> float:
    return WEIGHT.get(key[0], 1.0) * 1000.0


def _meets(search: _Search, groups: list[Group], hidden: set[Key]) -> bool:
    """No hidden total is computed from the others, and no published sum pins its hidden
    months (each at least one)."""
    elimination: Elimination[Key] = Elimination(
        [{**dict.fromkeys(g.members, 1), g.marginal: -1} for g in groups]
    )
    for cell in sorted(hidden):
        elimination.add(cell)
    if elimination.determined():
        return False
    for group in groups:
        members = [m for m in group.members if m in hidden]
        if group.marginal not in hidden and members:
            least = lambda c: least_value(c, frozenset(), search.floors)  # noqa: E731
            if forced(members, search.counts, frozenset(), least):
                return False
    return True


@pytest.mark.parametrize("seed", range(HISTORIES))
def test_the_plan_is_the_cheapest_set_that_keeps_every_total_unknown(seed: int) -> None:
    counts, primary, groups = _history(random.Random(seed))
    search = _search(counts, primary, groups)
    chosen = set(plan_totals(search, _weight))
    candidates = sorted(set(counts) - primary)
    feasible = [
        set(subset)
        for size in range(len(candidates) + 1)
        for subset in itertools.combinations(candidates, size)
        if _meets(search, groups, primary | set(subset))
    ]
    if not primary or not feasible:
        return  # nothing to protect, or nothing a total can do (the search handles it)
    assert _meets(search, groups, primary | chosen)
    assert sum(map(_weight, chosen)) == min(sum(map(_weight, s)) for s in feasible)


def test_a_month_of_one_state_takes_a_month_before_a_half() -> None:
    """October (one State) is in the fourth quarter and the half: a second month of both
    (November or December) protects it in both sums at a month's weight, where hiding the
    half would weigh eight."""
    counts: dict[Key, int] = {(m, *T): 2 for m in MONTHS}
    for period, months in SUMS.items():
        counts[period, *T] = sum(counts[m, *T] for m in months)
    counts["2025-Q4", *T] = 6
    groups = [Group((p, *T), tuple((m, *T) for m in months)) for p, months in SUMS.items()]
    october = ("2025-10", *T)
    search = _search(counts, {october}, groups)
    chosen = plan_totals(search, _weight)
    assert len(chosen) == 1
    assert chosen[0][0] in {"2025-11", "2025-12"}


@pytest.mark.parametrize("seed", range(HISTORIES))
def test_a_search_that_starts_from_the_plan_protects_every_cell(seed: int) -> None:
    counts, primary, groups = _history(random.Random(seed))
    reserve = frozenset(counts) - primary
    result = protect(counts, primary, groups, reserve=reserve, bounds=True, plan=_weight)
    assert primary <= result.suppressed
    assert not determined_cells(result.suppressed, groups)


def _by_kind(key: Key) -> float:
    """:func:`_weight` by the period's kind, whatever its year."""
    return (8.0 if "-H" in key[0] else 2.0 if "-Q" in key[0] else 1.0) * 1000.0


def _moved(key: Key) -> Key:
    """*key* two years later (2027, cycles CSP3x)."""
    return (key[0].replace("2025", "2027").replace("CSP1", "CSP3"), *key[1:])


@pytest.mark.parametrize("seed", range(0, HISTORIES, 4))
def test_independent_histories_are_planned_block_by_block(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan over two histories no sum joins costs what the two plans cost apart (the
    integer programme is solved block by block), and a second call with the same blocks
    solved (one run's rounds) solves nothing again and chooses the same."""
    counts, primary, groups = _history(random.Random(seed))
    later, later_primary, later_groups = _history(random.Random(seed + 1))
    apart = sum(
        sum(map(_by_kind, plan_totals(_search(*history), _by_kind)))
        for history in ((counts, primary, groups), (later, later_primary, later_groups))
    )
    counts |= {_moved(k): v for k, v in later.items()}
    primary |= {_moved(k) for k in later_primary}
    groups += [Group(_moved(g.marginal), tuple(map(_moved, g.members))) for g in later_groups]
    memo = PlanMemo()
    chosen = plan_totals(_search(counts, primary, groups), _by_kind, memo)
    assert sum(map(_by_kind, chosen)) == apart
    solved: list[int] = []

    def counted(*args: object, **kwargs: object) -> object:
        solved.append(len(args))
        return milp(*args, **kwargs)

    monkeypatch.setattr(_totals_plan, "milp", counted)
    again = plan_totals(_search(counts, primary, groups), _by_kind, memo)
    assert (again, solved) == (chosen, [])


def test_a_cut_another_implies_is_left_out_and_the_choice_is_the_same() -> None:
    """(at least one of {a, b} hidden) implies (at least one of {a, b, c} hidden) and (one
    of {a, b} hidden unless d is published again): both are left out, and the cheapest
    choice over the rest is the cheapest over all."""
    a, b, c, d = (("2025-07", *T), ("2025-08", *T), ("2025-09", *T), ("2025-Q3", *T))
    plain: Cut = (frozenset({a, b}), frozenset())
    wider: Cut = (frozenset({a, b, c}), frozenset())
    unless: Cut = (frozenset({a, b}), frozenset({d}))
    other: Cut = (frozenset({c}), frozenset({a}))
    assert sorted(_totals_plan._undominated([wider, unless, plain, other])) == sorted(
        [plain, other]
    )
    weights = {a: 3.0, b: 2.0, c: 1.0, d: 1.0}
    assert _totals_plan._cheapest([wider, unless, plain, other], weights.__getitem__) == frozenset(
        {b}
    )


def _long_history(rng: random.Random, halves: int) -> tuple[dict[Key, int], set[Key], list[Group]]:
    """:func:`_history`'s sums repeated over *halves* half-years, each half's months chained
    to the next through a half that cuts across its quarters."""
    counts: dict[Key, int] = {}
    groups: list[Group] = []
    months = [f"{2000 + i // 12}-{i % 12 + 1:02d}" for i in range(6 * halves + 2)]
    for month in months:
        counts[month, *T] = rng.randint(1, 4)
    for h in range(halves):
        sums = {
            f"{months[6 * h][:4]}-Q{(6 * h) % 12 // 3 + 1}": months[6 * h : 6 * h + 3],
            f"{months[6 * h + 3][:4]}-Q{(6 * h + 3) % 12 // 3 + 1}": months[6 * h + 3 : 6 * h + 6],
            f"CSP{h}-H": months[6 * h + 2 : 6 * h + 8],
        }
        for period, members in sums.items():
            counts[period, *T] = sum(counts[m, *T] for m in members)
            groups.append(Group((period, *T), tuple((m, *T) for m in members)))
    primary = {(m, *T) for m in months if rng.random() < 0.3}
    return counts, primary, groups


@pytest.mark.parametrize("seed", range(4))
def test_mended_choices_find_the_cuts_with_fewer_solves(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between two solves, up to MENDS rounds find cuts from a choice mended by hand: the
    same cheapest weight as solving after every round (MENDS = 0), with fewer solves on a
    long history (WEOG at 3,000 cases over 10 years: 168 solves of 0.1-0.9 s before)."""
    solved: list[int] = []

    def counted(*args: object, **kwargs: object) -> object:
        solved.append(1)
        return milp(*args, **kwargs)

    monkeypatch.setattr(_totals_plan, "milp", counted)
    weights: list[float] = []
    solves: list[int] = []
    for mends in (0, _totals_plan.MENDS):
        monkeypatch.setattr(_totals_plan, "MENDS", mends)
        solved.clear()
        counts, primary, groups = _long_history(random.Random(seed), 20)
        chosen = plan_totals(_search(counts, primary, groups), _by_kind)
        weights.append(sum(map(_by_kind, chosen)))
        solves.append(len(solved))
    assert weights[0] == weights[1]
    assert solves[1] < solves[0], solves

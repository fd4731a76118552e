"""Check 4's programme from the true counts (``tight_around``) finds exactly the implicit
equalities the homogenised programme (``tight``) finds (docs/digests.md, "Check 4 from
the true counts"), and a :class:`BoundSystem` asked again gives what a fresh one gives."""

from __future__ import annotations

import random

import pytest
from scipy.optimize import linprog  # type: ignore[import-untyped]  # scipy ships no stubs

from dief.disclosure._bounds import BoundSystem, pinned_cells
from dief.disclosure._bounds_lp import (
    TIGHT,
    equations_rows,
    inequalities,
    open_at,
    satisfies,
    tight,
    tight_around,
)
from dief.disclosure._suppression import Group, Key, determined_cells
from tests.unit.bounds_helpers import quarter_tables

SYSTEMS = 150
#: of the kept systems (each asked some ten times, with two programmes per cell to check):
#: a join left out of the parts fails about 4 in 10
KEPT_SYSTEMS = 60
#: ``linprog``'s status for a programme whose objective has no bound
_UNBOUNDED = 3


def _system(
    rng: random.Random,
) -> tuple[list[dict[int, float]], list[float], list[dict[int, float]], list[float], list[float]]:
    """Random equations and inequalities over a few unknowns, all holding at a random
    integer point (the "true counts"); about half the inequalities tight there."""
    n = rng.randint(2, 9)
    truth = [float(rng.randint(0, 4)) for _ in range(n)]
    eq_rows: list[dict[int, float]] = []
    for _ in range(rng.randint(0, n - 1)):
        cols = rng.sample(range(n), rng.randint(2, min(4, n)))
        eq_rows.append({c: float(rng.choice((1, -1))) for c in cols})
    eq_rhs = [sum(truth[c] * v for c, v in row.items()) for row in eq_rows]
    ub_rows: list[dict[int, float]] = [{j: -1.0} for j in range(n)]
    ub_rhs = [-(truth[j] - rng.choice((0, 0, 1, 2))) for j in range(n)]
    for _ in range(rng.randint(0, n)):
        a, b = rng.sample(range(n), 2)
        ub_rows.append({a: 1.0, b: -1.0})
        ub_rhs.append(truth[a] - truth[b] + rng.choice((0, 1)))
    return eq_rows, eq_rhs, ub_rows, ub_rhs, truth


@pytest.mark.parametrize("seed", range(SYSTEMS))
def test_the_cone_at_the_true_counts_finds_the_homogenised_programmes_rows(seed: int) -> None:
    rng = random.Random(seed)
    eq_rows, eq_rhs, ub_rows, ub_rhs, truth = _system(rng)
    assert satisfies((eq_rows, eq_rhs), truth)
    open_rows = open_at(ub_rows, ub_rhs, truth)
    assert open_rows is not None
    n = len(truth)
    expected = tight((eq_rows, eq_rhs), (ub_rows, ub_rhs), n)
    assert expected is not None  # the true counts are a solution
    assert tight_around(eq_rows, ub_rows, n, open_rows) == expected


def test_a_point_that_breaks_a_row_proves_nothing() -> None:
    assert open_at([{0: -1.0}], [-2.0], [1.0]) is None
    assert not satisfies(([{0: 1.0, 1: -1.0}], [0.0]), [1.0, 2.0])


def test_a_kept_system_answers_as_a_fresh_one_while_cells_are_hidden() -> None:
    """Two months of one quarter, each with two values; the system kept across calls
    (as a search keeps it while it hides cells) gives what a fresh one gives at each
    step, including a part it solved before."""
    counts = {
        ("2026-01", "_total", "_all"): 2,
        ("2026-01", "kind", "case"): 1,
        ("2026-01", "kind", "alert"): 1,
        ("2026-02", "_total", "_all"): 3,
        ("2026-02", "kind", "case"): 2,
        ("2026-02", "kind", "alert"): 1,
        ("2026-Q1", "_total", "_all"): 5,
        ("2026-Q1", "kind", "case"): 3,
        ("2026-Q1", "kind", "alert"): 2,
        ("2026-04", "_total", "_all"): 4,
        ("2026-04", "kind", "case"): 3,
        ("2026-04", "kind", "alert"): 1,
    }
    groups = [
        Group((m, "_total", "_all"), ((m, "kind", "case"), (m, "kind", "alert")))
        for m in ("2026-01", "2026-02", "2026-Q1", "2026-04")
    ]
    groups += [
        Group(("2026-Q1", "kind", v), (("2026-01", "kind", v), ("2026-02", "kind", v)))
        for v in ("case", "alert")
    ]
    kept = BoundSystem(counts, groups)
    steps = [
        {("2026-01", "kind", "alert"), ("2026-02", "kind", "alert")},
        {("2026-01", "kind", "alert"), ("2026-02", "kind", "alert"), ("2026-04", "kind", "case")},
        {
            ("2026-01", "kind", "alert"),
            ("2026-02", "kind", "alert"),
            ("2026-01", "kind", "case"),
            ("2026-02", "kind", "case"),
            ("2026-04", "kind", "case"),
            ("2026-04", "kind", "alert"),
        },
        {("2026-01", "kind", "alert"), ("2026-02", "kind", "alert"), ("2026-04", "kind", "case")},
    ]
    answers = []
    for hidden in steps:
        answer = kept.pinned(hidden)
        assert answer == pinned_cells(counts, hidden, groups)
        answers.append(answer)
    # two alerts of one case each under a published quarter of 2: both pinned at 1
    assert {("2026-01", "kind", "alert"), ("2026-02", "kind", "alert")} <= answers[0]
    # January's total of 2 over two cells of at least one: both 1; April's 4 pins neither
    assert {("2026-01", "kind", "alert"), ("2026-01", "kind", "case")} <= answers[2]
    assert not answers[2] & {("2026-04", "kind", "case"), ("2026-04", "kind", "alert")}


def _pinned_by_bounds(
    counts: dict[Key, int], hidden: list[Key], groups: list[Group]
) -> tuple[set[Key], set[Key]]:
    """The hidden cells whose least and greatest values over the reader's solutions meet:
    two linear programmes per cell, over the whole system at once (no parts, no cone); and
    those of them held at their least value (1)."""
    index = {cell: j for j, cell in enumerate(hidden)}
    rows = [{**dict.fromkeys(g.members, 1), g.marginal: -1} for g in groups]
    eq_rows, eq_rhs = equations_rows(rows, index, counts)
    lower = [1.0] * len(hidden)
    ub_rows, ub_rhs, _ = inequalities(index, counts, lower)

    def dense(sparse: list[dict[int, float]]) -> list[list[float]] | None:
        return [[row.get(j, 0.0) for j in range(len(hidden))] for row in sparse] or None

    out: set[Key] = set()
    at_least: set[Key] = set()
    for j, cell in enumerate(hidden):
        ends = []
        for sign in (1.0, -1.0):
            objective = [0.0] * len(hidden)
            objective[j] = sign
            result = linprog(
                objective,
                A_ub=dense(ub_rows),
                b_ub=ub_rhs or None,
                A_eq=dense(eq_rows),
                b_eq=eq_rhs or None,
                bounds=[(None, None)] * len(hidden),
                method="highs",
            )
            assert result.status in {0, _UNBOUNDED}, result.message
            ends.append(sign * result.fun if result.status == 0 else -sign * float("inf"))
        if ends[1] - ends[0] < TIGHT:
            out.add(cell)
            if ends[0] < lower[j] + TIGHT:
                at_least.add(cell)
    return out, at_least


@pytest.mark.parametrize("seed", range(KEPT_SYSTEMS))
def test_parts_split_by_the_rows_tight_at_the_true_counts_pin_what_the_whole_system_pins(
    seed: int,
) -> None:
    """The parts check 4 solves apart (joined only by equations and by the inequalities
    tight at the true counts: a cell equal to its total, item categories adding up to it)
    pin what two linear programmes per cell over the whole system pin, in a system kept
    while cells are hidden one by one as a search hides them (a part asked before is not
    solved again; a part changed alone is solved alone). ``pinned`` stops at the cells held
    at their least value where there are any: it answers those then."""
    rng = random.Random(seed)
    counts, groups = quarter_tables(rng)
    kept = BoundSystem(counts, groups)
    hidden: list[Key] = []
    asked = 0
    for cell in rng.sample(sorted(counts), len(counts)):
        hidden.append(cell)
        # as a search asks: once the equations alone determine no hidden cell (checks 1-3)
        if determined_cells(hidden, groups):
            continue
        whole, at_least = _pinned_by_bounds(counts, sorted(hidden), groups)
        assert kept.pinned(hidden) == (at_least or whole), hidden
        asked += 1
    assert asked


def test_counts_that_are_no_solution_join_the_parts_by_every_row() -> None:
    """Where the true counts break a table's inequality (item categories below the total)
    or an equation, they prove nothing about the rows strict there: the parts around them
    are joined by every inequality, as before the split (found by review: solved apart,
    each part took the other's cells at their counts, and a kept system answered a later
    call from that)."""
    total = ("t", "_total", "_all")
    item = ("t", "item_category", "a")
    kind = ("t", "kind", "c")
    kept = BoundSystem({total: 5, item: 1}, [])
    assert kept.pinned({total}) == {total}
    assert kept.pinned({total, item}) == set()
    floors = {total: 3}
    assert BoundSystem({total: 3, item: 1, kind: 1}, [], floors=floors).pinned({total, kind}) == {
        total,
        kind,
    }
    month = ("m", "_total", "_all")
    a, b = ("t", "kind", "a"), ("t", "kind", "b")
    off = BoundSystem({month: 5, a: 1, b: 1, total: 2}, [Group(month, (a, b))])
    assert off.pinned({a, b}) == {a, b}
    assert off.pinned({a, b, total}) == set()


@pytest.mark.parametrize("seed", range(KEPT_SYSTEMS))
def test_a_kept_system_splits_into_the_parts_a_fresh_one_finds_as_cells_come_and_go(
    seed: int,
) -> None:
    """The parts a kept system finds from its last call's (walking again only around the
    cells hidden or published since) are the parts a fresh system walks, and it pins what
    a fresh one pins, while cells are hidden and published again at random (a search
    hides; pruning publishes again)."""
    rng = random.Random(seed)
    counts, groups = quarter_tables(rng)
    kept = BoundSystem(counts, groups)
    unlisted: frozenset[Key] = frozenset()
    hidden: set[Key] = set()
    joined = 0
    for _ in range(3 * len(counts)):
        cell = rng.choice(sorted(counts))
        hidden ^= {cell}
        if not hidden:
            continue
        fresh = BoundSystem(counts, groups)
        parts = kept._parts(frozenset(hidden), unlisted)
        assert sorted(map(sorted, parts)) == sorted(
            map(sorted, fresh._parts(frozenset(hidden), unlisted))
        )
        joined += any(len(p) > 1 for p in parts)
        assert kept.pinned(hidden, unlisted=unlisted) == fresh.pinned(hidden, unlisted=unlisted)
    assert joined  # some parts joined cells (the walk had something to find)

"""Check 4's programme from the true counts (``_tight_around``) finds exactly the implicit
equalities the homogenised programme (``_tight``) finds (docs/digests.md, "Check 4 from
the true counts"), and a :class:`BoundSystem` asked again gives what a fresh one gives."""

from __future__ import annotations

import random

import pytest

from dief.disclosure._bounds import (
    BoundSystem,
    _open_at,
    _satisfies,
    _tight,
    _tight_around,
    pinned_cells,
)
from dief.disclosure._suppression import Group

SYSTEMS = 150


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
    assert _satisfies((eq_rows, eq_rhs), truth)
    open_rows = _open_at(ub_rows, ub_rhs, truth)
    assert open_rows is not None
    n = len(truth)
    expected = _tight((eq_rows, eq_rhs), (ub_rows, ub_rhs), n)
    assert expected is not None  # the true counts are a solution
    assert _tight_around(eq_rows, ub_rows, n, open_rows) == expected


def test_a_point_that_breaks_a_row_proves_nothing() -> None:
    assert _open_at([{0: -1.0}], [-2.0], [1.0]) is None
    assert not _satisfies(([{0: 1.0, 1: -1.0}], [0.0]), [1.0, 2.0])


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

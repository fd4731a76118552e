"""The bulletin release check's cells shown wide by feasible points (#15,
``dief.audit._witness``): the same answers as solving every cell of the blocks.

Random systems as the audit builds them (sums of cells, cells at most their table's total,
published cells fixed, listed cells at least 1, a few upper bounds), each with the lower
bounds a bulletin candidate raises: the cells narrower than their level are the same, at
the same intervals, with and without the points (the check's decision and the cells it
names follow from them).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import numpy as np
import pytest

from dief.audit._solve import Interval, blocks, intervals
from dief.audit._system import LinearSystem, SystemBuilder
from dief.audit._witness import kept_wide, narrowed

if TYPE_CHECKING:
    from collections.abc import Sequence

ENOUGH = 3


def _sums(b: SystemBuilder, rng: random.Random, truth: list[int]) -> None:
    """Sums (a marginal and its members) and cells at most their total, true of *truth*."""
    n = len(truth)
    for _ in range(rng.randint(1, n // 2 + 1)):
        members = rng.sample(range(n), rng.randint(1, min(4, n - 1)))
        marginal = rng.randrange(n)
        if marginal in members:
            continue
        terms = dict.fromkeys(members, 1.0)
        terms[marginal] = -1.0
        b.equal(terms, float(sum(truth[m] for m in members) - truth[marginal]))
    for _ in range(rng.randint(0, n // 3)):
        cell, total = rng.sample(range(n), 2)
        if truth[cell] <= truth[total]:
            b.less_equal({cell: 1.0, total: -1.0})


def _systems(rng: random.Random) -> tuple[LinearSystem, LinearSystem, dict[int, int]]:
    """A random system before and after a candidate (the lower bounds it raises, to the
    true point's counts: both feasible), and its reported unknowns with their levels."""
    b = SystemBuilder()
    n = rng.randint(8, 60)
    truth = [rng.choice((0, 0, 1, 1, 2, 3, 5, 8)) for _ in range(n)]
    for j in range(n):
        b.var((0, ("digest", "R", "P"), str(j)), role=rng.choice(("suppressed", "shadow")))
        if truth[j] >= 1 and rng.random() < 0.5:
            b.at_least(j, 1)  # a listed cell
    _sums(b, rng, truth)
    raised: list[int] = []
    for j in range(n):
        roll = rng.random()
        if roll < 0.3:
            b.fix(j, truth[j])  # published
        elif roll < 0.4:
            b.at_most(j, truth[j] + rng.randint(0, 3))
        elif roll < 0.6:
            raised.append(j)
    before = b.freeze()
    for j in raised:
        b.at_least(j, truth[j])  # the candidate's case
    after = b.freeze()
    levels = {
        j: rng.choice((2, 2, 3))
        for j, role in enumerate(after.roles)
        if role == "suppressed" and after.upper[j] - after.lower[j] > 1e-7
    }
    return before, after, levels


@pytest.mark.parametrize("seed", range(8))
def test_the_points_leave_every_answer_as_solving_every_cell(seed: int) -> None:
    """The cells the check would weigh (narrower than their level with the candidate, not
    before) are the same, at the same intervals; the points show cells wide."""
    rng = random.Random(seed)
    shown = skipped = 0
    for _ in range(40):
        before, after, levels = _systems(rng)
        reduced = blocks(after)
        assert reduced.consistent

        def old(unknowns: Sequence[int], before: LinearSystem = before) -> dict[int, Interval]:
            return intervals(before, unknowns, enough=ENOUGH)

        whole = narrowed(after, reduced, levels, enough=ENOUGH)
        local = narrowed(after, reduced, levels, enough=ENOUGH, before=old)
        was = old(list(levels))
        new = {j: v for j, v in whole.items() if not _narrow(was[j], levels[j])}
        assert local == new
        wide = kept_wide(reduced, levels)
        assert wide is not None
        assert not wide & whole.keys()
        shown += len(wide)
        skipped += len(whole) - len(new)
    assert shown > 0  # the points show cells wide (the case in point)
    assert skipped > 0  # and cells narrow before are left out


def _narrow(interval: Interval, level: int) -> bool:
    return interval.width is not None and interval.width < level


def test_an_infeasible_block_is_left_to_the_exact_check() -> None:
    """Bounds that contradict a sum: no point, so nothing is shown wide (the exact check
    raises, and the release check refuses the candidate as a contradiction)."""
    b = SystemBuilder()
    for j in range(3):
        b.var((0, ("digest", "R", "P"), str(j)), role="suppressed")
        b.at_least(j, 2)
    b.equal({0: 1.0, 1: 1.0, 2: -1.0})  # x0 + x1 = x2
    b.at_most(2, 3)
    system = b.freeze()
    assert kept_wide(blocks(system), dict.fromkeys(range(3), 2)) is None


def test_two_points_show_a_cell_wide_without_its_interval() -> None:
    """A cell of [0, 9] beside a fixed total: two points at least its level apart."""
    b = SystemBuilder()
    for j in range(3):
        b.var((0, ("digest", "R", "P"), str(j)), role="suppressed")
    b.equal({0: 1.0, 1: 1.0, 2: -1.0})
    b.fix(2, 9)
    system = b.freeze()
    assert kept_wide(blocks(system), {0: 2, 1: 2}) == {0, 1}
    assert np.isinf(system.upper[0])

"""``Elimination.determined_with`` (check 4's last step read against the search's reduced
equations) against a fresh elimination (``determined_cells``) of the same system: the same
cells on random systems of sums, unknowns, cells made constant and extra equations."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from dief.disclosure._elimination import Elimination
from dief.disclosure._suppression import Group, Key, determined_cells


def _cell(i: int) -> Key:
    return ("T", "d", f"c{i:02d}")


@st.composite
def _systems(
    draw: st.DrawFn,
) -> tuple[list[Group], list[Key], set[Key], list[dict[Key, int]]]:
    size = draw(st.integers(4, 14))
    cells = [_cell(i) for i in range(size)]
    rng = random.Random(draw(st.integers(0, 2**32)))
    groups = []
    for _ in range(draw(st.integers(1, 8))):
        picked = rng.sample(cells, rng.randint(2, min(5, size)))
        groups.append(Group(picked[0], tuple(picked[1:])))
    unknown = [c for c in cells if rng.random() < 0.7]
    order = unknown.copy()
    rng.shuffle(order)
    constants = {c for c in unknown if rng.random() < 0.2}
    extra = []
    for _ in range(draw(st.integers(0, 3))):
        picked = rng.sample(unknown, min(len(unknown), rng.randint(1, 3))) if unknown else []
        row = {c: rng.choice([-2, -1, 1, 2]) for c in picked}
        if row:
            extra.append(row)
    return groups, order, constants, extra


@settings(max_examples=400, deadline=None)
@given(_systems())
def test_the_cells_a_fresh_elimination_finds(
    system: tuple[list[Group], list[Key], set[Key], list[dict[Key, int]]],
) -> None:
    groups, order, constants, extra = system
    reduced: Elimination[Key] = Elimination([g.equation() for g in groups])
    for cell in order:
        reduced.add(cell)
    rest = [c for c in order if c not in constants]
    # the extra rows over the unknowns left (a constant's term is a constant)
    relations = [{c: v for c, v in row.items() if c not in constants} for row in extra]
    expected = determined_cells(rest, groups, relations=[r for r in relations if r])
    # the cells no group names (no unknown of the reduced equations) are unknowns too
    assert reduced.determined_with(constants, extra, rest) == expected


def test_a_sum_of_two_unknowns_pinned_by_an_extra_equation() -> None:
    """``t = a + b`` with ``t`` published: neither is determined, until ``a = b`` holds too
    (an implicit equality of check 4), then both are; with ``a`` made constant, ``b``."""
    a, b, t = _cell(1), _cell(2), _cell(3)
    reduced: Elimination[Key] = Elimination([Group(t, (a, b)).equation()])
    reduced.add(a)
    reduced.add(b)
    assert reduced.determined_with(set(), [], [a, b]) == set()
    assert reduced.determined_with(set(), [{a: 1, b: -1}], [a, b]) == {a, b}
    assert reduced.determined_with({a}, [], [a, b]) == {b}
    assert a in reduced  # the state is left as it was
    assert reduced.determined() == set()

"""Secondary suppression (pure) and the trend test."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dief.reporting import Group, determined_cells, protect, trend_flag, z_score
from dief.reporting._suppression import Key
from dief.shapes import Trend

# ------------------------------------------------------------------------ trend test


@pytest.mark.parametrize(
    ("now", "previous", "flag"),
    [
        (5, 0, Trend.NEW),
        (4, 0, Trend.STABLE),  # below min_count
        (3, 1, Trend.STABLE),  # c + p < 5
        (20, 8, Trend.RISING),  # z = 12 / sqrt(28) = 2.27
        (8, 20, Trend.FALLING),
        (12, 8, Trend.STABLE),  # z = 0.89
        (0, 9, Trend.FALLING),  # z = -3
        (10, 10, Trend.STABLE),
        (16, 5, Trend.RISING),  # z = 11 / sqrt(21) = 2.40
        (13, 6, Trend.STABLE),  # z = 7 / sqrt(19) = 1.606
    ],
)
def test_trend_flags(now: int, previous: int, flag: Trend) -> None:
    assert trend_flag(now, previous) is flag


def test_trend_boundary_is_inclusive() -> None:
    # z exactly 1.96 would need irrational counts; check both sides of the boundary.
    assert z_score(25, 9) == pytest.approx(16 / math.sqrt(34))
    assert trend_flag(25, 9) is Trend.RISING  # z = 2.74
    assert trend_flag(9, 4, z=(9 - 4) / math.sqrt(13)) is Trend.RISING
    assert z_score(0, 0) is None
    with pytest.raises(ValueError, match="negative"):
        trend_flag(-1, 2)


# ------------------------------------------------------------------------ suppression


def _k(table: str, value: str) -> Key:
    return (table, "d", value)


def test_single_suppressed_member_gets_a_partner() -> None:
    total = ("R", "_total", "_all")
    a, b, c = _k("R", "a"), _k("R", "b"), _k("R", "c")
    counts = {total: 20, a: 2, b: 5, c: 13}
    result = protect(counts, [a], [Group(total, (a, b, c))])
    assert result.suppressed == {a, b}  # the smallest other member
    assert result.secondary == {b}


def test_forced_ones_are_protected() -> None:
    # Two suppressed cells of count 1 under a published total: both must be 1.
    total = ("R", "_total", "_all")
    a, b, c, d = (_k("R", v) for v in "abcd")
    counts = {total: 10, a: 1, b: 1, c: 1, d: 7}
    result = protect(counts, [a, b], [Group(total, (a, b, c, d))])
    hidden = result.suppressed
    remainder = counts[total] - sum(counts[x] for x in (a, b, c, d) if x not in hidden)
    members_hidden = [x for x in (a, b, c, d) if x in hidden]
    assert remainder > len(members_hidden) or total in hidden
    assert d in hidden  # c (also 1) would not help; the 7 does


def test_lonely_marginal_takes_a_member() -> None:
    glob = ("G", "d", "v")
    r1, r2 = ("R1", "d", "v"), ("R2", "d", "v")
    counts = {glob: 9, r1: 4, r2: 5}
    result = protect(counts, [glob], [Group(glob, (r1, r2))])
    assert r1 in result.suppressed  # otherwise glob = r1 + r2


def test_linear_combination_is_caught() -> None:
    # Two groups, each with two suppressed cells, but x is the difference of two published
    # marginals: x + y = 10 and y = 6 (y also alone with a published marginal elsewhere).
    m1, m2 = ("T", "_total", "_all"), ("U", "_total", "_all")
    x, y, z, w = _k("T", "x"), _k("T", "y"), _k("U", "z"), _k("U", "w")
    groups = [Group(m1, (x, y)), Group(m2, (y,))]
    counts = {m1: 10, m2: 6, x: 4, y: 6, z: 1, w: 1}
    assert determined_cells({x, y}, groups) == {x, y}
    result = protect(counts, [x], groups)
    assert determined_cells(result.suppressed, groups) == set()


def _attacker_recovers(
    counts: dict[Key, int], hidden: frozenset[Key], groups: list[Group]
) -> set[Key]:
    """Independent attacker: linear algebra (numpy) plus the forced-ones bound per group."""
    unknown = sorted(hidden)
    index = {key: i for i, key in enumerate(unknown)}
    rows = []
    recovered: set[Key] = set()
    for group in groups:
        row = np.zeros(len(unknown))
        for m in group.members:
            if m in index:
                row[index[m]] += 1
        if group.marginal in index:
            row[index[group.marginal]] -= 1
        if row.any():
            rows.append(row)
        if group.marginal not in hidden:
            hidden_members = [m for m in group.members if m in hidden]
            published = sum(counts[m] for m in group.members if m not in hidden)
            if hidden_members and counts[group.marginal] - published == len(hidden_members):
                recovered.update(hidden_members)
    if rows:
        matrix = np.array(rows)
        rank = np.linalg.matrix_rank(matrix)
        for key, i in index.items():
            unit = np.zeros(len(unknown))
            unit[i] = 1
            if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
                recovered.add(key)
    return recovered


@st.composite
def linked_tables(draw: st.DrawFn) -> tuple[dict[Key, int], set[Key], list[Group]]:
    """Regions by values of one single-valued dimension, with totals and global sums."""
    regions = [f"R{i}" for i in range(draw(st.integers(2, 4)))]
    values = [f"v{i}" for i in range(draw(st.integers(2, 4)))]
    counts: dict[Key, int] = {}
    for r in regions:
        for v in values:
            n = draw(st.integers(0, 6))
            if n:
                counts[(r, "d", v)] = n
    groups: list[Group] = []
    for table in [*regions, "G"]:
        members = tuple(k for k in counts if k[0] == table)
        if table == "G":
            continue
        if members:
            total = (table, "_total", "_all")
            counts[total] = sum(counts[m] for m in members)
            groups.append(Group(total, members))
    for v in values:
        members = tuple(k for k in counts if k[0] != "G" and k[1] == "d" and k[2] == v)
        if members:
            counts[("G", "d", v)] = sum(counts[m] for m in members)
            groups.append(Group(("G", "d", v), members))
    totals = tuple(k for k in counts if k[1] == "_total" and k[0] != "G")
    if totals:
        counts[("G", "_total", "_all")] = sum(counts[t] for t in totals)
        groups.append(Group(("G", "_total", "_all"), totals))
        gmembers = tuple(k for k in counts if k[0] == "G" and k[1] == "d")
        groups.append(Group(("G", "_total", "_all"), gmembers))
    primary = {k for k in counts if draw(st.integers(0, 4)) == 0}
    return counts, primary, groups


@settings(max_examples=150, deadline=None)
@given(linked_tables())
def test_no_suppressed_cell_is_recoverable(
    case: tuple[dict[Key, int], set[Key], list[Group]],
) -> None:
    counts, primary, groups = case
    result = protect(counts, primary, groups)
    assert primary <= result.suppressed
    assert _attacker_recovers(counts, result.suppressed, groups) == set()
    for group in groups:  # no group is left with exactly one suppressed cell
        assert sum(c in result.suppressed for c in group.cells) != 1

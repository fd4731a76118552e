"""Secondary suppression (pure) and the trend test."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dief.digests import trend_flag, z_score
from dief.disclosure import (
    Earlier,
    Elimination,
    Group,
    Key,
    Protection,
    _prune,
    determined_cells,
    protect,
)
from dief.disclosure._bounds import pinned_cells
from dief.exceptions import DiefError, DisclosureError, UnprotectedCellError
from dief.wire import Trend
from tests.unit.reporting_attack import Issue, recover

if TYPE_CHECKING:
    import random
    from collections.abc import Collection, Sequence
    from typing import Any

    from dief.disclosure._search import _Search


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


def _attacker_recovers(  # noqa: C901  one attacker: its bounds, then its guesses, in one reading
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
                counts[r, "d", v] = n
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
            counts["G", "d", v] = sum(counts[m] for m in members)
            groups.append(Group(("G", "d", v), members))
    totals = tuple(k for k in counts if k[1] == "_total" and k[0] != "G")
    if totals:
        counts["G", "_total", "_all"] = sum(counts[t] for t in totals)
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


@settings(max_examples=100, deadline=None)
@given(linked_tables(), st.randoms(use_true_random=False))
def test_the_kept_elimination_equals_eliminating_from_scratch(
    case: tuple[dict[Key, int], set[Key], list[Group]], rng: random.Random
) -> None:
    """Elimination, kept reduced while cells are hidden one by one, finds exactly the
    determined cells a fresh elimination finds; and hiding a cell it names as undetermining
    a determined cell on its own does so."""
    counts, _, groups = case
    live = [g for g in groups if g.members]
    order = sorted(counts)
    rng.shuffle(order)
    kept: Elimination[Key] = Elimination([g.equation() for g in live])
    hidden: set[Key] = set()
    for cell in order[: rng.randint(1, len(order))]:
        kept.add(cell)
        hidden.add(cell)
        determined = kept.determined()
        assert determined == determined_cells(hidden, live)
        for leak in sorted(determined)[:2]:
            for source, alone in kept.sources(leak):
                assert source not in hidden
                if alone:
                    assert leak not in determined_cells(hidden | {source}, live)


# ------------------------------------------------------------------------ re-issues

Base = dict[tuple[str, str], frozenset[int]]  # (region, value) -> the cases' contributors
Drawn = tuple[dict[tuple[str, str], int], Base, dict[tuple[str, str], int], Base]


def _linked(
    counts_of: dict[tuple[str, str], int], who: Base, *, also: Collection[Key] = (), k: int = 3
) -> tuple[dict[Key, int], set[Key], list[Group]]:
    """Regional tables of one dimension (with totals), global cells and the global total,
    with the primary suppressions (fewer than *k* contributors). *also* lists cells of an
    earlier issue that may count zero now."""
    counts: dict[Key, int] = {}
    nodes: dict[Key, set[int]] = {}
    for (r, v), n in counts_of.items():
        if n <= 0 and (r, "d", v) not in also:
            continue
        for key in ((r, "d", v), (r, "_total", "_all"), ("G", "d", v), ("G", "_total", "_all")):
            counts[key] = counts.get(key, 0) + n
            nodes.setdefault(key, set()).update(who[r, v] if n > 0 else ())
    for key in also:  # a total of a table that is now empty
        counts.setdefault(key, 0)
        nodes.setdefault(key, set())
    groups: list[Group] = []
    regions = sorted({r for r, _ in counts_of})
    values = sorted({v for _, v in counts_of})
    for r in regions:
        members = tuple(k for k in sorted(counts) if k[0] == r and k[1] == "d")
        if members:
            groups.append(Group((r, "_total", "_all"), members))
    for v in values:
        members = tuple(k for k in sorted(counts) if k[0] != "G" and k[1:] == ("d", v))
        if members:
            groups.append(Group(("G", "d", v), members))
    grand = ("G", "_total", "_all")
    if grand in counts:
        groups.extend(
            (
                Group(grand, tuple(k for k in sorted(counts) if k[0] != "G" and k[1] == "_total")),
                Group(grand, tuple(k for k in sorted(counts) if k[0] == "G" and k[1] == "d")),
            )
        )
    primary = {key for key, n in counts.items() if n > 0 and len(nodes[key]) < k}
    return counts, primary, groups


def _issue(counts: dict[Key, int], hidden: frozenset[Key], groups: list[Group]) -> Issue:
    return Issue(
        {k: n for k, n in counts.items() if k not in hidden},
        hidden,
        [(g.marginal, g.members) for g in groups],
        {k: counts[k] for k in hidden},
    )


@st.composite
def reissued(draw: st.DrawFn) -> Drawn:
    """Two issues of the same tables: cells grow, shrink, vanish, appear or stay as they
    were (count and contributors)."""
    regions = [f"R{i}" for i in range(draw(st.integers(2, 4)))]
    values = [f"v{i}" for i in range(draw(st.integers(2, 4)))]

    def people(n: int) -> frozenset[int]:
        if n <= 0:
            return frozenset()
        return frozenset(draw(st.lists(st.integers(0, 5), min_size=1, max_size=min(n, 4))))

    n1 = {(r, v): draw(st.integers(0, 7)) for r in regions for v in values}
    w1 = {cell: people(n) for cell, n in n1.items()}
    n2: dict[tuple[str, str], int] = {}
    w2: Base = {}
    for cell, n in n1.items():
        if draw(st.booleans()):
            n2[cell], w2[cell] = n, w1[cell]
        else:
            n2[cell] = max(0, n + draw(st.sampled_from([1, 2, 4, -1, -2, -7])))
            w2[cell] = people(n2[cell]) | (w1[cell] if n2[cell] > n else frozenset())
    return n1, w1, n2, w2


def _reissue(
    drawn: Drawn, prefer: Collection[Key] = frozenset()
) -> tuple[list[Issue], set[Key], Protection, Protection, dict[Key, int]]:
    n1, w1, n2, w2 = drawn
    counts_one, primary_one, groups_one = _linked(n1, w1)
    first = protect(counts_one, primary_one, groups_one)
    counts_two, primary_two, groups_two = _linked(n2, w2, also=counts_one.keys())
    unchanged = frozenset(k for k, n in counts_one.items() if counts_two.get(k) == n)
    earlier = Earlier(first.suppressed, tuple(groups_one), unchanged - first.suppressed)
    second = protect(counts_two, primary_two, groups_two, earlier=earlier, prefer=prefer)
    issues = [
        _issue(counts_one, first.suppressed, groups_one),
        _issue(counts_two, second.suppressed, groups_two),
    ]
    # the attacker knows which cells changed (equal counts), not by how much
    return issues, set(unchanged), first, second, counts_two


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(reissued(), st.booleans())
def test_two_issues_together_reveal_no_suppressed_cell(drawn: Drawn, prefer_some: bool) -> None:
    prefer = frozenset(sorted(_linked(drawn[2], drawn[3])[0])[::2]) if prefer_some else frozenset()
    issues, unchanged, first, second, counts_two = _reissue(drawn, prefer)
    # re-issue stability: what the first issue hid, the second hides too (even at zero)
    assert first.suppressed <= second.suppressed
    assert second.kept == first.suppressed - second.primary
    assert recover(issues[:1]) == set()
    # alone, the second issue gives away at most what the first published already (a
    # cell of unchanged count whose contributors fell below k)
    public = {(0, k) for k in unchanged if k in issues[0].known}
    assert recover(issues[1:]) <= public
    assert recover(issues, unchanged) == set()
    # rebuilding the second issue against itself changes nothing (idempotent re-issue)
    _, _, groups_two = _linked(drawn[2], drawn[3], also=counts_two.keys())
    published = frozenset(k for k, n in counts_two.items() if n and k not in second.suppressed)
    again = protect(
        counts_two,
        second.primary,
        groups_two,
        earlier=Earlier(second.suppressed, tuple(groups_two), published),
        prefer=prefer,
    )
    assert again.suppressed == second.suppressed


def test_the_naive_reissue_leaks_to_the_two_issue_attacker() -> None:
    """Keeping old suppressions is not enough: a cell unchanged since the first issue,
    hidden in the second to protect a new cell, is known to a reader of both."""
    total = ("R", "_total", "_all")
    a, b, c, p = (_k("R", v) for v in "abcp")
    one = {total: 20, a: 4, b: 7, c: 9}
    two = {total: 22, a: 4, b: 7, c: 9, p: 2}  # p is new, below k
    g1, g2 = [Group(total, (a, b, c))], [Group(total, (a, b, c, p))]
    naive = protect(two, [p], g2)
    assert naive.suppressed == {p, a}  # a did not change
    issues = [_issue(one, frozenset(), g1), _issue(two, naive.suppressed, g2)]
    assert (1, p) in recover(issues, {a, b, c})
    earlier = Earlier(frozenset(), tuple(g1), frozenset({a, b, c}))
    safe = protect(two, [p], g2, earlier=earlier)
    assert safe.suppressed == {p, total}  # a, b, c are public: the total must go
    issues = [_issue(one, frozenset(), g1), _issue(two, safe.suppressed, g2)]
    assert recover(issues, {a, b, c}) == set()


def test_cells_hidden_in_both_issues_are_compared() -> None:
    """Cells hidden in the first issue must stay hidden, and two cells hidden in both and
    unchanged have a sum known from the first: a new cell beside them would be the
    difference of the two totals."""
    total = ("R", "_total", "_all")
    a, b, c, p = (_k("R", v) for v in "abcp")
    one = {total: 20, a: 1, b: 4, c: 15}
    two = {total: 22, a: 1, b: 4, c: 15, p: 2}
    g1, g2 = [Group(total, (a, b, c))], [Group(total, (a, b, c, p))]
    unchanged = {a, b, c}
    first = protect(one, [a], g1)
    assert first.suppressed == {a, b}

    def attack(second: frozenset[Key]) -> set[tuple[int, object]]:
        issues = [_issue(one, first.suppressed, g1), _issue(two, second, g2)]
        return recover(issues, unchanged)

    fresh = protect(two, [a, p], g2)  # each issue on its own is safe
    assert fresh.suppressed == {a, p}
    assert (0, a) in attack(fresh.suppressed)  # b is published now: a = 20 - 4 - 15
    kept_only = protect(two, [a, b, p], g2)
    assert kept_only.suppressed == {a, b, p}
    assert (1, p) in attack(kept_only.suppressed)  # p = (22 - 15) - (20 - 15)
    earlier = Earlier(first.suppressed, tuple(g1), frozenset({c}))
    second = protect(two, [a, p], g2, earlier=earlier)
    assert second.suppressed == {a, b, p, total}
    assert second.kept == {b}
    assert attack(second.suppressed) == set()


def test_a_vanished_cell_stays_listed() -> None:
    total = ("R", "_total", "_all")
    a, b, c = (_k("R", v) for v in "abc")
    one = {total: 12, a: 1, b: 2, c: 9}
    g1 = [Group(total, (a, b, c))]
    first = protect(one, [a, b], g1)
    two = {total: 13, a: 0, b: 3, c: 10}  # a's case was revised away
    earlier = Earlier(first.suppressed, tuple(g1), frozenset())
    second = protect(two, [], g1, earlier=earlier)
    assert a in second.suppressed
    assert a in second.kept
    with pytest.raises(DiefError, match="not listed"):
        protect({total: 13, b: 3, c: 10}, [], [Group(total, (b, c))], earlier=earlier)


def test_prior_cycle_breaks_ties() -> None:
    total = ("R", "_total", "_all")
    a, b, c, d = (_k("R", v) for v in "abcd")
    counts = {total: 20, a: 2, b: 5, c: 5, d: 8}
    group = [Group(total, (a, b, c, d))]
    assert protect(counts, [a], group).secondary == {b}
    assert protect(counts, [a], group, prefer={c}).secondary == {c}
    assert protect(counts, [a], group, prefer={d}).secondary == {b}  # a tie-breaker only


# ------------------------------------------------------------------------ check 4 gives up


_ITEM = "item_category"
_TOTAL = ("_total", "_all")


def test_a_cell_pinned_through_the_bounds_gets_a_bound_aware_suppression() -> None:
    """October counts 4 cases, item ``x`` 2 (published) and ``y`` 2 (one State: hidden);
    November's ``y`` is 1 (hidden); the quarter's ``y``, 3, is known from elsewhere (as a
    published CSP summary cell). The item categories count at least the total, so
    October's ``y`` ≥ 4 - 2 = 2, November's ≥ 1, and together they make 3: both are pinned,
    and no sum group has a cell left to hide (check 4 used to take them as given and
    publish the pattern: a silent leak in a first issue). Hiding October's ``x`` (the bound
    ``x + y ≥ total``) frees them."""
    oct_y, nov_y, q_y = ("2025-10", _ITEM, "y"), ("2025-11", _ITEM, "y"), ("2025-Q4", _ITEM, "y")
    oct_x, oct_total = ("2025-10", _ITEM, "x"), ("2025-10", *_TOTAL)
    counts = {oct_total: 4, oct_x: 2, oct_y: 2, nov_y: 1, q_y: 3}
    groups = [Group(q_y, (oct_y, nov_y))]
    done = protect(counts, {oct_y, nov_y}, groups, known={q_y}, bounds=True, reserve={oct_total})
    assert oct_x in done.suppressed
    assert q_y not in done.suppressed, "a cell known from elsewhere is never hidden"
    assert oct_total not in done.suppressed
    assert pinned_cells(counts, done.suppressed, groups) == set()


def test_a_first_issue_never_publishes_a_pinned_cell_silently() -> None:
    """Two months' cells of one case each, hidden, under a quarter cell of 2 a reader knows
    from elsewhere: each is 1 whatever else is hidden. A first issue raises, naming the
    table and the cell, rather than publish the pattern (it used to hide the known quarter
    in the document while every check counted it published, and return)."""
    oct_x, nov_x, q_x = _k("2025-10", "x"), _k("2025-11", "x"), _k("2025-Q4", "x")
    counts = {oct_x: 1, nov_x: 1, q_x: 2}
    groups = [Group(q_x, (oct_x, nov_x))]
    with pytest.raises(UnprotectedCellError, match="d/x of table 2025-1") as raised:
        protect(counts, {oct_x, nov_x}, groups, known={q_x}, bounds=True)
    assert raised.value.cell in {oct_x, nov_x}
    assert isinstance(raised.value, DisclosureError)


# ------------------------------------------------------------------------ pruning


_M1, _M2, _M3 = (("2026-0" + m, *_TOTAL) for m in "123")
_Q1 = ("2026-Q1", *_TOTAL)


def _cascade() -> tuple[dict[Key, int], set[Key], list[Group]]:
    """A quarter of three months, each month's cells all primary (fewer than k
    contributors). January's two cells count one case each: its published total would pin
    them (check 2), so it goes first; the quarter's sum then has one unknown and takes the
    smallest of the other totals (February's, 3; March's is 5), all of them reserved.
    March's one cell is its total, so that goes next (check 1), after which February's
    protects nothing."""
    jan = [("2026-01", "kind", v) for v in "ab"]
    feb = [("2026-02", "kind", v) for v in "ab"]
    mar = [("2026-03", "kind", "a")]
    counts: dict[Key, int] = {_M1: 2, _M2: 3, _M3: 5, _Q1: 10}
    counts.update(dict.fromkeys(jan, 1))
    counts.update({feb[0]: 1, feb[1]: 2, mar[0]: 5})
    groups = [
        Group(_M1, tuple(jan)),
        Group(_Q1, (_M1, _M2, _M3)),
        Group(_M2, tuple(feb)),
        Group(_M3, tuple(mar)),
    ]
    return counts, {*jan, *feb, *mar}, groups


def _leaked(counts: dict[Key, int], hidden: Collection[Key], groups: list[Group]) -> set[Key]:
    """What a reader computes (rref) or pins (linear programming) among *hidden*."""
    return determined_cells(hidden, groups) | pinned_cells(counts, hidden, groups)


def test_publishing_every_total_the_search_hid_gives_cells_away() -> None:
    """The attack the pruning guards against: the totals the search hid are not all
    spare. Published all at once, January's pins its cells (each is 1) and March's is its
    one cell; with only March's hidden, the quarter's sum computes it."""
    counts, primary, groups = _cascade()
    totals = {_M1, _M2, _M3, _Q1}
    done = protect(counts, primary, groups, reserve=totals, bounds=True, prune=False)
    naive = done.suppressed - totals
    assert _leaked(counts, naive, groups) == primary - {("2026-02", "kind", v) for v in "ab"}
    assert _M3 in _leaked(counts, naive | {_M3}, groups)
    assert _leaked(counts, done.suppressed, groups) == set()


def test_a_total_hidden_by_the_cascade_is_published_again() -> None:
    """February's total protected January's in the quarter until March's was hidden too:
    the pruning publishes it. January's and March's stay hidden: publishing either alone
    breaks a check (January's pins its cells and lets the quarter compute March's; March's
    is its one cell)."""
    counts, primary, groups = _cascade()
    totals = {_M1, _M2, _M3, _Q1}
    done = protect(counts, primary, groups, reserve=totals, bounds=True, prune=True)
    assert done.secondary == {_M1, _M3}
    assert _leaked(counts, done.suppressed, groups) == set()
    for total in (_M1, _M3):
        assert _leaked(counts, done.suppressed - {total}, groups), total
    # without the bounds (check 4) the same: check 2 sees January's forced ones
    assert protect(counts, primary, groups, reserve=totals, prune=True).secondary == {_M1, _M3}


def test_a_total_and_its_sole_value_are_published_again_together() -> None:
    """A total whose period lists one value of a dimension (February: one kind, 3 cases)
    is that value's twin: the search hides both (the value to protect the hidden total),
    and each alone, published, gives the other away. Tried one by one, neither could be
    published again (the realistic forum's every total has such a twin: one kind of
    case); the pruning tries a total with its twins, and publishes both."""
    counts, primary, groups = _cascade()
    feb = [("2026-02", "kind", v) for v in "ab"]
    sole = ("2026-02", "kind", "a")
    for cell in feb:
        del counts[cell]
    counts[sole] = 3
    groups = [g for g in groups if g.marginal != _M2] + [Group(_M2, (sole,))]
    primary -= set(feb)
    totals = {_M1, _M2, _M3, _Q1}
    searched = protect(counts, primary, groups, reserve=totals, bounds=True, prune=False)
    assert {_M2, sole} <= searched.secondary  # the cascade took both
    done = protect(counts, primary, groups, reserve=totals, bounds=True, prune=True)
    assert done.secondary == {_M1, _M3}
    assert _leaked(counts, done.suppressed, groups) == set()
    assert _leaked(counts, done.suppressed - {_M1}, groups)


def test_a_class_refused_for_a_cell_published_later_is_tried_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refusal names the cells the publication exposes; once all of them are published
    later, none is protected any more, so the refused class is tried again (a second
    pass). Here March's total (tried first, the largest) is made to refuse for exposing
    February's, which is published next: March's is tried again, and the real checks
    refuse it (its one cell)."""
    counts, primary, groups = _cascade()
    totals = {_M1, _M2, _M3, _Q1}
    real = _prune._attempt
    tried: list[tuple[Key, ...]] = []

    def attempt(search: _Search, twins: Sequence[Key], **options: Any) -> frozenset[Key] | None:  # noqa: ANN401  _attempt's keywords, passed on
        tried.append(tuple(twins))
        if tried.count((_M3,)) == 1 and tuple(twins) == (_M3,):
            return frozenset({_M2})
        return real(search, twins, **options)

    monkeypatch.setattr(_prune, "_attempt", attempt)
    done = protect(counts, primary, groups, reserve=totals, bounds=True, prune=True)
    assert tried.count((_M3,)) == 2
    assert tried.index((_M2,)) < len(tried) - 1 - tried[::-1].index((_M3,))
    assert done.secondary == {_M1, _M3}


def test_a_class_refused_for_a_cell_still_hidden_is_not_tried_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refusal stands while one cell it exposed stays hidden: what the checks expose
    stays exposed as more is published, so a retry could only fail (each cost a check of
    the whole system: at 10 years, 154 retries, none published). March's total is made to
    refuse for exposing February's total and a January cell (primary, never published):
    February's publication does not bring March's back."""
    counts, primary, groups = _cascade()
    totals = {_M1, _M2, _M3, _Q1}
    real = _prune._attempt
    tried: list[tuple[Key, ...]] = []

    def attempt(search: _Search, twins: Sequence[Key], **options: Any) -> frozenset[Key] | None:  # noqa: ANN401  _attempt's keywords, passed on
        tried.append(tuple(twins))
        if tuple(twins) == (_M3,):
            return frozenset({_M2, ("2026-01", "kind", "a")})
        return real(search, twins, **options)

    monkeypatch.setattr(_prune, "_attempt", attempt)
    done = protect(counts, primary, groups, reserve=totals, bounds=True, prune=True)
    assert _M2 not in done.secondary  # published after March's refusal
    assert tried.count((_M3,)) == 1


def test_the_pruning_never_publishes_a_cell_an_earlier_issue_suppressed() -> None:
    """In a re-issue, February's total suppressed by the earlier issue is kept hidden even
    where nothing needs it now."""
    counts, primary, groups = _cascade()
    totals = {_M1, _M2, _M3, _Q1}
    earlier = Earlier(frozenset({*primary, _M1, _M2, _M3}), tuple(groups), frozenset({_Q1}))
    done = protect(
        counts, primary, groups, reserve=totals, bounds=True, earlier=earlier, prune=True
    )
    assert done.suppressed == {*primary, _M1, _M2, _M3}
    assert done.kept == {_M1, _M2, _M3}


@pytest.mark.parametrize("seed", range(40))
def test_the_reduced_equations_publish_a_cell_as_a_fresh_elimination_would(seed: int) -> None:
    """:class:`~dief.disclosure.Elimination` (the pruning's methods): what publishing a
    hidden cell determines, read off the reduced rows, and the rows after it, equal a fresh
    elimination's."""
    import random as _random  # noqa: PLC0415  the module imports random for types only

    from dief.disclosure._elimination import Elimination  # noqa: PLC0415  the one test of these methods

    rng = _random.Random(seed)
    cells = [_k("T", str(i)) for i in range(12)]
    groups = [
        Group(rng.choice(cells), tuple(rng.sample(cells, rng.randint(2, 4))))
        for _ in range(rng.randint(3, 8))
    ]
    hidden = set(rng.sample(cells, rng.randint(3, 10)))
    elimination: Elimination[Key] = Elimination([g.equation() for g in groups])
    for cell in sorted(hidden):
        elimination.add(cell)
    while hidden:
        cell = rng.choice(sorted(hidden))
        before = determined_cells(hidden, groups)
        after = determined_cells(hidden - {cell}, groups)
        assert elimination.determined_without(cell) == after - before - {cell}
        elimination.forget(cell)
        hidden.discard(cell)
        assert elimination.determined() == after

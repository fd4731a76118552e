"""Check 4 with the search's reduced equations (``BoundSystem.pinned(..., reduced=...)``,
``Elimination.determined_with``) against step 2 done exactly over the whole system from
scratch, in a system kept while cells are hidden and published again at random (as a search
hides and the pruning publishes), with relations, floors, unlisted cells and ignored cells
(which let step 2 run where cells are held at their least value)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import pytest

from dief.disclosure import _kept, _prune, _search
from dief.disclosure._bounds import BoundSystem
from dief.disclosure._bounds_lp import ITEMS
from dief.disclosure._elimination import Elimination
from dief.disclosure._suppression import Group, Key, Protection, determined_cells, protect
from dief.exceptions import UnprotectedCellError
from tests.unit.bounds_helpers import quarter_tables

if TYPE_CHECKING:
    from collections.abc import Sequence

    from dief.disclosure._kept import KeptCheck4

SYSTEMS = 60


def _relations(rng: random.Random, counts: dict[Key, int]) -> list[dict[Key, int]]:
    """A few relations holding at the counts: two cells of equal count, or one the sum of
    two (cells of other tables: joins no group does), and cells no group names."""
    cells = sorted(counts)
    out: list[dict[Key, int]] = []
    for _ in range(rng.randint(0, 3)):
        a, b, c = rng.sample(cells, 3)
        if counts[a] == counts[b]:
            out.append({a: 1, b: -1})
        elif counts[a] + counts[b] == counts[c]:
            out.append({a: 1, b: 1, c: -1})
    return out


def _exact(
    system: BoundSystem,
    hidden: set[Key],
    unlisted: frozenset[Key],
    ignore: frozenset[Key],
    groups: list[Group],
    relations: list[dict[Key, int]],
) -> set[Key]:
    """``pinned`` with step 1 as the system finds it and step 2 an exact elimination of the
    whole system (every group and relation, every hidden cell but those at their least
    value unknown, every tight row an equation)."""
    parts = system._parts(frozenset(hidden), unlisted)
    system._solve_together(parts, unlisted, frozenset(hidden))
    at_least: set[Key] = set()
    extra: list[dict[Key, int]] = []
    any_tight = False
    for part in parts:
        tight = system._tight_part(part, unlisted)
        at_least |= tight.at_least
        extra.extend(tight.extra)
        any_tight |= bool(tight.at_least or tight.extra)
    if at_least - ignore or not any_tight:
        return at_least
    rest = hidden - at_least
    rows = [{c: v for c, v in r.items() if c not in at_least} for r in [*relations, *extra]]
    return at_least | determined_cells(rest, groups, relations=[r for r in rows if r])


@pytest.mark.parametrize("seed", range(SYSTEMS))
def test_reduced_step_two_is_the_exact_one(seed: int) -> None:
    rng = random.Random(seed)
    counts, groups = quarter_tables(rng)
    relations = _relations(rng, counts)
    cells = sorted(counts)
    floors = {c: 2 for c in cells if counts[c] >= 2 and rng.random() < 0.15}
    unlisted = frozenset(c for c in cells if rng.random() < 0.15)
    kept = BoundSystem(counts, groups, relations=relations, floors=floors)
    reduced: Elimination[Key] = Elimination([*(g.equation() for g in groups), *relations])
    hidden: set[Key] = set()
    asked = stepped = 0
    for _ in range(3 * len(counts)):
        cell = rng.choice(cells)
        if cell in hidden:
            hidden.discard(cell)
            reduced.forget(cell)
        else:
            hidden.add(cell)
            reduced.add(cell)
        if not hidden:
            continue
        fresh = BoundSystem(counts, groups, relations=relations, floors=floors)
        # ignore: sometimes every cell held at its least value (so step 2 runs), plus some
        ignore = {c for c in hidden if rng.random() < 0.2}
        if rng.random() < 0.6:
            probe = BoundSystem(counts, groups, relations=relations, floors=floors)
            ignore |= probe.pinned(hidden, unlisted=unlisted, ignore=hidden)
        # as a search asks: the equations alone determine none but ignored ones (check 3)
        if determined_cells(hidden, groups, relations=relations) - ignore:
            continue
        frozen = frozenset(ignore)
        expected = _exact(fresh, hidden, unlisted, frozen, groups, relations)
        got = kept.pinned(hidden, unlisted=unlisted, ignore=frozen, reduced=reduced)
        assert got - frozen == expected - frozen, (sorted(hidden), sorted(frozen))
        # and from scratch, without the reduced equations (every relation of the part)
        scratch = BoundSystem(counts, groups, relations=relations, floors=floors)
        assert scratch.pinned(hidden, unlisted=unlisted, ignore=frozen) - frozen == (
            expected - frozen
        )
        asked += 1
        stepped += bool(expected - frozen)
    assert asked


def test_both_paths_find_a_cell_a_relation_ties_to_a_cell_at_its_least() -> None:
    """``t = a + b`` (t published, 2), ``a = y`` a relation, ``y`` unlisted (least 0): a and
    b are held at 1, so y = 1. With a and b ignored (given or free), step 2 runs: the
    reduced equations find y, and so does the path from scratch (before session 15's fix it
    walked the groups reached from a and b only, not the relations, and found nothing)."""
    t, a, b = ("m", "_total", "_all"), ("m", "kind", "a"), ("m", "kind", "b")
    y = ("x", "kind", "y")
    counts = {t: 2, a: 1, b: 1, y: 1}
    groups = [Group(t, (a, b))]
    relations = [{a: 1, y: -1}]
    hidden = {a, b, y}
    unlisted = frozenset({y})
    ignore = frozenset({a, b})
    reduced: Elimination[Key] = Elimination([*(g.equation() for g in groups), *relations])
    for cell in sorted(hidden):
        reduced.add(cell)
    new = BoundSystem(counts, groups, relations=relations).pinned(
        hidden, unlisted=unlisted, ignore=ignore, reduced=reduced
    )
    old = BoundSystem(counts, groups, relations=relations).pinned(
        hidden, unlisted=unlisted, ignore=ignore
    )
    assert y in new
    assert y in old


def _contract_holds(search: _search._Search) -> None:
    """The elimination's unknowns are exactly the search's hidden cells but known ones
    (those some equation names)."""
    elim = search.elimination
    unknown = {c for c in search.hidden if c not in search.known}
    assert elim.unknowns() == {c for c in unknown if elim.names(c)}


def _run_inputs(
    rng: random.Random,
) -> tuple[dict[Key, int], list[Group], list[dict[Key, int]], set[Key], frozenset[Key]]:
    """A ``protect`` run's inputs: a random quarter, its relations, a few primary cells,
    and its other totals reserved."""
    counts, groups = quarter_tables(rng)
    relations = _relations(rng, counts)
    cells = sorted(counts)
    primary = set(rng.sample(cells, rng.randint(1, 3)))
    reserve = frozenset(c for c in cells if c[1:] == ("_total", "_all") and c not in primary)
    return counts, groups, relations, primary, reserve


@pytest.mark.parametrize("seed", range(40))
def test_a_search_reads_check_four_as_a_fresh_system_does(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole ``protect`` run with check 4 (and pruning, which publishes and hides again):
    at every check 4 the reduced equations are over exactly the search's unknowns, and the
    answer is what a fresh system pins without them (where that path is exact); at the end
    no hidden cell is pinned (but free ones)."""
    rng = random.Random(1000 + seed)
    counts, groups, relations, primary, reserve = _run_inputs(rng)
    original = _search._Search.pinned
    calls = []

    def checked(self: _search._Search, floor0: frozenset[Key]) -> set[Key]:
        _contract_holds(self)
        got = original(self, floor0)
        unknown = {c for c in self.hidden if c not in self.known}
        ignore = self.given | self.free
        exact = _exact(
            BoundSystem(counts, groups, relations=relations, floors=self.floors),
            unknown,
            floor0,
            frozenset(ignore),
            groups,
            relations,
        )
        assert got == exact - ignore
        calls.append(got)
        return got

    monkeypatch.setattr(_search._Search, "pinned", checked)
    prune = rng.random() < 0.5
    try:
        done = protect(
            counts, primary, groups, relations=relations, bounds=True, reserve=reserve, prune=prune
        )
    except UnprotectedCellError:
        return  # an unprotectable system: nothing to compare
    assert calls
    # and at the end, exactly
    fresh = BoundSystem(counts, groups, relations=relations)
    hidden = set(done.suppressed)
    assert not _exact(fresh, hidden, frozenset(), frozenset(), groups, relations)


@pytest.mark.parametrize("seed", range(40))
def test_the_pruning_reads_check_four_as_a_fresh_system_does(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pruning's check 4 kept in HiGHS (:class:`~dief.disclosure._kept.KeptCheck4`:
    a cell's column bound to zero, the last basis kept, step 2 read off the search's reduced
    equations over the cell's block): at every class it tries, its answer is what a fresh
    system, asked from scratch with that class published, pins; a refused class leaves
    nothing pinned behind it, and the pattern is the one the search's own (unkept) check 4
    gives."""
    rng = random.Random(2000 + seed)
    counts, groups, relations, primary, reserve = _run_inputs(rng)
    # free cells (least 0, ignored): held at 0 they let step 2 run
    free = frozenset(c for c in counts if c not in reserve and rng.random() < 0.2) - primary
    original = _prune._pinned
    asked: list[bool] = []

    def checked(search: _search._Search, twins: Sequence[Key], kept: KeptCheck4 | None) -> set[Key]:
        unknown = {c for c in search.hidden if c not in search.known}
        ignore = frozenset(search.given | search.free)
        fresh = BoundSystem(counts, groups, relations=relations, floors=search.floors)
        expected = _exact(fresh, unknown, search.unlisted, ignore, groups, relations) - ignore
        got = original(search, twins, kept)
        assert bool(got) == bool(expected), (twins, sorted(expected))
        assert got <= expected  # what it names is pinned
        asked.append(kept is not None)
        return got

    def run() -> Protection:
        return protect(
            counts,
            primary,
            groups,
            relations=relations,
            bounds=True,
            reserve=reserve,
            free=free,
            prune=True,
        )

    monkeypatch.setattr(_prune, "_pinned", checked)
    try:
        done = run()
    except UnprotectedCellError:
        return  # an unprotectable system: nothing to compare
    assert all(asked)  # a first issue from true counts: always kept
    fresh = BoundSystem(counts, groups, relations=relations)
    hidden = set(done.suppressed)
    assert not _exact(fresh, hidden, frozenset(), free, groups, relations) - free
    # the search's own check 4, asked from scratch each time, gives the same pattern
    monkeypatch.setattr(_kept.KeptCheck4, "start", classmethod(lambda _cls, _search: None))
    assert run().suppressed == done.suppressed


def test_the_pruning_refuses_a_total_that_pins_its_one_item_category() -> None:
    """A month of 3 cases, one kind (``a``, the total's twin) and one item category (``i``,
    fewer than k contributors: primary). ``i`` is at most the total and, the only item, at
    least it: equal in every solution, a tight link no equation states. The search hides
    the total (and its twin) to protect ``i``; the pruning tries them and must refuse, by
    check 4's step 2 alone (``i`` is not at its least value, and no equation names it)."""
    t, a, i = ("2026-01", "_total", "_all"), ("2026-01", "kind", "a"), ("2026-01", ITEMS, "x")
    counts = {t: 3, a: 3, i: 3}
    groups = [Group(t, (a,))]
    done = protect(counts, {i}, groups, bounds=True, reserve={t}, prune=True)
    assert done.suppressed == {t, a, i}
    assert not BoundSystem(counts, groups).pinned({t, a, i})
    assert BoundSystem(counts, groups).pinned({i}) == {i}

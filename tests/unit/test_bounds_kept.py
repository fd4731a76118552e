"""Check 4's step 1 kept in HiGHS across calls (:mod:`dief.disclosure._kept_cone`) answers
as the programme built from scratch over the unknowns of each call does.

A search asks check 4 after every round, with a few cells hidden (and, in the pruning's
fallback and ``bound_widen``, published) since the last call. Here random quarters are
asked a sequence of unknown sets, each a few cells away from the last, of one kept
system: every call's pinned cells, and each part's tight rows, equal those of a fresh
system that builds its programme from scratch (``keep=False``)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import pytest

from dief.disclosure import _kept_cone
from dief.disclosure._bounds import BoundSystem
from tests.unit.bounds_helpers import quarter_tables

if TYPE_CHECKING:
    from dief.disclosure._suppression import Key

SYSTEMS = 40
CALLS = 8


def _tight_rows(system: BoundSystem, unknown: set[Key], unlisted: frozenset[Key]) -> object:
    """Each part's tight rows: its cells held at their least value and its other rows."""
    parts = system._parts(frozenset(unknown), unlisted)
    system._solve_together(parts, unlisted, frozenset(unknown))
    out = {}
    for part in parts:
        tight = system._tight_part(part, unlisted)
        out[part] = (tight.at_least, {frozenset(row.items()) for row in tight.extra})
    return out


def _assert_as_from_scratch(
    system: BoundSystem, unknown: set[Key], unlisted: frozenset[Key]
) -> None:
    """*system*'s pinned cells and each part's tight rows for *unknown* are those of
    systems that build their programmes from scratch (``keep=False``)."""
    fresh = BoundSystem(system._counts, system._groups, keep=False)
    assert system.pinned(unknown, unlisted=unlisted) == fresh.pinned(unknown, unlisted=unlisted), (
        sorted(unknown)
    )
    again = BoundSystem(system._counts, system._groups, keep=False)
    assert _tight_rows(system, unknown, unlisted) == _tight_rows(again, unknown, unlisted)


def _walk(rng: random.Random, cells: list[Key]) -> list[set[Key]]:
    """*CALLS* unknown sets, each one to three cells hidden or published away from the last."""
    unknown = set(rng.sample(cells, max(1, len(cells) // 3)))
    out = [set(unknown)]
    for _ in range(CALLS - 1):
        for cell in rng.sample(cells, rng.randint(1, 3)):
            unknown ^= {cell}
        if not unknown:
            unknown.add(rng.choice(cells))
        out.append(set(unknown))
    return out


@pytest.mark.parametrize("seed", range(SYSTEMS))
def test_the_kept_programme_answers_as_one_built_from_scratch(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    counts, groups = quarter_tables(rng)
    cells = sorted(counts)
    unlisted = frozenset(rng.sample(cells, rng.randint(0, 2)))
    asked: list[int] = []
    real = _kept_cone.KeptCone.tight

    def tight(
        self: _kept_cone.KeptCone, unknown: set[Key], *, wanted: set[Key]
    ) -> list[int] | None:
        asked.append(len(unknown))
        return real(self, unknown, wanted=wanted)

    monkeypatch.setattr(_kept_cone.KeptCone, "tight", tight)
    kept = BoundSystem(counts, groups)
    for unknown in _walk(rng, cells):
        _assert_as_from_scratch(kept, unknown, unlisted)
    assert asked  # the kept programme answered (not the fallback)


@pytest.mark.parametrize("seed", range(SYSTEMS))
def test_parts_joined_from_an_earlier_walk_are_those_walked_from_scratch(seed: int) -> None:
    """``bound_widen``'s pattern: the search's unknowns, then each with one candidate more
    (joined to the earlier walk's parts, not walked again), back to the search's, then
    some hidden and published: every call's parts, pinned cells and tight rows are those
    of a fresh system."""
    rng = random.Random(1000 + seed)
    counts, groups = quarter_tables(rng)
    cells = sorted(counts)
    unlisted = frozenset(rng.sample(cells, rng.randint(0, 2)))
    base = set(rng.sample(cells, max(1, len(cells) // 3)))
    outside = [c for c in cells if c not in base]
    picks = rng.sample(outside, min(4, len(outside)))
    calls = [base, *({*base, p} for p in picks), base, base | set(picks)]
    calls.extend(_walk(rng, cells))
    system = BoundSystem(counts, groups)
    for unknown in calls:
        fresh = BoundSystem(counts, groups, keep=False)
        got = set(system._parts(frozenset(unknown), unlisted))
        assert got == set(fresh._parts(frozenset(unknown), unlisted)), sorted(unknown)
        assert {c for part in got for c in part} == unknown
        _assert_as_from_scratch(system, unknown, unlisted)

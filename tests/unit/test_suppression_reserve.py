"""``protect(..., reserve=)``: a region-period's total with k contributors (and the top of a
checklist) is taken as a secondary suppression only where no other cell can protect
(issue #15, docs/digests.md "Tables designed for the data")."""

from __future__ import annotations

from dief.disclosure import Group, determined_cells, protect
from dief.disclosure._choice import first_choice

T1 = ("2026-01", "_total", "_all")
T2 = ("2026-02", "_total", "_all")
S = ("W2026-Q1", "_total", "_all")
COUNTS = {T1: 1, T2: 4, S: 5}
GROUPS = [Group(S, (T1, T2))]


def test_without_reserve_a_member_total_is_taken() -> None:
    result = protect(COUNTS, {T1}, GROUPS)
    assert result.suppressed == {T1, T2}


def test_a_reserved_total_is_spared_where_another_cell_protects() -> None:
    result = protect(COUNTS, {T1}, GROUPS, reserve={T1, T2})
    assert result.suppressed == {T1, S}
    assert not determined_cells(result.suppressed, GROUPS)


def test_a_reserved_cell_is_taken_where_nothing_else_can_protect() -> None:
    result = protect(COUNTS, {T1}, GROUPS, reserve={T1, T2, S})
    assert T1 in result.suppressed
    assert len(result.suppressed) == 2
    assert not determined_cells(result.suppressed, GROUPS)


def test_a_reserved_cell_is_spared_across_groups() -> None:
    """Check 3: the cell a determined cell is computed from is looked for among plain
    cells first, however far (here a month's value, not the quarter's total)."""
    q, m1, m2 = ("2026-Q1", "_total", "_all"), T1, T2
    a, b = ("2026-02", "method", "a"), ("2026-02", "method", "b")
    counts = {q: 9, m1: 1, m2: 8, a: 3, b: 5}
    groups = [Group(q, (m1, m2)), Group(m2, (a, b))]
    result = protect(counts, {m1}, groups, reserve={q, m2}, exact_widen=True)
    assert not determined_cells(result.suppressed, groups)
    # a total had to go (m1 alone in a sum of totals), but only one
    assert len(result.suppressed & {q, m2}) == 1


def test_first_choice_prefers_plain_cells_then_the_smallest() -> None:
    def order(key: tuple[str, str, str]) -> tuple[int, bool, tuple[int, int, str]]:
        return (COUNTS.get(key, 0), False, (0, 0, "\x1f".join(key)))

    assert first_choice([T2], S, order, reserved={T2}) == S
    assert first_choice([T2], S, order, reserved={T2, S}) == T2
    assert first_choice([], None, order, reserved=set()) is None

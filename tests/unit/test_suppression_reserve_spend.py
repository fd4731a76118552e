"""Where every candidate of a group is reserved, which reserved cell goes
(``protect(..., standing=)``, :func:`dief.disclosure._choice.spend_key`; issue #15,
docs/digests.md "Tables designed for the data"): the least worth keeping, then the hide
that closes the most sums and opens the fewest, then the smallest — not the smallest
alone, which took a month's total before the cycle's and cascaded."""

from __future__ import annotations

from typing import TypeAlias

from dief.disclosure import Group, determined_cells, protect
from dief.disclosure._choice import first_choice

T1 = ("2026-01", "_total", "_all")
T2 = ("2026-02", "_total", "_all")
S = ("W2026-Q1", "_total", "_all")
Q = ("2026-Q1", "_total", "_all")
COUNTS = {T1: 1, T2: 4, S: 5}
GROUPS = [Group(S, (T1, T2))]

Order: TypeAlias = tuple[int, bool, tuple[int, int, str]]


def _order(key: tuple[str, str, str]) -> Order:
    return (COUNTS.get(key, 0), False, (0, 0, "\x1f".join(key)))


def _spend(key: tuple[str, str, str]) -> tuple[int, int, int, Order]:
    return (1 if key == T2 else 0, 0, 0, _order(key))


def test_first_choice_takes_the_least_spent_of_reserved_cells_only() -> None:
    """Plain cells first; among reserved candidates only, the first by *spend* (standing,
    sums closed and opened, then size), by *order* when none is given."""
    assert first_choice([T2], S, _order, reserved={T2}) == S
    assert first_choice([T2], S, _order, reserved={T2, S}) == T2
    # T2 is smaller, but it stands higher (a headline total): the sum goes instead
    assert first_choice([T2], S, _order, reserved={T2, S}, spend=_spend) == S
    assert first_choice([], None, _order, reserved=set(), spend=_spend) is None


def test_among_reserved_cells_a_headline_total_is_kept() -> None:
    """Every candidate reserved: the cell of least standing goes, however large."""
    result = protect(COUNTS, {T1}, GROUPS, reserve={T1, T2, S}, standing=lambda k: k == T2)
    assert result.suppressed == {T1, S}
    result = protect(COUNTS, {T1}, GROUPS, reserve={T1, T2, S}, standing=lambda k: k == S)
    assert result.suppressed == {T1, T2}
    assert not determined_cells(result.suppressed, GROUPS)


def test_among_reserved_cells_the_hide_that_closes_both_sums_goes() -> None:
    """T1 hidden leaves two sums with one unknown each; T2 (in both) closes them with one
    hide, where either total would leave the other sum to fix with a second."""
    counts = {T1: 1, T2: 4, S: 5, Q: 5}
    groups = [Group(S, (T1, T2)), Group(Q, (T1, T2))]
    result = protect(counts, {T1}, groups, reserve={T2, S, Q}, standing=lambda k: k == T2)
    assert result.suppressed == {T1, S, Q}  # T2 kept: it stands higher
    result = protect(counts, {T1}, groups, reserve={T2, S, Q}, standing=lambda _: 0)
    assert result.suppressed == {T1, T2}
    assert not determined_cells(result.suppressed, groups)

"""A re-issue takes as known every cell equal to a known cell by the sums alone
(``dief.disclosure._suppression._twins``; docs/digests.md, "The default since session 13"):
hidden, such a twin protects nothing and is given away by its known twin, and the search
then hid the known one again (a re-issue of unchanged data hid ``CSP11``'s published total
for ``CSP11-H2``'s: ``test_only_changed_skips_identical_digests`` in
``tests/unit/test_digest_payload.py``)."""

from __future__ import annotations

from dief.disclosure import Group
from dief.disclosure._suppression import _twins

CYCLE = ("CSP11", "_total", "_all")
HALF = ("CSP11-H2", "_total", "_all")
ROW = ("SCSP11", "_total", "_all")
MONTHS = tuple((f"2025-0{m}", "_total", "_all") for m in (3, 5, 7))
OTHER = ("CSP11-H1", "_total", "_all")


def _groups() -> list[Group]:
    return [
        Group(CYCLE, MONTHS),  # the cycle: its months
        Group(HALF, MONTHS),  # its one half with data: the same months
        Group(ROW, (HALF,)),  # a one-member sum
        Group(OTHER, MONTHS[:2]),  # another sum over other members: no twin
    ]


def test_a_known_cycle_makes_its_half_and_the_half_s_one_member_sum_known() -> None:
    assert _twins(frozenset({CYCLE}), _groups(), frozenset()) == {HALF, ROW}


def test_a_known_one_member_sum_makes_its_member_known_and_so_on() -> None:
    assert _twins(frozenset({ROW}), _groups(), frozenset()) == {HALF, CYCLE}


def test_a_fixed_cell_is_never_known_and_stops_the_chain() -> None:
    # the half kept suppressed (or primary): neither it nor what only it links is known
    assert _twins(frozenset({CYCLE}), _groups(), frozenset({HALF})) == frozenset()


def test_sums_over_other_members_give_nothing() -> None:
    assert _twins(frozenset({OTHER}), _groups(), frozenset()) == frozenset()
    assert _twins(frozenset({MONTHS[0]}), _groups(), frozenset()) == frozenset()

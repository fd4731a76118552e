"""Rare values grouped as ``(other)`` (opt-in, ``group_rare=True``; docs/digests.md "Tables
designed for the data")."""

from __future__ import annotations

from dief.aggregator import TOTAL
from dief.disclosure import OTHER, Tally, digest_pattern, grouped_members

Q = "2026-Q1"


def _t(count: int, contributors: int) -> Tally:
    return Tally(count, contributors, ("CSP12",))


TALLIES = {
    Q: {
        TOTAL: _t(9, 5),
        ("transfer_stage", "at_import"): _t(5, 3),
        ("transfer_stage", "stockpile"): _t(1, 1),
        ("transfer_stage", "in_transit"): _t(2, 1),
        ("transfer_stage", "pre_transfer"): _t(1, 1),
        ("kind", "case"): _t(8, 4),
        ("kind", "alert"): _t(1, 1),
    }
}


def test_rare_values_are_grouped_but_two_valued_dimensions_are_not() -> None:
    grouped = grouped_members(TALLIES, k=2)
    assert grouped == {
        (Q, "transfer_stage"): (
            ("transfer_stage", "in_transit"),
            ("transfer_stage", "pre_transfer"),
            ("transfer_stage", "stockpile"),
        )
    }


def test_a_value_an_earlier_issue_listed_stays_listed() -> None:
    grouped = grouped_members(TALLIES, k=2, listed_before={(Q, "transfer_stage", "stockpile")})
    assert ("transfer_stage", "stockpile") not in grouped[Q, "transfer_stage"]


def test_the_pattern_lists_the_grouped_cell_not_its_values() -> None:
    pattern = digest_pattern(TALLIES, k=2, group_rare=True)
    listed = {(c.cell.period, c.cell.dimension, c.cell.value) for c in pattern.listed()}
    assert (Q, "transfer_stage", OTHER) in listed
    assert (Q, "transfer_stage", "stockpile") not in listed
    assert (Q, "transfer_stage", "stockpile") in pattern.unlisted
    # the grouped cell counts the cases under its values; its contributors here are the
    # largest of its values' (a lower bound: the store's grouped_rows gives the exact ones)
    assert pattern.counts[Q, "transfer_stage", OTHER] == 4
    assert (Q, "transfer_stage", OTHER) in pattern.suppressed
    # without the option nothing is grouped
    plain = digest_pattern(TALLIES, k=2)
    assert not plain.unlisted

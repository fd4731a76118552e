"""The reviewer's recoveries of a suppressed meeting-digest cell, as regressions.

(1) a single-valued dimension's suppressed value = the total minus the other values;
(2) a suppressed month = its quarter minus the two other months; (3) a previous-period
count showing what the previous period's digest hides. Each is checked directly and with
the attacker of reporting_attack, which must find the recovery with primary suppression
only and nothing with the joint secondary suppression.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import pytest

from dief.aggregator import TOTAL
from dief.catalogue import load_catalogue
from dief.digests import RegionDigests, assemble_digest, cell_index
from dief.disclosure import PeriodCells, Tally, digest_pattern
from dief.periods import parse_period
from dief.vocab import Region
from tests.unit.reporting_attack import recover_digests

if TYPE_CHECKING:
    from dief.wire import Digest

CATALOGUE = load_catalogue()


def _t(count: int, contributors: int) -> Tally:
    return Tally(count, contributors, ("CSP12",))


def _all(tallies: dict[str, PeriodCells], *, secondary: bool = True) -> dict[str, Digest]:
    pattern = digest_pattern(tallies, k=2)
    if not secondary:
        pattern = dataclasses.replace(pattern, suppressed=pattern.primary, secondary_of={})
    source = RegionDigests(Region.AFR, tuple(tallies), tallies, {}, pattern)
    return {p: source.digest(p, catalogue=CATALOGUE) for p in tallies}


def test_single_valued_sum_does_not_reveal_a_suppressed_cell() -> None:
    # total 11 from 4, kind=case 10 from 3, kind=alert 1 from 1: alert = 11 - 10
    cells: PeriodCells = {
        TOTAL: _t(11, 4),
        ("kind", "case"): _t(10, 3),
        ("kind", "alert"): _t(1, 1),
    }
    digest = assemble_digest(
        Region("AFR"), parse_period("2026-05"), {"2026-05": cells}, {}, k=2, catalogue=CATALOGUE
    )
    index = cell_index(digest.dimensions)
    assert index["kind", "alert"].count is None
    assert index["kind", "case"].count is None  # the smaller of case and the total
    assert digest.totals.cases == 11
    assert (digest.notes.primary_suppressed, digest.notes.secondary_suppressed) == (1, 1)
    assert any("1 primary, 1 secondary" in line for line in digest.notes.text)
    tallies = {"2026-05": cells}
    assert recover_digests(list(_all(tallies, secondary=False).values()), listing=tallies) == {
        "2026-05/kind/alert"
    }
    assert recover_digests(list(_all(tallies).values()), listing=tallies) == set()


def _quarter() -> dict[str, PeriodCells]:
    months = {"2026-04": (5, 3), "2026-05": (4, 3), "2026-06": (1, 1)}
    tallies: dict[str, PeriodCells] = {
        m: {TOTAL: _t(n, c), ("method", "other"): _t(n, c)} for m, (n, c) in months.items()
    }
    tallies["2026-Q2"] = {TOTAL: _t(10, 4), ("method", "other"): _t(10, 4)}
    return tallies


def test_quarter_minus_two_months_does_not_reveal_the_third() -> None:
    tallies = _quarter()
    published = {
        period: assemble_digest(
            Region("AFR"), parse_period(period), tallies, {}, k=2, catalogue=CATALOGUE
        ).totals.cases
        for period in tallies
    }
    assert published["2026-06"] is None
    # the smallest other month is withheld too, and May's digest does not show it as
    # June's previous count either
    assert published == {"2026-04": 5, "2026-05": None, "2026-06": None, "2026-Q2": 10}
    leaky = _all(tallies, secondary=False)
    assert recover_digests(list(leaky.values()), listing=tallies) == {
        "2026-06/_total",
        "2026-06/method/other",
    }
    assert recover_digests(list(_all(tallies).values()), listing=tallies) == set()


def test_previous_counts_follow_the_pattern() -> None:
    months = {"2026-04": (5, 3), "2026-05": (1, 1), "2026-06": (4, 3), "2026-07": (3, 2)}
    tallies: dict[str, PeriodCells] = {
        m: {TOTAL: _t(n, c), ("method", "other"): _t(n, c)} for m, (n, c) in months.items()
    }
    tallies["2026-Q2"] = {TOTAL: _t(10, 4), ("method", "other"): _t(10, 4)}
    tallies["2026-Q3"] = {TOTAL: _t(3, 2), ("method", "other"): _t(3, 2)}
    digests = _all(tallies)
    # May is below k, so June (the smaller other month) is withheld with it ...
    june = digests["2026-06"]
    assert june.totals.cases is None
    assert june.notes.totals_secondary
    # ... and July's digest must not show June as its previous count
    july = digests["2026-07"]
    assert july.totals.cases == 3
    assert july.totals.previous is None
    other = cell_index(july.dimensions)["method", "other"]
    assert (other.count, other.previous, other.change, other.trend) == (3, None, None, None)
    assert recover_digests(list(digests.values()), listing=tallies) == set()
    # primary suppression only: July shows June (4), and the quarter minus April and June
    # gives May away
    leaky = _all(tallies, secondary=False)
    assert leaky["2026-07"].totals.previous == 4
    assert recover_digests(list(leaky.values()), listing=tallies) == {
        "2026-05/_total",
        "2026-05/method/other",
    }


def test_a_pattern_must_cover_the_digest() -> None:
    tallies = _quarter()
    pattern = digest_pattern({"2026-04": tallies["2026-04"]}, k=2)
    with pytest.raises(ValueError, match="does not cover"):
        assemble_digest(
            Region("AFR"),
            parse_period("2026-05"),
            tallies,
            {},
            k=2,
            catalogue=CATALOGUE,
            pattern=pattern,
        )
    with pytest.raises(ValueError, match="another k"):
        assemble_digest(
            Region("AFR"),
            parse_period("2026-04"),
            tallies,
            {},
            k=3,
            catalogue=CATALOGUE,
            pattern=pattern,
        )

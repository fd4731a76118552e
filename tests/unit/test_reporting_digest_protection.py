"""The reviewer's two recoveries of a suppressed meeting-digest cell, as regressions."""

from __future__ import annotations

from dief.catalogue import load_catalogue
from dief.periods import parse_period
from dief.reporting import Tally
from dief.reporting._cells import TOTAL, PeriodCells
from dief.reporting._digest import assemble_digest, cell_index
from dief.vocab import Region

CATALOGUE = load_catalogue()


def _t(count: int, contributors: int) -> Tally:
    return Tally(count, contributors, ("CSP12",))


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
    assert index[("kind", "alert")].count is None
    assert index[("kind", "case")].count is None or digest.totals.cases is None
    assert digest.notes.primary_suppressed >= 1
    assert digest.notes.secondary_suppressed + digest.notes.totals_secondary >= 1


def test_quarter_minus_two_months_does_not_reveal_the_third() -> None:
    months = {"2026-04": (5, 3), "2026-05": (4, 3), "2026-06": (1, 1)}
    tallies: dict[str, PeriodCells] = {
        m: {TOTAL: _t(n, c), ("kind", "case"): _t(n, c)} for m, (n, c) in months.items()
    }
    tallies["2026-Q2"] = {TOTAL: _t(10, 4), ("kind", "case"): _t(10, 4)}
    published = {}
    for period in [*months, "2026-Q2"]:
        digest = assemble_digest(
            Region("AFR"), parse_period(period), tallies, {}, k=2, catalogue=CATALOGUE
        )
        published[period] = digest.totals.cases
    assert published["2026-06"] is None
    # some other cell of the quarter relation is withheld too
    assert sum(v is None for v in published.values()) >= 2

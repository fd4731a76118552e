"""The joint pattern's cost (issue #15): computed once per region and input, and reused."""

from __future__ import annotations

from dief.disclosure import PeriodCells, Tally, digest_pattern
from dief.disclosure._memo import clear_patterns

TOTAL = ("_total", "_all")


def _tallies(extra: int = 0) -> dict[str, PeriodCells]:
    def t(count: int, contributors: int) -> Tally:
        return Tally(count, contributors, ("CSP12",))

    month = {
        TOTAL: t(5 + extra, 3),
        ("kind", "case"): t(4 + extra, 3),
        ("kind", "attempt"): t(1, 1),
    }
    return {"2026-01": month, "2026-Q1": dict(month), "CSP12": dict(month)}


def test_an_equal_input_reuses_the_pattern_and_a_new_case_recomputes_it() -> None:
    clear_patterns()
    first = digest_pattern(_tallies(), k=2, start_month=9)
    # equal cells in new objects, and a digest of a period with data named: the same input
    again = digest_pattern(_tallies(), k=2, start_month=9, periods=["CSP12"])
    assert again is first
    assert ("2026-01", "kind", "attempt") in first.suppressed
    changed = digest_pattern(_tallies(extra=1), k=2, start_month=9)
    assert changed is not first
    assert changed.counts[("2026-01", "_total", "_all")] == 6
    assert digest_pattern(_tallies(), k=3, start_month=9) is not first

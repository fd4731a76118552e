"""Check 4 of :func:`~dief.disclosure.protect` raised :class:`UnprotectedCellError` for a
cell it had already freed (#15, session 8: the realistic forum's 10-year AFR with withheld
dimensions, the checklist window ``W2022-Q4``'s ``risk_indicator/CTX-03``).

One case names a value; the month, its quarter and two checklist windows each list it as a
one-member sum (the cells are equal), and only the month's total bounds it from above. The
four equal cells are pinned together; hiding the month's total frees all four. Check 4
hid it for the first leak, then came to a window's cell through no group it had touched,
found no candidate left around it (the one it had was just taken) and raised instead of
checking again. Now a leak with no candidate left waits for the next round when a
suppression was made in this one; the next round finds nothing pinned.
"""

from __future__ import annotations

from dief.disclosure import Group, protect
from dief.disclosure._bounds import pinned_cells

VALUE = ("risk_indicator", "CTX-03")
TOTAL = ("_total", "_all")
MONTH, QUARTER, WINDOWS = "2022-07", "2022-Q3", ("W2022-Q3", "W2022-Q4")


def _system() -> tuple[dict[tuple[str, str, str], int], list[Group], set[tuple[str, str, str]]]:
    month, quarter = (MONTH, *VALUE), (QUARTER, *VALUE)
    counts = {month: 1, quarter: 1, (MONTH, *TOTAL): 1, (QUARTER, *TOTAL): 1}
    groups = [Group(quarter, (month,))]
    for window in WINDOWS:
        counts[window, *VALUE] = 1
        counts[window, *TOTAL] = 3
        groups.append(Group((window, *VALUE), (quarter,)))
    # the value is one case's (primary); the quarter's and windows' totals are hidden too
    # (a State's own), so only the month's published total bounds the chain from above
    primary = {month, (QUARTER, *TOTAL)} | {(w, *TOTAL) for w in WINDOWS}
    return counts, groups, primary


def test_a_leak_freed_by_a_suppression_made_for_another_is_not_raised() -> None:
    counts, groups, primary = _system()
    result = protect(counts, primary, groups, bounds=True)
    hidden = result.suppressed
    assert (MONTH, *TOTAL) in hidden
    unknown = set(hidden)
    assert pinned_cells(counts, unknown, groups) == set()


def test_the_chain_is_pinned_before_the_month_total_is_hidden() -> None:
    # the premise: with the month's total published, the four equal cells are pinned
    counts, groups, primary = _system()
    unknown = primary | {(QUARTER, *VALUE)} | {(w, *VALUE) for w in WINDOWS}
    assert {(MONTH, *VALUE), (QUARTER, *VALUE)} <= pinned_cells(counts, unknown, groups)

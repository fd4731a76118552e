"""The digest attacker of reporting_attack on months published by total (hand-made digests).

A month by total lists its total and ``kind`` only (its notes say so): its other
dimensions' cells are unknowns at least 0 in the quarter's sums, not zeros. A value of a
dimension it lists, not listed, is still 0.
"""

from __future__ import annotations

from dief.digests import MONTHLY_NOTE
from dief.vocab import Dimension, Region
from dief.wire import Cell, Digest, DigestNotes, Totals
from tests.unit.reporting_attack import read_digests, recover_digests

QUARTER = "2025-Q1"


def _cell(value: str, count: int | None) -> Cell:
    if count is None:
        return Cell(value=value, count=None, contributors=None, suppressed=True)
    return Cell(value=value, count=count, contributors=count)


def _digest(
    period: str, total: int, cells: dict[Dimension, list[Cell]], *, by_total: bool
) -> Digest:
    return Digest(
        region=Region.AFR,
        period=period,
        k=2,
        totals=Totals(cases=total, contributors=total),
        dimensions=cells,
        notes=DigestNotes(text=[MONTHLY_NOTE] if by_total else []),
    )


def _digests(*, by_total: bool) -> list[Digest]:
    """Q1: 10 cases, kind and confidence all suppressed. Its months list their totals
    (4, 3, 3) and kind only: January and February all cases, March 2 cases and one
    suppressed alert (so 1: the month's kinds sum to its total)."""
    months = [
        _digest("2025-01", 4, {Dimension.KIND: [_cell("case", 4)]}, by_total=by_total),
        _digest("2025-02", 3, {Dimension.KIND: [_cell("case", 3)]}, by_total=by_total),
        _digest(
            "2025-03",
            3,
            {Dimension.KIND: [_cell("alert", None), _cell("case", 2)]},
            by_total=by_total,
        ),
    ]
    quarter = _digest(
        QUARTER,
        10,
        {
            Dimension.KIND: [_cell("alert", None), _cell("case", None)],
            Dimension.CONFIDENCE: [_cell("confirmed", None), _cell("suspected", None)],
        },
        by_total=False,
    )
    return [*months, quarter]


def test_a_month_by_total_leaves_its_other_dimensions_open() -> None:
    digests = _digests(by_total=True)
    read = read_digests(digests)
    for month in ("2025-01", "2025-02", "2025-03"):
        for value in ("confirmed", "suspected"):
            name = f"{month}/confidence/{value}"
            assert name in read.issue.hidden
            assert name in read.issue.floor0
            assert name in read.unseen
        # kind is listed: a value the month does not list is 0, as in a full month
        assert f"{month}/kind/alert" not in read.issue.floor0
    # the quarter's confidence is not determined; its kind is (March's alert is 1)
    assert recover_digests(digests) == {
        "2025-03/kind/alert",
        f"{QUARTER}/kind/alert",
        f"{QUARTER}/kind/case",
    }


def test_without_the_note_the_months_are_read_as_full() -> None:
    """The same documents without the months' note: a month's unlisted confidence is 0,
    so the quarter's confidence cells are 0 — the reading the note must switch off."""
    recovered = recover_digests(_digests(by_total=False))
    assert {f"{QUARTER}/confidence/confirmed", f"{QUARTER}/confidence/suspected"} <= recovered


def _blank(period: str, *, withheld: bool) -> Digest:
    """A month by total that lists nothing: fewer than k contributors, or (*withheld*) its
    total hidden and ``kind`` withheld (its notes say so)."""
    extra = {"withheld_dimensions": ["kind"]} if withheld else {}
    return Digest(
        region=Region.AFR,
        period=period,
        k=2,
        totals=Totals(cases=None, contributors=None, withheld=True),
        dimensions={},
        notes=DigestNotes(text=[MONTHLY_NOTE] if withheld else [], **extra),
    )


def test_a_blank_month_by_total_stands_for_its_kind_unless_withheld() -> None:
    """Given the region's cells (*listing*), a blank month of an issue by total stands for
    its kind cells (at least 1 each), not for its other dimensions' cells; and for none
    where its notes withhold kind. Q1's 2 alerts are January's and February's (March lists
    kind without alert: 0): each 1 if both are listed, undetermined otherwise."""
    listing = {
        "2025-01": {("kind", "alert"): 1, ("confidence", "suspected"): 1},
        "2025-02": {("kind", "alert"): 1, ("confidence", "suspected"): 1},
    }
    march = _digest("2025-03", 8, {Dimension.KIND: [_cell("case", 8)]}, by_total=True)
    quarter = _digest(
        QUARTER,
        10,
        {
            Dimension.KIND: [_cell("alert", 2), _cell("case", 8)],
            Dimension.CONFIDENCE: [_cell("confirmed", None), _cell("suspected", None)],
        },
        by_total=False,
    )
    alerts = {"2025-01/kind/alert", "2025-02/kind/alert"}
    for withheld, found in ((False, alerts), (True, set())):
        digests = [
            _blank("2025-01", withheld=False),
            _blank("2025-02", withheld=withheld),
            march,
            quarter,
        ]
        read = read_digests(digests, listing=listing)
        assert "2025-01/confidence/suspected" in read.issue.floor0
        assert ("2025-02/kind/alert" in read.issue.floor0) is withheld
        assert recover_digests(digests, listing=listing) & alerts == found

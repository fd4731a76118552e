"""Months, quarters, CSP cycles and half-cycles."""

from __future__ import annotations

from datetime import date

import pytest

from dief.periods import (
    CspCycle,
    HalfCycle,
    Month,
    Quarter,
    is_cycle,
    parse_period,
    period_kind,
    periods_containing,
)


def test_month_parse_format_and_arithmetic() -> None:
    month = Month.parse("2026-05")
    assert month == Month(2026, 5)
    assert str(month) == "2026-05"
    assert str(Month(2026, 1).previous()) == "2025-12"
    assert str(Month(2025, 12).next()) == "2026-01"
    assert Month.of(date(2026, 2, 28)) == Month(2026, 2)
    assert Month(2025, 12) < Month(2026, 1)
    assert sorted([Month(2026, 3), Month(2025, 11)]) == [Month(2025, 11), Month(2026, 3)]


@pytest.mark.parametrize("text", ["2026-5", "2026-13", "2026-00", "26-05", "2026-05-01", ""])
def test_month_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"month|YYYY-MM"):
        Month.parse(text)


def test_quarter() -> None:
    quarter = Quarter.parse("2026-Q2")
    assert str(quarter) == "2026-Q2"
    assert [str(m) for m in quarter.months] == ["2026-04", "2026-05", "2026-06"]
    assert Month(2026, 5).quarter == quarter
    assert str(Quarter(2026, 1).previous()) == "2025-Q4"
    assert str(Quarter(2025, 4).next()) == "2026-Q1"
    with pytest.raises(ValueError, match="quarter"):
        Quarter.parse("2026-Q5")


def test_csp12_bounds() -> None:
    cycle = CspCycle.parse("CSP12")
    assert (str(cycle.first), str(cycle.last)) == ("2025-09", "2026-08")
    assert len(cycle.months) == 12
    assert CspCycle.of(Month(2025, 9)) == cycle
    assert CspCycle.of(Month(2026, 8)) == cycle
    assert str(CspCycle.of(Month(2025, 8))) == "CSP11"
    assert str(CspCycle.of(Month(2026, 9))) == "CSP13"
    assert Month(2026, 1).cycle() == cycle


def test_cycle_previous_and_order() -> None:
    assert str(CspCycle(12).previous()) == "CSP11"
    assert str(CspCycle(12).next()) == "CSP13"
    assert CspCycle(11) < CspCycle(12)
    with pytest.raises(ValueError, match="out of range"):
        CspCycle(1).previous()


def test_cycle_configurable_start_month() -> None:
    cycle = CspCycle.parse("CSP12", start_month=1)
    assert (str(cycle.first), str(cycle.last)) == ("2025-01", "2025-12")
    assert CspCycle.of(Month(2025, 12), start_month=1) == cycle
    assert cycle != CspCycle(12)
    with pytest.raises(ValueError, match="start month"):
        CspCycle(12, start_month=13)


def test_quarter_spanning_two_cycles() -> None:
    assert [str(c) for c in Quarter(2026, 3).cycles()] == ["CSP12", "CSP13"]
    assert [str(c) for c in Quarter(2026, 2).cycles()] == ["CSP12"]
    assert [str(c) for c in Quarter(2026, 4).cycles()] == ["CSP13"]
    # A start month at a quarter boundary aligns every quarter with one cycle.
    assert all(len(Quarter(2026, q).cycles(start_month=10)) == 1 for q in range(1, 5))


def test_cycle_quarters() -> None:
    assert [str(q) for q in CspCycle(12).quarters] == [
        "2025-Q3",
        "2025-Q4",
        "2026-Q1",
        "2026-Q2",
        "2026-Q3",
    ]


def test_before_first_cycle() -> None:
    with pytest.raises(ValueError, match="before the first CSP cycle"):
        CspCycle.of(Month(2014, 8))
    assert str(CspCycle.of(Month(2014, 9))) == "CSP1"


def test_parse_period_and_containing() -> None:
    assert parse_period("2026-05") == Month(2026, 5)
    assert parse_period("2026-Q2") == Quarter(2026, 2)
    assert parse_period("CSP12") == CspCycle(12)
    assert parse_period("CSP12-H2") == HalfCycle(12, 2)
    assert parse_period("CSP12-H1", start_month=1) == HalfCycle(12, 1, start_month=1)
    with pytest.raises(ValueError, match="YYYY-MM, YYYY-Qn, CSPn-H1, CSPn-H2 or CSPn"):
        parse_period("2026")
    month, quarter, half, cycle = periods_containing(Month(2025, 9))
    assert (str(month), str(quarter), str(half), str(cycle)) == (
        "2025-09",
        "2025-Q3",
        "CSP12-H1",
        "CSP12",
    )
    for period in (month, quarter, half, cycle):
        assert period.contains(Month(2025, 9))
    assert [p.kind for p in (month, quarter, half, cycle)] == ["month", "quarter", "half", "cycle"]
    assert [str(p) for p in periods_containing(Month(2026, 3), start_month=1)] == [
        "2026-03",
        "2026-Q1",
        "CSP13-H1",
        "CSP13",
    ]


@pytest.mark.parametrize(
    ("text", "kind"),
    [("2026-05", "month"), ("2026-Q2", "quarter"), ("CSP12-H2", "half"), ("CSP12", "cycle")],
)
def test_period_kind(text: str, kind: str) -> None:
    assert period_kind(text) == kind


def test_values_are_frozen_and_hashable() -> None:
    month = Month(2026, 5)
    with pytest.raises(AttributeError):
        month.year = 2027  # type: ignore[misc]
    assert len({Month(2026, 5), Month(2026, 5), Quarter(2026, 2), CspCycle(12)}) == 3


def test_half_cycle_bounds_default_start() -> None:
    h1, h2 = HalfCycle.parse("CSP12-H1"), HalfCycle.parse("CSP12-H2")
    assert (str(h1.first), str(h1.last)) == ("2025-09", "2026-02")
    assert (str(h2.first), str(h2.last)) == ("2026-03", "2026-08")
    assert [str(m) for m in h1.months] == [
        "2025-09",
        "2025-10",
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    assert (str(h1), str(h2), h1.kind) == ("CSP12-H1", "CSP12-H2", "half")
    assert h1.cycle == h2.cycle == CspCycle(12)
    assert CspCycle(12).halves == (h1, h2)
    assert h1.months + h2.months == CspCycle(12).months


def test_half_cycle_of_month() -> None:
    assert HalfCycle.of(Month(2025, 9)) == HalfCycle(12, 1)
    assert HalfCycle.of(Month(2026, 2)) == HalfCycle(12, 1)
    assert HalfCycle.of(Month(2026, 3)) == HalfCycle(12, 2)
    assert HalfCycle.of(Month(2026, 8)) == HalfCycle(12, 2)
    assert Month(2026, 9).half() == HalfCycle(13, 1)
    assert Month(2025, 8).half() == HalfCycle(11, 2)
    for month in CspCycle(12).months:
        half = month.half()
        assert half.contains(month)
        assert half.cycle.contains(month)
    with pytest.raises(ValueError, match="before the first CSP cycle"):
        HalfCycle.of(Month(2014, 8))


def test_half_cycle_previous_next_and_order() -> None:
    assert str(HalfCycle(12, 1).previous()) == "CSP11-H2"
    assert str(HalfCycle(12, 2).previous()) == "CSP12-H1"
    assert str(HalfCycle(12, 1).next()) == "CSP12-H2"
    assert str(HalfCycle(12, 2).next()) == "CSP13-H1"
    assert HalfCycle(12, 1).previous().next() == HalfCycle(12, 1)
    assert HalfCycle(11, 2) < HalfCycle(12, 1) < HalfCycle(12, 2) < HalfCycle(13, 1)
    assert HalfCycle(12, 1).previous().last.next() == HalfCycle(12, 1).first
    with pytest.raises(ValueError, match="out of range"):
        HalfCycle(1, 1).previous()


def test_half_cycle_configurable_start_month() -> None:
    h1 = HalfCycle.parse("CSP12-H1", start_month=1)
    assert (str(h1.first), str(h1.last)) == ("2025-01", "2025-06")
    assert (str(h1.next().first), str(h1.next().last)) == ("2025-07", "2025-12")
    assert HalfCycle.of(Month(2025, 7), start_month=1) == h1.next()
    assert h1 != HalfCycle(12, 1)
    assert h1.cycle == CspCycle(12, start_month=1)
    with pytest.raises(ValueError, match="start month"):
        HalfCycle(12, 1, start_month=0)


@pytest.mark.parametrize(
    "text", ["CSP12-H3", "CSP12-H0", "CSP12H1", "csp12-h1", "CSP0-H1", "CSP12-", "2026-H1"]
)
def test_half_cycle_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="half-cycle"):
        HalfCycle.parse(text)


def test_half_cycle_refuses_bad_half() -> None:
    with pytest.raises(ValueError, match="half is 1 or 2"):
        HalfCycle(12, 3)


def test_half_cycle_quarters() -> None:
    assert [str(q) for q in HalfCycle(12, 1).quarters] == ["2025-Q3", "2025-Q4", "2026-Q1"]
    assert [str(q) for q in HalfCycle(12, 2).quarters] == ["2026-Q1", "2026-Q2", "2026-Q3"]


def test_is_cycle_is_a_whole_cycle_only() -> None:
    assert is_cycle("CSP12")
    assert not any(is_cycle(t) for t in ("CSP12-H1", "CSP12-H2", "2026-Q1", "2026-05", "W2026-Q1"))

"""Period arithmetic the audit needs (DESIGN §7 ⚑ periods), on the period strings.

Half-cycles (``CSP12-H1``: a cycle's first six months, ``CSP12-H2`` its last six) are
computed here from the cycle's months, so the audit reads them as any reader does.
"""

from __future__ import annotations

import re

from dief.periods import CspCycle, Month, Quarter

__all__ = [
    "cycle_halves",
    "cycle_months",
    "cycle_of",
    "cycle_quarters",
    "half_months",
    "half_of",
    "is_cycle",
    "is_half",
    "previous_period",
    "quarter_months",
]

_HALF = re.compile(r"^CSP([1-9][0-9]*)-H([12])$")
_CYCLE = re.compile(r"^CSP([1-9][0-9]*)$")
_HALF_MONTHS = 6


def is_half(period: str) -> bool:
    return _HALF.match(period) is not None


def is_cycle(period: str) -> bool:
    return _CYCLE.match(period) is not None


def quarter_months(quarter: str) -> list[str]:
    return [str(m) for m in Quarter.parse(quarter).months]


def cycle_months(cycle: str, start_month: int) -> list[str]:
    return [str(m) for m in CspCycle.parse(cycle, start_month=start_month).months]


def half_months(half: str, start_month: int) -> list[str]:
    """The six months of ``CSPn-H1`` (the cycle's first) or ``CSPn-H2`` (its last)."""
    match = _HALF.match(half)
    if match is None:
        raise ValueError(f"not a half-cycle: {half!r}")
    months = cycle_months(f"CSP{match.group(1)}", start_month)
    return months[:_HALF_MONTHS] if match.group(2) == "1" else months[_HALF_MONTHS:]


def cycle_halves(cycle: str) -> list[str]:
    return [f"{cycle}-H1", f"{cycle}-H2"]


def half_of(month: str, start_month: int) -> str:
    cycle = cycle_of(month, start_month)
    return f"{cycle}-H1" if month in half_months(f"{cycle}-H1", start_month) else f"{cycle}-H2"


def cycle_quarters(cycle: str, start_month: int) -> list[str]:
    """The quarters that make up the cycle, where they nest in it (else empty)."""
    if (start_month - 1) % 3:
        return []
    months = CspCycle.parse(cycle, start_month=start_month).months
    return [str(m.quarter) for m in months[::3]]


def previous_period(period: str) -> str | None:
    """The period before (same kind), or None for a period the audit does not know."""
    try:  # noqa: PLW0717  every parse below raises ValueError for a period the audit does not know
        if half := _HALF.match(period):
            number, part = int(half.group(1)), half.group(2)
            if part == "2":
                return f"CSP{number}-H1"
            return f"CSP{number - 1}-H2" if number > 1 else None
        if period.startswith("CSP"):
            number = int(period[3:])
            return f"CSP{number - 1}" if number > 1 else None
        if "-Q" in period:
            return str(Quarter.parse(period).previous())
        return str(Month.parse(period).previous())
    except ValueError:
        return None


def cycle_of(month: str, start_month: int) -> str:
    return str(CspCycle.of(Month.parse(month), start_month=start_month))

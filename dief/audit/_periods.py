"""Period arithmetic the audit needs (DESIGN §7 ⚑ periods), on the period strings."""

from __future__ import annotations

from dief.periods import CspCycle, Month, Quarter

__all__ = ["cycle_months", "cycle_of", "cycle_quarters", "previous_period", "quarter_months"]


def quarter_months(quarter: str) -> list[str]:
    return [str(m) for m in Quarter.parse(quarter).months]


def cycle_months(cycle: str, start_month: int) -> list[str]:
    return [str(m) for m in CspCycle.parse(cycle, start_month=start_month).months]


def cycle_quarters(cycle: str, start_month: int) -> list[str]:
    """The quarters that make up the cycle, where they nest in it (else empty)."""
    if (start_month - 1) % 3:
        return []
    months = CspCycle.parse(cycle, start_month=start_month).months
    return [str(m.quarter) for m in months[::3]]


def previous_period(period: str) -> str | None:
    """The period before (same kind), or None for a period the audit does not know."""
    try:
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

"""Reporting periods (DESIGN §7 ⚑): months ``2026-05``, quarters ``2026-Q2``, CSP cycles ``CSP12``,
and half-cycles ``CSP12-H1`` / ``CSP12-H2``.

A CSP cycle runs twelve months from the cycle start month: by default CSPn covers September
of year 2013+n through August of year 2014+n, so ``CSP12`` = ``2025-09`` … ``2026-08``. With
another start month *m*, CSPn covers month *m* of year 2013+n and the eleven months after
it. The start month is a parameter everywhere (``start_month=``), never global state.

All periods are frozen, hashable, orderable value objects (within one kind) that format
back to their wire text with ``str()``. Calendar quarters and cycles need not align: with
the default September start, the quarter July-September spans two cycles
(:meth:`Quarter.cycles`).

A half-cycle is the first or last six months of a cycle (``CSP12-H1`` = ``2025-09`` …
``2026-02`` with the default start, ``CSP12-H2`` = ``2026-03`` … ``2026-08``). The DIEF
meets about twice a year (intersessional meetings early in the year, the CSP in August), so
a half is the period "since the last meeting". A half lies in one cycle, hence in one
pseudonym domain: its distinct-contributor counts are exact, like a month's or a quarter's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

if TYPE_CHECKING:
    from datetime import date

__all__ = [
    "DEFAULT_CYCLE_START_MONTH",
    "FIRST_CYCLE_BASE_YEAR",
    "CspCycle",
    "HalfCycle",
    "Month",
    "Period",
    "PeriodKind",
    "Quarter",
    "is_cycle",
    "parse_period",
    "period_kind",
    "periods_containing",
]

DEFAULT_CYCLE_START_MONTH = 9
"""Cycles start in September by default (CSP12 = 2025-09 … 2026-08)."""

FIRST_CYCLE_BASE_YEAR = 2013
"""CSPn starts in year ``FIRST_CYCLE_BASE_YEAR + n``."""

PeriodKind = Literal["month", "quarter", "half", "cycle"]

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")
_CYCLE_RE = re.compile(r"^CSP([1-9]\d{0,3})$")
_HALF_RE = re.compile(r"^CSP([1-9]\d{0,3})-H([12])$")
_MONTHS_IN_HALF = 6
_MONTHS_IN_YEAR = 12
_QUARTERS_IN_YEAR = 4
_MAX_NUMBER = 9999  # the largest year, and the largest cycle number


def _check_start_month(start_month: int) -> None:
    if not 1 <= start_month <= _MONTHS_IN_YEAR:
        raise ValueError(f"a cycle start month is 1-12, not {start_month}")


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """A calendar month, ``YYYY-MM``."""

    year: int
    month: int

    kind: ClassVar[PeriodKind] = "month"

    def __post_init__(self) -> None:
        if not 1 <= self.year <= _MAX_NUMBER:
            raise ValueError(f"year {self.year} is out of range 1-9999")
        if not 1 <= self.month <= _MONTHS_IN_YEAR:
            raise ValueError(f"month {self.month} is out of range 1-12")

    @classmethod
    def parse(cls, text: str) -> Month:
        """``"2026-05"`` → ``Month(2026, 5)``; ``ValueError`` on anything else."""
        match = _MONTH_RE.match(text)
        if match is None:
            raise ValueError("expected a month as YYYY-MM")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Month:
        """The month a date falls in."""
        return cls(day.year, day.month)

    @classmethod
    def from_index(cls, index: int) -> Month:
        """Inverse of :attr:`index`."""
        year, month0 = divmod(index, 12)
        return cls(year, month0 + 1)

    @property
    def index(self) -> int:
        """Months since year 0 (``year * 12 + month - 1``), handy for arithmetic."""
        return self.year * 12 + self.month - 1

    def shift(self, months: int) -> Month:
        """The month moved by *months* (negative = back)."""
        return Month.from_index(self.index + months)

    def previous(self) -> Month:
        """The month before."""
        return self.shift(-1)

    def next(self) -> Month:
        """The month after."""
        return self.shift(1)

    @property
    def first(self) -> Month:
        """The month itself (a month is its own first month)."""
        return self

    @property
    def last(self) -> Month:
        """The month itself (a month is its own last month)."""
        return self

    @property
    def months(self) -> tuple[Month, ...]:
        """The month alone, as a tuple."""
        return (self,)

    def contains(self, month: Month) -> bool:
        """Whether *month* is this month."""
        return month == self

    @property
    def quarter(self) -> Quarter:
        """The calendar quarter this month falls in."""
        return Quarter(self.year, (self.month - 1) // 3 + 1)

    def cycle(self, start_month: int = DEFAULT_CYCLE_START_MONTH) -> CspCycle:
        """The CSP cycle this month falls in."""
        return CspCycle.of(self, start_month=start_month)

    def half(self, start_month: int = DEFAULT_CYCLE_START_MONTH) -> HalfCycle:
        """The half-cycle this month falls in."""
        return HalfCycle.of(self, start_month=start_month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, order=True, slots=True)
class Quarter:
    """A calendar quarter, ``YYYY-Qn``."""

    year: int
    quarter: int

    kind: ClassVar[PeriodKind] = "quarter"

    def __post_init__(self) -> None:
        if not 1 <= self.year <= _MAX_NUMBER:
            raise ValueError(f"year {self.year} is out of range 1-9999")
        if not 1 <= self.quarter <= _QUARTERS_IN_YEAR:
            raise ValueError(f"quarter {self.quarter} is out of range 1-4")

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """``"2026-Q2"`` → ``Quarter(2026, 2)``; ``ValueError`` on anything else."""
        match = _QUARTER_RE.match(text)
        if match is None:
            raise ValueError("expected a quarter as YYYY-Qn with n = 1-4")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def first(self) -> Month:
        """The quarter's first month."""
        return Month(self.year, 3 * self.quarter - 2)

    @property
    def last(self) -> Month:
        """The quarter's last month."""
        return Month(self.year, 3 * self.quarter)

    @property
    def months(self) -> tuple[Month, ...]:
        """The quarter's three months, oldest first."""
        first = self.first
        return (first, first.shift(1), first.shift(2))

    def contains(self, month: Month) -> bool:
        """Whether *month* falls in this quarter."""
        return self.first <= month <= self.last

    def previous(self) -> Quarter:
        """The quarter before."""
        return self.first.shift(-3).quarter

    def next(self) -> Quarter:
        """The quarter after."""
        return self.first.shift(3).quarter

    def cycles(self, start_month: int = DEFAULT_CYCLE_START_MONTH) -> tuple[CspCycle, ...]:
        """The cycles this quarter overlaps, oldest first (one, or two when it straddles)."""
        _check_start_month(start_month)
        found: list[CspCycle] = []
        for month in self.months:
            cycle = CspCycle.of(month, start_month=start_month)
            if cycle not in found:
                found.append(cycle)
        return tuple(found)

    def __str__(self) -> str:
        return f"{self.year:04d}-Q{self.quarter}"


@dataclass(frozen=True, order=True, slots=True)
class CspCycle:
    """A Conference of States Parties reporting cycle, ``CSPn`` (n ≥ 1).

    ``start_month`` is part of the value: ``CSP12`` starting in September and ``CSP12``
    starting in January are different periods.
    """

    number: int
    start_month: int = DEFAULT_CYCLE_START_MONTH

    kind: ClassVar[PeriodKind] = "cycle"

    def __post_init__(self) -> None:
        if not 1 <= self.number <= _MAX_NUMBER:
            raise ValueError(f"cycle number {self.number} is out of range 1-9999")
        _check_start_month(self.start_month)

    @classmethod
    def parse(cls, text: str, *, start_month: int = DEFAULT_CYCLE_START_MONTH) -> CspCycle:
        """``"CSP12"`` → ``CspCycle(12)``; ``ValueError`` on anything else."""
        match = _CYCLE_RE.match(text)
        if match is None:
            raise ValueError("expected a CSP cycle as CSPn with n ≥ 1")
        return cls(int(match.group(1)), start_month)

    @classmethod
    def of(cls, month: Month, *, start_month: int = DEFAULT_CYCLE_START_MONTH) -> CspCycle:
        """The cycle *month* falls in; ``ValueError`` before CSP1."""
        _check_start_month(start_month)
        number = month.year - FIRST_CYCLE_BASE_YEAR
        if month.month < start_month:
            number -= 1
        if number < 1:
            raise ValueError(f"{month} is before the first CSP cycle")
        return cls(number, start_month)

    @property
    def first(self) -> Month:
        """The cycle's first month (its start month)."""
        return Month(FIRST_CYCLE_BASE_YEAR + self.number, self.start_month)

    @property
    def last(self) -> Month:
        """The cycle's last month."""
        return self.first.shift(11)

    @property
    def months(self) -> tuple[Month, ...]:
        """The cycle's twelve months, oldest first."""
        first = self.first
        return tuple(first.shift(i) for i in range(12))

    def contains(self, month: Month) -> bool:
        """Whether *month* falls in this cycle."""
        return self.first <= month <= self.last

    def previous(self) -> CspCycle:
        """The cycle before (same start month)."""
        return CspCycle(self.number - 1, self.start_month)

    def next(self) -> CspCycle:
        """The cycle after (same start month)."""
        return CspCycle(self.number + 1, self.start_month)

    @property
    def quarters(self) -> tuple[Quarter, ...]:
        """The calendar quarters that overlap this cycle, oldest first."""
        return _quarters_of(self.months)

    @property
    def halves(self) -> tuple[HalfCycle, HalfCycle]:
        """The cycle's two halves, H1 then H2."""
        return (
            HalfCycle(self.number, 1, self.start_month),
            HalfCycle(self.number, 2, self.start_month),
        )

    def __str__(self) -> str:
        return f"CSP{self.number}"


@dataclass(frozen=True, order=True, slots=True)
class HalfCycle:
    """Half of a CSP cycle, ``CSPn-H1`` (its first six months) or ``CSPn-H2`` (its last six).

    Like :class:`CspCycle`, ``start_month`` is part of the value. A half lies in one cycle
    (one pseudonym domain) and is the sum of its six months; with the default September
    start, H1 (September-February) runs to the intersessional meetings and H2
    (March-August) to the CSP: a half is the period "since the last meeting".
    """

    number: int
    half: int
    start_month: int = DEFAULT_CYCLE_START_MONTH

    kind: ClassVar[PeriodKind] = "half"

    def __post_init__(self) -> None:
        if not 1 <= self.number <= _MAX_NUMBER:
            raise ValueError(f"cycle number {self.number} is out of range 1-9999")
        if self.half not in {1, 2}:
            raise ValueError(f"a half is 1 or 2, not {self.half}")
        _check_start_month(self.start_month)

    @classmethod
    def parse(cls, text: str, *, start_month: int = DEFAULT_CYCLE_START_MONTH) -> HalfCycle:
        """``"CSP12-H1"`` → ``HalfCycle(12, 1)``; ``ValueError`` on anything else."""
        match = _HALF_RE.match(text)
        if match is None:
            raise ValueError("expected a half-cycle as CSPn-H1 or CSPn-H2 with n ≥ 1")
        return cls(int(match.group(1)), int(match.group(2)), start_month)

    @classmethod
    def of(cls, month: Month, *, start_month: int = DEFAULT_CYCLE_START_MONTH) -> HalfCycle:
        """The half *month* falls in; ``ValueError`` before CSP1."""
        cycle = CspCycle.of(month, start_month=start_month)
        half = 1 if month.index - cycle.first.index < _MONTHS_IN_HALF else 2
        return cls(cycle.number, half, start_month)

    @property
    def cycle(self) -> CspCycle:
        """The cycle this half belongs to."""
        return CspCycle(self.number, self.start_month)

    @property
    def first(self) -> Month:
        """The half's first month."""
        return self.cycle.first.shift(_MONTHS_IN_HALF * (self.half - 1))

    @property
    def last(self) -> Month:
        """The half's last month."""
        return self.first.shift(_MONTHS_IN_HALF - 1)

    @property
    def months(self) -> tuple[Month, ...]:
        """The half's six months, oldest first."""
        first = self.first
        return tuple(first.shift(i) for i in range(_MONTHS_IN_HALF))

    def contains(self, month: Month) -> bool:
        """Whether *month* falls in this half."""
        return self.first <= month <= self.last

    def previous(self) -> HalfCycle:
        """The half before (H2 of the previous cycle before an H1; same start month)."""
        if self.half == 1:
            return HalfCycle(self.number - 1, 2, self.start_month)
        return HalfCycle(self.number, 1, self.start_month)

    def next(self) -> HalfCycle:
        """The half after (H1 of the next cycle after an H2; same start month)."""
        if self.half == 1:
            return HalfCycle(self.number, 2, self.start_month)
        return HalfCycle(self.number + 1, 1, self.start_month)

    @property
    def quarters(self) -> tuple[Quarter, ...]:
        """The calendar quarters that overlap this half, oldest first."""
        return _quarters_of(self.months)

    def __str__(self) -> str:
        return f"CSP{self.number}-H{self.half}"


def _quarters_of(months: tuple[Month, ...]) -> tuple[Quarter, ...]:
    found: list[Quarter] = []
    for month in months:
        if month.quarter not in found:
            found.append(month.quarter)
    return tuple(found)


Period = Month | Quarter | HalfCycle | CspCycle
"""Any reporting period."""


def parse_period(text: str, *, start_month: int = DEFAULT_CYCLE_START_MONTH) -> Period:
    """Parse ``2026-05``, ``2026-Q2``, ``CSP12-H1`` or ``CSP12``; ``ValueError`` names the forms."""
    if _MONTH_RE.match(text):
        return Month.parse(text)
    if _QUARTER_RE.match(text):
        return Quarter.parse(text)
    if _HALF_RE.match(text):
        return HalfCycle.parse(text, start_month=start_month)
    if _CYCLE_RE.match(text):
        return CspCycle.parse(text, start_month=start_month)
    raise ValueError("expected a period as YYYY-MM, YYYY-Qn, CSPn-H1, CSPn-H2 or CSPn")


def is_cycle(text: str) -> bool:
    """Whether *text* is a whole CSP cycle (``CSP12``; not a half ``CSP12-H1``, nor any other
    text)."""
    return _CYCLE_RE.match(text) is not None


def period_kind(text: str) -> PeriodKind:
    """The kind of the period written *text* (``"CSP12-H1"`` → ``"half"``), without knowing
    the cycle start month; ``ValueError`` as :func:`parse_period`."""
    return parse_period(text).kind


def periods_containing(
    month: Month, *, start_month: int = DEFAULT_CYCLE_START_MONTH
) -> tuple[Month, Quarter, HalfCycle, CspCycle]:
    """The month itself, its quarter, its half-cycle and its cycle: every period a case of
    *month* counts in."""
    half = HalfCycle.of(month, start_month=start_month)
    return (month, month.quarter, half, half.cycle)

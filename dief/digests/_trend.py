"""The trend test behind every flag (DESIGN §7): equal Poisson rates, normal approximation.

For a count ``c`` now and ``p`` in the previous period, conditional on ``c + p`` the count
``c`` is binomial(c + p, ½) when both periods have the same rate, so

    z = (c - p) / sqrt(c + p)

is approximately standard normal. A two-sided test at alpha = 0.05 flags ``rising`` when
z ≥ 1.96 and ``falling`` when z ≤ -1.96. Below ``min_count`` cases in both periods
together the approximation is poor and nothing is flagged (``stable``); a value absent in
the previous period with at least ``min_count`` cases now is ``new``.
"""

from __future__ import annotations

import math

from dief.wire import Trend, TrendTest

__all__ = ["ALPHA", "MIN_COUNT", "TREND_TEST", "Z_CRITICAL", "trend_flag", "z_score"]

MIN_COUNT = 5
Z_CRITICAL = 1.96
ALPHA = 0.05

TREND_TEST = TrendTest(
    name="conditional test of equal Poisson rates (normal approximation), two-sided",
    statistic="z = (c - p) / sqrt(c + p), c = count now, p = count in the previous period",
    min_count=MIN_COUNT,
    z=Z_CRITICAL,
    alpha=ALPHA,
)


def z_score(now: int, previous: int) -> float | None:
    """The test statistic, or ``None`` when both counts are zero."""
    total = now + previous
    if total <= 0:
        return None
    return (now - previous) / math.sqrt(total)


def trend_flag(
    now: int, previous: int, *, min_count: int = MIN_COUNT, z: float = Z_CRITICAL
) -> Trend:
    """``new`` / ``rising`` / ``falling`` / ``stable`` for counts *now* and *previous*."""
    if now < 0 or previous < 0:
        raise ValueError("counts are never negative")
    if previous == 0 and now >= min_count:
        return Trend.NEW
    if now + previous < min_count:
        return Trend.STABLE
    score = z_score(now, previous)
    if score is None:  # pragma: no cover - excluded by min_count >= 1
        return Trend.STABLE
    if score >= z:
        return Trend.RISING
    if score <= -z:
        return Trend.FALLING
    return Trend.STABLE

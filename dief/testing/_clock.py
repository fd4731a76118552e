"""Time: :class:`FakeClock`, a :class:`dief.seams.Clock` a test moves by hand."""

from __future__ import annotations

import math

from dief.exceptions import ConfigurationError


class FakeClock:
    """A :class:`dief.seams.Clock` that only moves when told to.

    ``now()`` returns seconds since the Unix epoch, starting at *start* (by default
    2023-11-14T22:13:20Z). :meth:`advance` moves it forward; :meth:`jump_to` sets it to any
    time, earlier ones included (a wall clock stepped back by hand or by NTP).
    """

    __slots__ = ("_now",)

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = _finite(start, "a fake clock must start at a finite time")

    def __repr__(self) -> str:
        return f"FakeClock(now={self._now!r})"

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by *seconds* (never backwards); returns the new time."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ConfigurationError(
                f"a fake clock moves forward by a finite amount, not {seconds}"
            )
        self._now += seconds
        return self._now

    def jump_to(self, when: float) -> float:
        """Set the clock to *when* (epoch seconds), earlier or later; returns it."""
        self._now = _finite(when, "a fake clock jumps to a finite time")
        return self._now


def _finite(value: float, message: str) -> float:
    if not math.isfinite(value):
        raise ConfigurationError(f"{message}, not {value}")
    return float(value)

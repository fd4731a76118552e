"""Time as the crypto and keyring code sees it: injectable, so tests never sleep."""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Something that tells the time."""

    def now(self) -> float:
        """Seconds since the Unix epoch (UTC), as :func:`time.time` returns."""
        ...


class SystemClock:
    """The real wall clock."""

    __slots__ = ()

    def now(self) -> float:
        return time.time()

    def __repr__(self) -> str:
        return "SystemClock()"

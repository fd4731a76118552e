"""Failure injection: :class:`Faults`, the one way every fake of :mod:`dief.testing` fails."""

from __future__ import annotations

from collections import Counter

from dief.exceptions import BrokerError, ConfigurationError
from dief.seams import FAULT_POINTS


class Faults:
    """When a fake's operation fails, and with what error.

    Every memory fake of :mod:`dief.testing` has one as ``.faults`` and consults it first
    thing in the operation that talks to the broker in production (``send``, ``publish``);
    a failed call keeps nothing of what it was given, as a broker that did not acknowledge.

    - ``fail(error)``: every call raises *error* until :meth:`heal`;
    - ``fail(error, times=n)``: the next *n* calls raise it, then the fake works again;
    - without *error*, a :class:`~dief.exceptions.BrokerError` (what the seams promise).

    :attr:`injected` counts the failures raised so far.
    """

    __slots__ = ("_error", "_failing", "_remaining", "injected")

    def __init__(self) -> None:
        self._failing = False
        self._error: BaseException | None = None
        self._remaining: int | None = None  # None: until healed
        #: Failures raised so far.
        self.injected = 0

    def __repr__(self) -> str:
        if not self._failing:
            return "Faults(healthy)"
        error = self._error if self._error is not None else "BrokerError"
        until = "until healed" if self._remaining is None else f"{self._remaining} more"
        return f"Faults({error!r}, {until})"

    @property
    def failing(self) -> bool:
        """Whether the next call will raise."""
        return self._failing

    def fail(self, error: BaseException | None = None, *, times: int | None = None) -> None:
        """Make calls raise *error*: every one until :meth:`heal`, or the next *times*."""
        if times is not None and times < 1:
            raise ConfigurationError(f"a fault is injected for one call or more, not {times}")
        self._failing = True
        self._error = error
        self._remaining = times

    def heal(self) -> None:
        """Calls succeed again."""
        self._failing = False
        self._error = None
        self._remaining = None

    def check(self, operation: str) -> None:
        """Raise the injected error if a failure is due (the fakes call it; *operation*
        names the call in the default error's message)."""
        if not self._failing:
            return
        error = (
            self._error
            if self._error is not None
            else BrokerError(f"{operation} failed (injected)")
        )
        if self._remaining is not None:
            self._remaining -= 1
            if self._remaining == 0:
                self.heal()
        self.injected += 1
        raise error.with_traceback(None)


class InjectedFaultError(Exception):
    """The failure a :class:`FaultPlan` makes happen at a fault point."""


class FaultPlan:
    """A :class:`dief.seams.FaultPoints` that fails at chosen visits of chosen points.

    ``FaultPlan({"after_commit": {2, 5}})`` raises :class:`InjectedFaultError` the 2nd and the
    5th time the delivery path reaches ``after_commit`` (counting from 1), and never
    elsewhere; :attr:`visits` and :attr:`injected` say what happened, per point.
    """

    __slots__ = ("_plan", "injected", "visits")

    def __init__(self, plan: dict[str, set[int]]) -> None:
        unknown = set(plan) - set(FAULT_POINTS)
        if unknown:
            raise ConfigurationError(f"no such fault point: {', '.join(sorted(unknown))}")
        self._plan = {point: frozenset(visits) for point, visits in plan.items()}
        self.visits: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"FaultPlan(visits={dict(self.visits)}, injected={dict(self.injected)})"

    def reached(self, point: str) -> None:
        self.visits[point] += 1
        if self.visits[point] in self._plan.get(point, frozenset()):
            self.injected[point] += 1
            raise InjectedFaultError(f"fault injected at {point} (visit {self.visits[point]})")

"""Readiness: a service's lifecycle state and the checks ``/readyz`` runs while it is started.

A service is ready only while it is *started* (after its ``start`` returned, until its
``stop`` began) and every check passes. A check is an async callable answering ``None``
(fine) or a short reason; a check that raises or does not answer in time fails with its
exception's type name or "no answer within …", never with a message that could carry data.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

__all__ = ["Readiness", "ReadyCheck", "ServiceState", "StoreHealth"]

#: ``None`` when fine, else a one-line reason (no case data, no names).
ReadyCheck = Callable[[], Awaitable[str | None]]


class ServiceState(StrEnum):
    NOT_STARTED = "not started"
    STARTING = "starting"
    STARTED = "started"
    STOPPING = "stopping"
    STOPPED = "stopped"


class Readiness:
    """The state of one service and its named checks (see the module docstring)."""

    def __init__(self, *, timeout: float = 2.0) -> None:
        self._state = ServiceState.NOT_STARTED
        self._checks: dict[str, ReadyCheck] = {}
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"Readiness(state={self._state.value!r}, checks={sorted(self._checks)})"

    @property
    def state(self) -> ServiceState:
        return self._state

    def starting(self) -> None:
        self._state = ServiceState.STARTING

    def started(self) -> None:
        self._state = ServiceState.STARTED

    def stopping(self) -> None:
        self._state = ServiceState.STOPPING

    def stopped(self) -> None:
        self._state = ServiceState.STOPPED

    def add_check(self, name: str, check: ReadyCheck) -> None:
        """Run *check* on every ``/readyz`` while started (a name is added once)."""
        if name in self._checks:
            raise ValueError(f"a readiness check named {name!r} exists already")
        self._checks[name] = check

    async def check(self) -> tuple[bool, dict[str, Any]]:
        """(ready, the JSON body of ``/readyz``)."""
        if self._state is not ServiceState.STARTED:
            return False, {"status": "not ready", "reason": self._state.value}
        names = sorted(self._checks)
        answers = await asyncio.gather(*(self._run(self._checks[n]) for n in names))
        failing = {n: why for n, why in zip(names, answers, strict=True) if why is not None}
        if self._state is not ServiceState.STARTED:  # stopped while the checks ran
            return False, {"status": "not ready", "reason": self._state.value}
        if failing:
            reason = "; ".join(f"{n}: {why}" for n, why in failing.items())
            return False, {"status": "not ready", "reason": reason, "checks": failing}
        return True, {"status": "ready"}

    async def _run(self, check: ReadyCheck) -> str | None:
        try:
            async with asyncio.timeout(self._timeout):
                return await check()
        except TimeoutError:
            return f"no answer within {self._timeout:g}s"
        except Exception as exc:  # a check never breaks the endpoint  # noqa: BLE001  a probe or check never breaks the endpoint or the consumer: its failure is reported by type
            return type(exc).__name__


class StoreHealth:
    """Whether a store (a database, the outbox) answers, as a :data:`ReadyCheck`.

    The service reports what its own work saw (:meth:`succeeded`, :meth:`failed`); a check
    trusts a success younger than *fresh* seconds and otherwise asks *probe* (a cheap read),
    so a busy store is not asked again on every ``/readyz`` and an idle one is still
    checked. The reason of a failure is the service's (a :class:`dief.exceptions.StorageError`
    message: the store's reason, never a statement or its values) or the probe's error type.
    """

    def __init__(
        self,
        probe: Callable[[], Awaitable[object]],
        *,
        fresh: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._probe = probe
        self._fresh = fresh
        self._clock = clock
        self._ok_at: float | None = None
        self._failure: str | None = None

    def __repr__(self) -> str:
        return f"StoreHealth(failure={self._failure!r})"

    def succeeded(self) -> None:
        self._ok_at = self._clock()
        self._failure = None

    def failed(self, reason: str) -> None:
        self._ok_at = None
        self._failure = reason

    async def __call__(self) -> str | None:
        if self._ok_at is not None and self._clock() - self._ok_at < self._fresh:
            return None
        try:
            await self._probe()
        except Exception as exc:  # noqa: BLE001  a probe or check never breaks the endpoint or the consumer: its failure is reported by type
            message = getattr(exc, "message", None)
            self.failed(message if isinstance(message, str) else type(exc).__name__)
            return self._failure
        self.succeeded()
        return None

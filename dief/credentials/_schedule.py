"""When a node asks for its tokens (DESIGN §5 ⚑).

At the start of each cycle, for all five regions and for the current and the previous
cycle, whether or not it will post there, each request after its own random delay, so the
issuer's log says nothing about who posts where.
(A token for an older cycle is asked for on demand, when a case of that cycle needs it: that
tells the issuer the State holds an old case, a known limit.)

:func:`plan_requests` only plans; the node service waits each delay and sends the request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.exceptions import ConfigurationError
from dief.periods import CspCycle
from dief.vocab import Region

if TYPE_CHECKING:
    import random
    from collections.abc import Iterable

    from dief.credentials._wallet import TokenWallet

__all__ = ["PlannedRequest", "cycles_to_request", "plan_requests"]


_ALL_REGIONS: tuple[str, ...] = tuple(r.value for r in Region)


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    """Ask for the token of (``cycle``, ``region``) ``delay`` seconds from now."""

    delay: float
    cycle: str
    region: str


def cycles_to_request(current: str) -> tuple[str, ...]:
    """The cycles a node holds tokens for without being asked: *current* and the one before
    it (just *current* for CSP1)."""
    try:
        cycle = CspCycle.parse(current)
    except ValueError as exc:
        raise ConfigurationError("a cycle is CSP followed by its number") from exc
    if cycle.number == 1:
        return (str(cycle),)
    return (str(cycle.previous()), str(cycle))


def plan_requests(
    wallet: TokenWallet,
    cycles: Iterable[str],
    *,
    max_delay: float,
    regions: Iterable[str] = _ALL_REGIONS,
    rng: random.Random | None = None,
) -> list[PlannedRequest]:
    """The pairs of a cycle in *cycles* and a region in *regions* the wallet has no token
    for (every region by default), each with an
    independent delay drawn uniformly from [0, *max_delay*) seconds (0 in simulations),
    soonest first."""
    if max_delay < 0:
        raise ConfigurationError("max_delay must not be negative")
    draw = rng if rng is not None else secrets.SystemRandom()
    planned = [
        PlannedRequest(draw.random() * max_delay, cycle, region)
        for cycle, region in wallet.missing(cycles, regions)
    ]
    return sorted(planned, key=lambda item: item.delay)

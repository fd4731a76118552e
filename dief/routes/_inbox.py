"""Receiving route tables: a region's aggregator reads ``dief.routes``, opens what is sealed
to it, verifies the sending region's signature and keeps the latest table per (sending
region, cycle) for its digests, which show them as given.

Every aggregator reads the whole shared topic; a table sealed to another region is not for
it and is skipped silently (:attr:`RouteOutcome.NOT_FOR_US`, not an error). A table that
is sealed to it but does not open, is unsigned, badly signed, malformed, addressed to
another region or from itself is refused (logged with its reason code, never its content).
A table issued before the one stored is stale and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from dief.aggregator.store import CaseStore, RouteTables
from dief.crypto import KemPrivateKey, Opener, canonical_json
from dief.exceptions import DiefError, NoRecipientKeyError
from dief.routes._payload import VerifyKeysFor, parse_route_payload
from dief.wire import ROUTE_TABLE_SCHEMA, TYPE_ROUTE_TABLE, unsigned_document

if TYPE_CHECKING:
    from collections.abc import Iterable

    from dief.vocab import Region

__all__ = ["RouteInbox", "RouteOutcome", "RouteReceived"]

log = logging.getLogger("dief.routes")


class RouteOutcome(StrEnum):
    """What receiving one ``dief.routes`` record did."""

    STORED = "stored"
    STALE = "stale"
    NOT_FOR_US = "not_for_us"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class RouteReceived:
    """The outcome of one record; ``reason`` is the error code of a refusal."""

    outcome: RouteOutcome
    from_region: Region | None = None
    period: str | None = None
    reason: str | None = None


class RouteInbox:
    """Receives ``dief.routes`` records for *region* into *store* (module docstring).

    *keys*: the region aggregator's KEM private keys; *keys_for*: the trusted signing
    (verify) keys of a sending region, e.g. from the signed directory.
    """

    def __init__(
        self,
        region: Region,
        store: CaseStore,
        *,
        keys: Iterable[KemPrivateKey],
        keys_for: VerifyKeysFor,
    ) -> None:
        self._region = region
        self._tables = RouteTables(store)
        self._opener = Opener(keys, schemas={TYPE_ROUTE_TABLE: frozenset({ROUTE_TABLE_SCHEMA})})
        self._keys_for = keys_for

    def __repr__(self) -> str:
        return f"RouteInbox(region={self._region.value})"

    def _refused(self, exc: DiefError) -> RouteReceived:
        log.warning("%s: route table refused (%s)", self._region.value, exc.code)
        return RouteReceived(RouteOutcome.REFUSED, reason=exc.code)

    async def receive(self, value: bytes) -> RouteReceived:
        """Open, verify and keep one record's route table (see the module docstring)."""
        try:
            opened = self._opener.open(value)
        except NoRecipientKeyError:
            return RouteReceived(RouteOutcome.NOT_FOR_US)
        except DiefError as exc:
            return self._refused(exc)
        if opened.region != self._region.value:
            return self._refused(DiefError("sealed for another region", code="wrong_region"))
        try:
            payload = parse_route_payload(opened.payload, self._keys_for, receiver=self._region)
        except DiefError as exc:
            return self._refused(exc)
        if payload.from_region is self._region:
            return self._refused(DiefError("a route table from this region", code="wrong_region"))
        table = payload.table()
        body = canonical_json(unsigned_document(table)).decode("utf-8")
        stored = await self._tables.keep(
            self._region.value, payload.from_region.value, payload.period, payload.issued_at, body
        )
        outcome = RouteOutcome.STORED if stored else RouteOutcome.STALE
        return RouteReceived(outcome, payload.from_region, payload.period)

    async def receive_many(self, values: Iterable[bytes]) -> list[RouteReceived]:
        """:meth:`receive` for each value, in order."""
        return [await self.receive(value) for value in values]

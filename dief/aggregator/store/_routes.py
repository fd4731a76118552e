"""Route tables in the aggregator's database (DESIGN §5 ⚑ ``related_regions``).

Two sides, one module:

- **Sending**: :meth:`RouteTables.routed_cases` reads the region's stored cases of a CSP
  cycle whose ``related_regions`` (a JSON array of region codes, migration 0010) name
  another region: latest revisions, active, not TLP:RED. O(cases of the cycle): route
  tables are issued with the closed cycles' digests, not per record.
- **Receiving** (table ``route_tables``, migration 0011): the latest route table received
  from each (sending region, period), as given: the verified table's canonical JSON, never
  a case, contributor or owner key. :meth:`RouteTables.keep` stores a table unless one
  issued later is already there; :meth:`RouteTables.received` reads them back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, column, select, table
from sqlalchemy.exc import SQLAlchemyError

from dief.aggregator.store._store import CaseStore
from dief.database import db_reason as _why
from dief.exceptions import StorageError

__all__ = ["ReceivedRoute", "RouteCase", "RouteTables", "route_tables"]

_metadata = MetaData()

#: The latest route table received per (receiving region, sending region, period).
route_tables = Table(
    "route_tables",
    _metadata,
    Column("region", String(8), primary_key=True),
    Column("from_region", String(8), primary_key=True),
    Column("period", String(8), primary_key=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("body", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    sqlite_with_rowid=False,
)

# The columns of ``cases`` read here (``related_regions`` comes with migration 0010).
_cases = table(
    "cases",
    column("region"),
    column("status"),
    column("tlp"),
    column("contributor"),
    column("cycle"),
    column("dimension_values"),
    column("related_regions"),
)


@dataclass(frozen=True, slots=True)
class RouteCase:
    """What a route table needs of one stored case (its latest revision)."""

    contributor: str
    cycle: str
    values: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ReceivedRoute:
    """A stored route table: who sent it, for which cycle, when issued, and its JSON."""

    from_region: str
    period: str
    issued_at: datetime
    body: str


def _regions(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    decoded = json.loads(text)
    return tuple(str(r) for r in decoded) if isinstance(decoded, list) else ()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class RouteTables:
    """Route tables of a started :class:`CaseStore`'s database (module docstring)."""

    def __init__(self, store: CaseStore) -> None:
        self._store = store

    def __repr__(self) -> str:
        return f"RouteTables({self._store!r})"

    async def routed_cases(self, region: str, cycle: str) -> dict[str, list[RouteCase]]:
        """Receiving region → the cases of *region* in *cycle* whose route passes there
        (active, not TLP:RED; *region* itself never a receiver)."""
        engine = self._store._require()
        c = _cases.c
        stmt = (
            select(c.contributor, c.cycle, c.dimension_values, c.related_regions)
            .where(c.region == region, c.cycle == cycle, c.status == "active", c.tlp != "red")
            .order_by(c.contributor)
        )
        out: dict[str, list[RouteCase]] = {}
        try:
            async with engine.connect() as conn:
                for row in await conn.execute(stmt):
                    related = set(_regions(row.related_regions)) - {region}
                    if not related:
                        continue
                    pairs = tuple(
                        sorted((str(d), str(v)) for d, v in json.loads(row.dimension_values))
                    )
                    case = RouteCase(row.contributor, row.cycle, pairs)
                    for receiver in sorted(related):
                        out.setdefault(receiver, []).append(case)
        except SQLAlchemyError as exc:
            raise StorageError(f"reading routed cases of {region} failed: {_why(exc)}") from exc
        return out

    async def keep(
        self, region: str, from_region: str, period: str, issued_at: datetime, body: str
    ) -> bool:
        """Store the table *region* received from *from_region* for *period*, unless one
        issued later is stored already (an equal ``issued_at`` replaces it: the sender
        re-issued within the hour). Returns whether it was stored."""
        engine = self._store._require()
        t = route_tables
        key = (t.c.region == region, t.c.from_region == from_region, t.c.period == period)
        now = datetime.now(UTC)
        try:
            async with engine.begin() as conn:
                held = (await conn.execute(select(t.c.issued_at).where(*key))).scalar_one_or_none()
                if held is not None and _aware(held) > issued_at:
                    return False
                values = {"issued_at": issued_at, "body": body, "received_at": now}
                if held is None:
                    await conn.execute(
                        t.insert().values(
                            region=region, from_region=from_region, period=period, **values
                        )
                    )
                else:
                    await conn.execute(t.update().where(*key).values(**values))
        except SQLAlchemyError as exc:
            raise StorageError(f"storing a route table for {region} failed: {_why(exc)}") from exc
        return True

    async def received(
        self, region: str, periods: Sequence[str] | None = None
    ) -> list[ReceivedRoute]:
        """The route tables *region* holds (of *periods*, default all), by period then
        sending region."""
        engine = self._store._require()
        t = route_tables
        stmt = select(t.c.from_region, t.c.period, t.c.issued_at, t.c.body).where(
            t.c.region == region
        )
        if periods is not None:
            stmt = stmt.where(t.c.period.in_(list(periods)))
        stmt = stmt.order_by(t.c.period, t.c.from_region)
        try:
            async with engine.connect() as conn:
                return [
                    ReceivedRoute(r.from_region, r.period, _aware(r.issued_at), r.body)
                    for r in await conn.execute(stmt)
                ]
        except SQLAlchemyError as exc:
            raise StorageError(f"reading route tables of {region} failed: {_why(exc)}") from exc

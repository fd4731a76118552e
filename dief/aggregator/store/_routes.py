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
- **What the sender published** (table ``route_table_cells``, migration 0011): per
  (sending region, receiving region, cycle), every cell an issue of the table listed, with
  the count last published, or NULL once suppressed (then for good), as ``digest_cells``
  does for digests. :meth:`RouteTables.published_patterns` gives them to the next issue,
  :meth:`RouteTables.record_published` records an issue before it is sent, so two issues
  of a table compared recover no cell (``dief.routes.protect_route``).

Both tables are declared on the store's one :data:`~dief.aggregator.store._schema.metadata`,
so the migrations are checked against them too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    column,
    false,
    or_,
    select,
    table,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from dief.aggregator.store._schema import metadata
from dief.database import db_reason as _why
from dief.exceptions import StorageError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from dief.aggregator.store._store import CaseStore

__all__ = [
    "ReceivedRoute",
    "RouteCase",
    "RoutePattern",
    "RouteTables",
    "route_table_cells",
    "route_tables",
]

_CHUNK = 400

#: The latest route table received per (receiving region, sending region, period).
route_tables = Table(
    "route_tables",
    metadata,
    Column("region", String(8), primary_key=True),
    Column("from_region", String(8), primary_key=True),
    Column("period", String(8), primary_key=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("body", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    sqlite_with_rowid=False,
)

#: What the sending region's issues of a route table listed, per (sending region,
#: receiving region, cycle, dimension, value): the count last published, NULL once
#: suppressed (then for good). Totals are (``_total``, ``_all``).
route_table_cells = Table(
    "route_table_cells",
    metadata,
    Column("region", String(8), primary_key=True),
    Column("to_region", String(8), primary_key=True),
    Column("period", String(8), primary_key=True),
    Column("dimension", String(32), primary_key=True),
    Column("value", String(64), primary_key=True),
    Column("count", Integer, nullable=True),
    # published at one case or more by some issue (migration 0015): the receiving meeting
    # keeps that issue, so the cell bounds the sender's row cell even once suppressed
    Column("published", Boolean, nullable=False, server_default=false()),
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


#: A cell of a route table: (dimension, value); the total is (``_total``, ``_all``).
RouteCell = tuple[str, str]


@dataclass(frozen=True, slots=True)
class RoutePattern:
    """What the earlier issues of one route table listed: the cells ever suppressed, and
    the count last published of every other listed cell; ``published``: every cell some
    issue published at one case or more (suppressed since or not)."""

    suppressed: frozenset[RouteCell] = frozenset()
    counts: Mapping[RouteCell, int] = field(default_factory=dict)
    published: frozenset[RouteCell] = frozenset()

    def __len__(self) -> int:
        return len(self.suppressed) + len(self.counts)

    @staticmethod
    def bounds(count: int | None) -> bool:
        """Whether a cell an issue lists at *count* (``None``: suppressed) is published in
        the sense of ``published``: a count of one case or more, which bounds the sender's
        summary row cell from below for the receiving meeting (a cell listed at 0 bounds
        nothing). The one rule: the record's mark and ``dief.routes.routed_cells``."""
        return count is not None and count > 0


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
        engine = self._store._require()  # noqa: SLF001  the store's query helpers share its private engine accessor, inside the store package
        c = _cases.c
        stmt = (
            select(c.contributor, c.cycle, c.dimension_values, c.related_regions)
            .where(c.region == region, c.cycle == cycle, c.status == "active", c.tlp != "red")
            .order_by(c.contributor)
        )
        out: dict[str, list[RouteCase]] = {}
        try:  # noqa: PLW0717  every failure of the transaction maps to one StorageError
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
        engine = self._store._require()  # noqa: SLF001  the store's query helpers share its private engine accessor, inside the store package
        t = route_tables
        key = (t.c.region == region, t.c.from_region == from_region, t.c.period == period)
        now = datetime.now(UTC)
        try:  # noqa: PLW0717  every failure of the transaction maps to one StorageError
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
        engine = self._store._require()  # noqa: SLF001  the store's query helpers share its private engine accessor, inside the store package
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

    async def published_patterns(self, region: str, period: str) -> dict[str, RoutePattern]:
        """Receiving region → what *region*'s earlier issues of its route table of
        *period* listed (an empty :class:`RoutePattern` where none was issued)."""
        engine = self._store._require()  # noqa: SLF001  the store's query helpers share its private engine accessor, inside the store package
        t = route_table_cells.c
        stmt = select(t.to_region, t.dimension, t.value, t.count, t.published).where(
            t.region == region, t.period == period
        )
        try:
            async with engine.connect() as conn:
                rows = list(await conn.execute(stmt))
        except SQLAlchemyError as exc:
            raise StorageError(
                f"reading the published route cells of {region} failed: {_why(exc)}"
            ) from exc
        suppressed: dict[str, set[RouteCell]] = {}
        counts: dict[str, dict[RouteCell, int]] = {}
        published: dict[str, set[RouteCell]] = {}
        for to, dimension, value, count, once in rows:
            if count is None:
                suppressed.setdefault(to, set()).add((dimension, value))
            else:
                counts.setdefault(to, {})[dimension, value] = int(count)
            if once:
                published.setdefault(to, set()).add((dimension, value))
        return {
            to: RoutePattern(
                frozenset(suppressed.get(to, ())),
                counts.get(to, {}),
                frozenset(published.get(to, ())),
            )
            for to in sorted(suppressed.keys() | counts.keys())
        }

    async def record_published(
        self,
        region: str,
        tables: Mapping[tuple[str, str], Mapping[RouteCell, int | None]],
    ) -> int:
        """Record, in one transaction, what an issue of *region*'s route tables lists:
        (receiving region, cycle) → each listed cell's published count, ``None`` where
        suppressed. A suppressed cell stays suppressed for good; a published one keeps its
        last count, and that it was published at one case or more (``published``, also
        for good). Returns how many rows were written (new or changed)."""
        wanted = {
            (to, period, dimension, value): count
            for (to, period), cells in tables.items()
            for (dimension, value), count in cells.items()
        }
        if not wanted:
            return 0
        engine = self._store._require()  # noqa: SLF001  the store's query helpers share its private engine accessor, inside the store package
        t = route_table_cells
        try:  # noqa: PLW0717  every failure of the transaction maps to one StorageError
            async with engine.begin() as conn:
                stored: dict[tuple[str, str, str, str], int | None] = {
                    (to, p, d, v): n
                    for to, p, d, v, n in await conn.execute(
                        select(t.c.to_region, t.c.period, t.c.dimension, t.c.value, t.c.count)
                        .where(t.c.region == region)
                        .where(t.c.period.in_(sorted({key[1] for key in wanted})))
                    )
                }
                changed = [
                    {"region": region, "to_region": to, "period": p, "dimension": d, "value": v,
                     "count": count, "published": RoutePattern.bounds(count)}
                    for (to, p, d, v), count in sorted(wanted.items())
                    if (to, p, d, v) not in stored
                    or (stored[to, p, d, v] is not None and stored[to, p, d, v] != count)
                ]  # fmt: skip
                dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
                for start in range(0, len(changed), _CHUNK):
                    insert = dialect.insert(t).values(changed[start : start + _CHUNK])
                    # a row suppressed meanwhile (a concurrent issue) stays suppressed
                    await conn.execute(
                        insert.on_conflict_do_update(
                            index_elements=["region", "to_region", "period", "dimension", "value"],
                            set_={
                                "count": insert.excluded["count"],
                                # once published, for good (the receiving meeting keeps it)
                                "published": or_(t.c.published, insert.excluded["published"]),
                            },
                            where=t.c.count.is_not(None),
                        )
                    )
        except SQLAlchemyError as exc:
            raise StorageError(
                f"recording the published route cells of {region} failed: {_why(exc)}"
            ) from exc
        return len(changed)

"""Bulletins a region released (DESIGN §13 ⚑, issue #18): table ``released_bulletins``,
migration 0012.

The release rule's audit counts every bulletin a region let out as a case every reader
knows; the collector retracts a released bulletin when its case is revised or withdrawn.
Both must survive a restart, so each released bulletin is kept here: its random id, the
region, the case and revision it came from (kept at the aggregator, which holds the case
anyway; never sent), its cycle, its generalised facts as JSON **without the lesson** (free
text stays sealed, :mod:`dief.aggregator.store._schema`) and, once its case was revised or
withdrawn, when it was retracted (the hour). The first write of an id wins: keeping it again
changes nothing, so a restart never releases a bulletin twice.

Declared on the store's :data:`~dief.aggregator.store._schema.metadata`, so the migrations
are checked against it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Column, DateTime, Integer, String, Table, Text, select, update
from sqlalchemy.exc import SQLAlchemyError

from dief.aggregator.store._schema import metadata
from dief.database import db_reason as _why
from dief.exceptions import StorageError
from dief.seams import coarse_hour

if TYPE_CHECKING:
    from datetime import datetime

    from dief.aggregator.store._store import CaseStore

__all__ = ["ReleasedBulletin", "ReleasedBulletins", "released_bulletins"]

#: Every bulletin a served region released, by its random id.
released_bulletins = Table(
    "released_bulletins",
    metadata,
    Column("bulletin_id", String(32), primary_key=True),
    Column("region", String(8), nullable=False, index=True),
    Column("case_id", String(36), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("cycle", String(8), nullable=False),
    Column("facts", Text, nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=False),
    Column("retracted_at", DateTime(timezone=True), nullable=True),
)


@dataclass(frozen=True, slots=True)
class ReleasedBulletin:
    """One released bulletin: ``facts`` is the entry's JSON without its lesson."""

    bulletin_id: str
    region: str
    case_id: str = ""
    revision: int = 0
    cycle: str = ""
    facts: str = "{}"
    retracted: bool = False

    def __repr__(self) -> str:  # the case id stays out of logs
        return f"ReleasedBulletin({self.bulletin_id[:8]}…, {self.region}, {self.cycle})"


def _hour() -> datetime:
    return coarse_hour(time.time())


class ReleasedBulletins:
    """The ``released_bulletins`` table of a started :class:`CaseStore`."""

    def __init__(self, store: CaseStore) -> None:
        self._store = store

    def __repr__(self) -> str:
        return f"ReleasedBulletins({self._store!r})"

    async def keep(  # noqa: PLR0913  one keyword per column (dief.bulletins.BulletinLedger)
        self,
        *,
        bulletin_id: str,
        region: str,
        case_id: str,
        revision: int,
        cycle: str,
        facts: str,
    ) -> bool:
        """Record a released bulletin; False if its id was kept already (the first wins)."""
        engine = self._store._require()  # noqa: SLF001  the store's query helpers share its private engine accessor, inside the store package
        t = released_bulletins
        try:
            async with engine.begin() as conn:
                held = await conn.execute(
                    select(t.c.bulletin_id).where(t.c.bulletin_id == bulletin_id)
                )
                if held.first() is not None:
                    return False
                await conn.execute(
                    t.insert().values(
                        bulletin_id=bulletin_id,
                        region=region,
                        case_id=case_id,
                        revision=revision,
                        cycle=cycle,
                        facts=facts,
                        released_at=_hour(),
                        retracted_at=None,
                    )
                )
        except SQLAlchemyError as exc:
            raise StorageError(f"keeping a released bulletin failed: {_why(exc)}") from exc
        return True

    async def retract(self, bulletin_id: str) -> None:
        """Mark *bulletin_id* retracted (its case was revised or withdrawn)."""
        engine = self._store._require()  # noqa: SLF001  the store's query helpers share its private engine accessor, inside the store package
        t = released_bulletins
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    update(t)
                    .where(t.c.bulletin_id == bulletin_id, t.c.retracted_at.is_(None))
                    .values(retracted_at=_hour())
                )
        except SQLAlchemyError as exc:
            raise StorageError(f"retracting a released bulletin failed: {_why(exc)}") from exc

    async def released(
        self, region: str, *, include_retracted: bool = False
    ) -> list[ReleasedBulletin]:
        """*region*'s released bulletins (in force only, unless *include_retracted*), in the
        order they were kept."""
        engine = self._store._require()  # noqa: SLF001  the store's query helpers share its private engine accessor, inside the store package
        t = released_bulletins
        stmt = select(t).where(t.c.region == region)
        if not include_retracted:
            stmt = stmt.where(t.c.retracted_at.is_(None))
        stmt = stmt.order_by(t.c.released_at, t.c.bulletin_id)
        try:
            async with engine.connect() as conn:
                return [
                    ReleasedBulletin(
                        r.bulletin_id,
                        r.region,
                        r.case_id,
                        int(r.revision),
                        r.cycle,
                        r.facts,
                        retracted=r.retracted_at is not None,
                    )
                    for r in await conn.execute(stmt)
                ]
        except SQLAlchemyError as exc:
            raise StorageError(
                f"reading the released bulletins of {region} failed: {_why(exc)}"
            ) from exc

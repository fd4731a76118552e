"""The Secretariat's database: the latest version of every region's digest, as cells.

SQLAlchemy 2 async, SQLite by default, PostgreSQL by URL; small tables made with
``create_all`` (no migrations yet: the schema is the Secretariat's alone; a table added
later is made on the next start):

- ``secretariat_digests`` — per (region, period) the latest version received: version,
  issue hour, content hash, and the sealed envelope as received (the lessons stay inside);
- ``secretariat_cells`` — that version's ``csp_cells`` (no TLP:RED, unsuppressed), so a
  summary is built from stored cells exactly as from an aggregator's store;
- ``secretariat_rows`` — per (region, cycle), what the region's joint pattern requires of
  its row of the cycle's summary (the cycle digest's ``summary_row``, as JSON);
- ``secretariat_summaries`` — per cycle, the signed summary last published and the hash of
  its unsigned content (an unchanged summary is not published again);
- ``secretariat_versions`` — per (region, period) the ``data_version`` the digest held
  states (``notes.data_version``), which the summary's region table states in turn
  (docs/audit.md, "Issue linking");
- ``secretariat_refused`` — refused records that name no region, so no ``dief.<region>.dlq``
  can take them; kept with their reason and source coordinates, never dropped;
- ``secretariat_withheld`` — per cycle whose summary disclosure control could not protect
  (docs/secretariat.md, "A summary that cannot be protected"): why, since when, and when
  last tried; cleared when the cycle's summary builds again. The Secretariat's portal
  shows it.

:class:`SecretariatStore` is a :class:`dief.disclosure.CellSource`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import pydantic
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from dief.aggregator.store import CellRow
from dief.database import TableStore, refused_by_database
from dief.database import db_reason as _why
from dief.digests import DigestPayload, SummaryRow, content_hash
from dief.exceptions import (
    ConfigurationError,
    StorageError,
    StorageRefusedError,
    StoredDataError,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.sql.elements import ColumnElement

    from dief.disclosure import RowRequirement

__all__ = ["ReceivedDigest", "SecretariatStore", "StoreOutcome", "Withheld"]

_metadata = MetaData()

_digests = Table(
    "secretariat_digests",
    _metadata,
    Column("region", String(8), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

_cells = Table(
    "secretariat_cells",
    _metadata,
    Column("region", String(8), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("dimension", String(32), primary_key=True),
    Column("value", String(64), primary_key=True),
    Column("cycle", String(8), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("contributors", Integer, nullable=False),
)

_rows = Table(
    "secretariat_rows",
    _metadata,
    Column("region", String(8), primary_key=True),
    Column("cycle", String(8), primary_key=True),
    Column("document", Text, nullable=False),
)

_versions = Table(
    "secretariat_versions",
    _metadata,
    Column("region", String(8), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("token", String(64), nullable=False),
)

_summaries = Table(
    "secretariat_summaries",
    _metadata,
    Column("cycle", String(8), primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("document", Text, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
)

_refused = Table(
    "secretariat_refused",
    _metadata,
    Column("topic", String(249), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("offset", BigInteger, primary_key=True),
    Column("reason", String(48), nullable=False),
    Column("detail", String(500), nullable=False),
    Column("value", LargeBinary, nullable=True),
    Column("refused_at", DateTime(timezone=True), nullable=False),
)

_withheld = Table(
    "secretariat_withheld",
    _metadata,
    Column("cycle", String(8), primary_key=True),
    Column("reason", String(500), nullable=False),
    Column("since", DateTime(timezone=True), nullable=False),
    Column("checked_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True, slots=True)
class Withheld:
    """A cycle whose summary is withheld: why (cells by period, dimension and value; never
    a State or a count), since when, and when it was last tried."""

    reason: str
    since: datetime
    checked_at: datetime


class StoreOutcome(StrEnum):
    """What storing one received digest did."""

    STORED = "stored"
    """a new (region, period), or a higher version than the one held: it replaces it"""
    DUPLICATE = "duplicate"
    """the version held, with the same content (a redelivery)"""
    STALE = "stale"
    """a lower version than the one held: kept out"""
    CONFLICT = "conflict"
    """the version held, with different content: refused"""


@dataclass(frozen=True, slots=True)
class ReceivedDigest:
    """An opened, verified digest and the sealed bytes it came in."""

    payload: DigestPayload
    sealed: bytes

    @property
    def key(self) -> tuple[str, str]:
        return (self.payload.region.value, self.payload.period)


class SecretariatStore(TableStore):
    """Async repository of received digests and published summaries."""

    _what = "the Secretariat store"
    _metadata = _metadata

    # -- digests ---------------------------------------------------------------------------

    async def store_digests(self, received: Sequence[ReceivedDigest]) -> list[StoreOutcome]:
        """Keep the latest version of each (region, period), in one transaction."""
        engine = self._require()
        outcomes: list[StoreOutcome] = []
        now = datetime.now(UTC)
        try:  # noqa: PLW0717  one transaction: whatever fails in it rolls it back
            async with engine.begin() as conn:
                for item in received:
                    payload = item.payload
                    region, period = item.key
                    digest_hash = content_hash(payload)
                    held = (
                        await conn.execute(
                            select(_digests.c.version, _digests.c.content_hash).where(
                                _digests.c.region == region, _digests.c.period == period
                            )
                        )
                    ).first()
                    if held is not None and payload.version < held.version:
                        outcomes.append(StoreOutcome.STALE)
                        continue
                    if held is not None and payload.version == held.version:
                        same = held.content_hash == digest_hash
                        outcomes.append(StoreOutcome.DUPLICATE if same else StoreOutcome.CONFLICT)
                        continue
                    where = and_(_digests.c.region == region, _digests.c.period == period)
                    await conn.execute(delete(_digests).where(where))
                    await conn.execute(
                        delete(_cells).where(_cells.c.region == region, _cells.c.period == period)
                    )
                    await conn.execute(
                        delete(_rows).where(_rows.c.region == region, _rows.c.cycle == period)
                    )
                    if payload.summary_row is not None:
                        await conn.execute(
                            _rows.insert().values(
                                region=region,
                                cycle=period,
                                document=payload.summary_row.model_dump_json(),
                            )
                        )
                    await conn.execute(
                        _digests.insert().values(
                            region=region,
                            period=period,
                            version=payload.version,
                            issued_at=payload.issued_at,
                            content_hash=digest_hash,
                            sealed=item.sealed,
                            received_at=now,
                        )
                    )
                    rows = [
                        {
                            "region": region,
                            "period": period,
                            "dimension": c.dimension,
                            "value": c.value,
                            "cycle": c.cycle,
                            "count": c.count,
                            "contributors": c.contributors,
                        }
                        for c in payload.csp_cells
                    ]
                    if rows:
                        await conn.execute(_cells.insert(), rows)
                    await conn.execute(delete(_versions).where(where_version(region, period)))
                    token = (payload.digest.notes.model_extra or {}).get("data_version")
                    if isinstance(token, str):
                        await conn.execute(
                            _versions.insert().values(region=region, period=period, token=token)
                        )
                    outcomes.append(StoreOutcome.STORED)
        except SQLAlchemyError as exc:
            if refused_by_database(exc):  # the data: the same digests fail every time
                raise StorageRefusedError(
                    f"the database refused {len(received)} digests: {_why(exc)}"
                ) from exc
            raise StorageError(f"storing {len(received)} digests failed: {_why(exc)}") from exc
        return outcomes

    async def data_versions(self, region: str) -> dict[str, tuple[int, str]]:
        """Period → (0, the ``data_version`` its digest held states), for *region*: what
        the summary's region table states (as ``CaseStore.data_versions`` answers)."""
        engine = self._require()
        stmt = select(_versions.c.period, _versions.c.token).where(_versions.c.region == region)
        try:
            async with engine.connect() as conn:
                return {str(r.period): (0, str(r.token)) for r in await conn.execute(stmt)}
        except SQLAlchemyError as exc:
            raise StorageError(f"reading data versions of {region} failed: {_why(exc)}") from exc

    async def versions(self, period: str) -> dict[str, int]:
        """Region → version held, for the digests of *period*."""
        engine = self._require()
        stmt = select(_digests.c.region, _digests.c.version).where(_digests.c.period == period)
        try:
            async with engine.connect() as conn:
                return {r.region: int(r.version) for r in await conn.execute(stmt)}
        except SQLAlchemyError as exc:
            raise StorageError(f"reading digest versions of {period} failed: {_why(exc)}") from exc

    async def cell_rows(
        self, region: str, periods: Sequence[str], *, include_red: bool = True
    ) -> list[CellRow]:
        """The stored ``csp_cells`` of *region*'s digests of *periods* (CellSource).

        Digests carry no TLP:RED cells: asking for them is a programming error.
        """
        if include_red:
            raise ConfigurationError("digests carry no TLP:RED cells: pass include_red=False")
        engine = self._require()
        c = _cells.c
        stmt = select(
            c.period, c.dimension, c.value, c.cycle, c.count.label("cases"), c.contributors
        ).where(c.region == region, c.period.in_(list(periods)))
        try:
            async with engine.connect() as conn:
                return [
                    CellRow(
                        r.period, r.dimension, r.value, r.cycle, int(r.cases), int(r.contributors)
                    )
                    for r in await conn.execute(stmt)
                ]
        except SQLAlchemyError as exc:
            raise StorageError(f"reading digest cells of {region} failed: {_why(exc)}") from exc

    async def summary_rows(self, cycle: str) -> dict[str, RowRequirement]:
        """Region → what its joint pattern requires of its row of *cycle*'s summary (from
        the cycle digest held; regions that sent none are left out)."""
        engine = self._require()
        stmt = select(_rows.c.region, _rows.c.document).where(_rows.c.cycle == cycle)
        try:
            async with engine.connect() as conn:
                found = [(r.region, r.document) for r in await conn.execute(stmt)]
        except SQLAlchemyError as exc:
            raise StorageError(f"reading summary rows of {cycle} failed: {_why(exc)}") from exc
        try:
            return {
                region: SummaryRow.model_validate_json(doc).requirement(cycle)
                for region, doc in found
            }
        except pydantic.ValidationError as exc:
            raise StoredDataError(f"a stored {cycle} row requirement does not parse") from exc

    # -- summaries -------------------------------------------------------------------------

    async def summary(self, cycle: str) -> tuple[str, str] | None:
        """(content hash, signed document) of the summary last published for *cycle*."""
        engine = self._require()
        stmt = select(_summaries.c.content_hash, _summaries.c.document).where(
            _summaries.c.cycle == cycle
        )
        try:
            async with engine.connect() as conn:
                row = (await conn.execute(stmt)).first()
        except SQLAlchemyError as exc:
            raise StorageError(f"reading the summary of {cycle} failed: {_why(exc)}") from exc
        return None if row is None else (row.content_hash, row.document)

    async def record_summary(self, cycle: str, digest_hash: str, document: str) -> None:
        """Remember the signed summary published for *cycle*."""
        engine = self._require()
        try:
            async with engine.begin() as conn:
                await conn.execute(delete(_summaries).where(_summaries.c.cycle == cycle))
                await conn.execute(
                    _summaries.insert().values(
                        cycle=cycle,
                        content_hash=digest_hash,
                        document=document,
                        published_at=datetime.now(UTC),
                    )
                )
        except SQLAlchemyError as exc:
            raise StorageError(f"recording the summary of {cycle} failed: {_why(exc)}") from exc

    async def record_withheld(self, cycle: str, reason: str) -> None:
        """Remember that *cycle*'s summary is withheld, and why (the first time it was
        withheld is kept)."""
        engine = self._require()
        now = datetime.now(UTC)
        try:
            async with engine.begin() as conn:
                dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
                insert = dialect.insert(_withheld).values(
                    cycle=cycle, reason=reason[:500], since=now, checked_at=now
                )
                # one statement: two writers never race to insert the same cycle
                await conn.execute(
                    insert.on_conflict_do_update(
                        index_elements=["cycle"],
                        set_={
                            "reason": insert.excluded["reason"],
                            "checked_at": insert.excluded["checked_at"],
                        },
                    )
                )
        except SQLAlchemyError as exc:
            raise StorageError(f"recording that {cycle} is withheld failed: {_why(exc)}") from exc

    async def clear_withheld(self, cycle: str) -> None:
        """*cycle*'s summary builds again: no longer withheld."""
        engine = self._require()
        try:
            async with engine.begin() as conn:
                await conn.execute(delete(_withheld).where(_withheld.c.cycle == cycle))
        except SQLAlchemyError as exc:
            raise StorageError(f"clearing the withheld {cycle} failed: {_why(exc)}") from exc

    async def withheld(self) -> dict[str, Withheld]:
        """Cycle → why its summary is withheld, for every cycle withheld now."""
        engine = self._require()
        w = _withheld.c
        stmt = select(w.cycle, w.reason, w.since, w.checked_at).order_by(w.cycle)
        try:
            async with engine.connect() as conn:
                rows = list(await conn.execute(stmt))
        except SQLAlchemyError as exc:
            raise StorageError(f"reading the withheld summaries failed: {_why(exc)}") from exc
        return {r.cycle: Withheld(r.reason, _aware(r.since), _aware(r.checked_at)) for r in rows}

    # -- refusals --------------------------------------------------------------------------

    async def record_refused(  # noqa: PLR0913  a public keyword signature, used by the Secretariat's consumer
        self,
        *,
        reason: str,
        detail: str,
        topic: str,
        partition: int,
        offset: int,
        value: bytes | None,
    ) -> None:
        """Keep a refused record that no region's DLQ can take (once per source offset)."""
        engine = self._require()
        r = _refused.c
        seen = select(r.reason).where(
            r.topic == topic, r.partition == partition, r.offset == offset
        )
        try:
            async with engine.begin() as conn:
                if (await conn.execute(seen)).first() is not None:
                    return
                await conn.execute(
                    _refused.insert().values(
                        reason=reason[:48],
                        detail=detail[:500],
                        topic=topic,
                        partition=partition,
                        offset=offset,
                        value=value,
                        refused_at=datetime.now(UTC),
                    )
                )
        except SQLAlchemyError as exc:
            raise StorageError(f"recording a refused digest failed: {_why(exc)}") from exc

    async def refused_counts(self) -> dict[str, int]:
        """Reason → refused records kept here (those without a region)."""
        engine = self._require()
        stmt = select(_refused.c.reason, func.count()).group_by(_refused.c.reason)
        try:
            async with engine.connect() as conn:
                return {str(r): int(n) for r, n in await conn.execute(stmt)}
        except SQLAlchemyError as exc:
            raise StorageError(f"reading refused digests failed: {_why(exc)}") from exc


def _aware(moment: datetime) -> datetime:
    """*moment* in UTC (SQLite hands back a naive datetime of what was stored in UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def where_version(region: str, period: str) -> ColumnElement[bool]:
    """The ``secretariat_versions`` row of (region, period)."""
    return and_(_versions.c.region == region, _versions.c.period == period)

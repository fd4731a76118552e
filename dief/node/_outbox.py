"""The node's durable outbox (DESIGN §8): every accepted case is written here first.

An entry leaves the outbox (``published_at`` set) only after the broker acknowledged it
with ``acks=all``. The outbox also remembers each case's latest revision and owner, so
revisions are numbered per case and a restarted node resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    func,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from dief.exceptions import StorageError
from dief.storage._engine import DURABLE_PRAGMAS, EngineOwner, open_engine
from dief.storage._reason import io_reason as _reason

__all__ = ["Outbox", "OutboxEntry", "PendingEntry"]

_metadata = MetaData()

_entries = Table(
    "outbox",
    _metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("topic", String(64), nullable=False),
    Column("key", LargeBinary, nullable=False),
    Column("value", LargeBinary, nullable=False),
    Column("timestamp_ms", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True, index=True),
)

_sources = Table(
    "intake_sources",
    _metadata,
    # SHA-256 of a posted file's bytes: a file is posted once, even if the node stops
    # between writing its cases and moving the file away.
    Column("digest", String(64), primary_key=True),
    Column("posted_at", DateTime(timezone=True), nullable=False),
)

_cases = Table(
    "node_cases",
    _metadata,
    Column("case_id", String(36), primary_key=True),
    Column("revision", Integer, nullable=False),
)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A sealed record waiting to be published."""

    topic: str
    key: bytes
    value: bytes = field(repr=False)
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """An outbox entry with its sequence number, as the relay reads it."""

    seq: int
    entry: OutboxEntry


class Outbox(EngineOwner):
    """A SQLite outbox file (one per national node)."""

    _what = "the outbox"

    def __init__(self, path: Path) -> None:
        self._path = path
        self._engine: AsyncEngine | None = None

    def __repr__(self) -> str:
        return f"Outbox(path={str(self._path)!r})"

    async def start(self) -> None:
        if self._engine is not None:
            return
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            # One connection, kept open: the node and its relay queue for it (SQLite takes
            # one writer at a time anyway), and no operation pays for a new connection and
            # aiosqlite thread.
            engine = await open_engine(
                f"sqlite+aiosqlite:///{self._path}",
                init=_metadata.create_all,
                pragmas=DURABLE_PRAGMAS,  # an accepted case survives a power cut
            )
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"cannot open the outbox {self._path}: {_reason(exc)}") from exc
        self._engine = engine

    async def revisions(self, case_ids: Sequence[str]) -> dict[str, int]:
        """The latest revision this node sent for each of *case_ids* it knows."""
        engine = self._require()
        found: dict[str, int] = {}
        try:
            async with engine.connect() as conn:
                for start in range(0, len(case_ids), 500):
                    chunk = case_ids[start : start + 500]
                    rows = await conn.execute(
                        select(_cases.c.case_id, _cases.c.revision).where(
                            _cases.c.case_id.in_(chunk)
                        )
                    )
                    found.update({r.case_id: r.revision for r in rows})
        except SQLAlchemyError as exc:
            raise StorageError(f"reading the outbox failed: {_reason(exc)}") from exc
        return found

    async def seen(self, source: str) -> bool:
        """Whether a source (a file digest) was already posted through this outbox."""
        engine = self._require()
        try:
            async with engine.connect() as conn:
                row = await conn.execute(
                    select(_sources.c.digest).where(_sources.c.digest == source)
                )
                return row.first() is not None
        except SQLAlchemyError as exc:
            raise StorageError(f"reading the outbox failed: {_reason(exc)}") from exc

    async def add(
        self,
        revisions: dict[str, int],
        entries: Sequence[OutboxEntry],
        *,
        source: str | None = None,
    ) -> None:
        """Record the cases' new revisions, their sealed records and the *source* they came
        from, atomically."""
        engine = self._require()
        now = datetime.now(UTC)
        try:
            async with engine.begin() as conn:
                if source is not None:
                    stmt = _sqlite_upsert(_sources).on_conflict_do_nothing()
                    await conn.execute(stmt, [{"digest": source, "posted_at": now}])
                if revisions:
                    stmt = _sqlite_upsert(_cases)
                    stmt = stmt.on_conflict_do_update(
                        index_elements=["case_id"], set_={"revision": stmt.excluded.revision}
                    )
                    await conn.execute(
                        stmt, [{"case_id": c, "revision": r} for c, r in revisions.items()]
                    )
                if entries:
                    await conn.execute(
                        _entries.insert(),
                        [
                            {
                                "topic": e.topic,
                                "key": e.key,
                                "value": e.value,
                                "timestamp_ms": e.timestamp_ms,
                                "created_at": now,
                            }
                            for e in entries
                        ],
                    )
        except SQLAlchemyError as exc:
            raise StorageError(f"writing the outbox failed: {_reason(exc)}") from exc

    async def pending(self, limit: int) -> list[PendingEntry]:
        """The oldest unpublished entries, in the order they were accepted."""
        engine = self._require()
        stmt = (
            select(_entries)
            .where(_entries.c.published_at.is_(None))
            .order_by(_entries.c.seq)
            .limit(limit)
        )
        try:
            async with engine.connect() as conn:
                return [
                    PendingEntry(
                        r.seq, OutboxEntry(r.topic, bytes(r.key), bytes(r.value), r.timestamp_ms)
                    )
                    for r in await conn.execute(stmt)
                ]
        except SQLAlchemyError as exc:
            raise StorageError(f"reading the outbox failed: {_reason(exc)}") from exc

    async def mark_published(self, seqs: Sequence[int]) -> None:
        engine = self._require()
        now = datetime.now(UTC)
        try:
            async with engine.begin() as conn:
                for start in range(0, len(seqs), 500):
                    await conn.execute(
                        update(_entries)
                        .where(_entries.c.seq.in_(seqs[start : start + 500]))
                        .values(published_at=now)
                    )
        except SQLAlchemyError as exc:
            raise StorageError(f"writing the outbox failed: {_reason(exc)}") from exc

    async def counts(self) -> tuple[int, int]:
        """(pending, published) entry counts."""
        engine = self._require()
        try:
            async with engine.connect() as conn:
                total = (
                    await conn.execute(select(func.count()).select_from(_entries))
                ).scalar_one()
                pending = (
                    await conn.execute(
                        select(func.count())
                        .select_from(_entries)
                        .where(_entries.c.published_at.is_(None))
                    )
                ).scalar_one()
        except SQLAlchemyError as exc:
            raise StorageError(f"reading the outbox failed: {_reason(exc)}") from exc
        return int(pending), int(total) - int(pending)


def _sqlite_upsert(table: Table) -> Any:
    from sqlalchemy.dialects.sqlite import insert

    return insert(table)

"""The aggregator's database: SQLite by default, PostgreSQL by URL (SQLAlchemy 2 async).

One :class:`CaseStore` per process. ``apply_batch`` runs one transaction per batch: the
record-id dedupe, the case facts and the merged cell deltas commit together, so the caller
commits Kafka offsets only after this returns (DESIGN §8).
"""

from __future__ import annotations

import asyncio
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Dialect, Insert, Table, and_, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dief.aggregation._facts import CaseFacts, CaseState, CellKey, Outcome, cell_keys
from dief.aggregation._plan import BatchPlan, plan_batch
from dief.exceptions import StorageError
from dief.storage._engine import FAST_PRAGMAS, EngineOwner, open_engine
from dief.storage._reason import db_reason as _why
from dief.storage._schema import (
    applied_records,
    case_values,
    cases,
    cell_counts,
    dead_letters,
    related_notices,
)

__all__ = ["CaseStore", "CellRow", "StoredCase", "sqlite_url"]

_MIGRATIONS = Path(__file__).parent / "migrations"
_CHUNK = 500

# Alembic keeps its migration context in module globals, so two stores migrating at once
# (``asyncio.gather(a.start(), b.start())``) corrupt each other: migrations run one at a time
# per event loop.
_MIGRATION_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _migration_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _MIGRATION_LOCKS.get(loop)
    if lock is None:
        lock = _MIGRATION_LOCKS[loop] = asyncio.Lock()
    return lock


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file (created on first use)."""
    return f"sqlite+aiosqlite:///{path}"


@dataclass(frozen=True, slots=True)
class CellRow:
    """One cell of one period for one contributor-cycle (see :mod:`dief.storage._schema`)."""

    period: str
    dimension: str
    value: str
    cycle: str
    count: int
    contributors: int


@dataclass(frozen=True, slots=True)
class StoredCase:
    """A stored case's categorical facts, for rebuilds and independent recomputation."""

    case_id: str
    revision: int
    status: str
    contributor: str
    month: str
    cycle: str
    tlp: str
    values: tuple[tuple[str, str], ...]


_BULK_TABLES = {t.name: t for t in (applied_records, case_values, cases, cell_counts)}


def _bulk_table(name: str) -> Table:
    return _BULK_TABLES[name]


@dataclass(frozen=True, slots=True)
class _BulkInsert:
    """An INSERT compiled for one dialect: driver SQL and each column's bind processor."""

    sql: str
    names: tuple[str, ...]
    processors: dict[str, Callable[[Any], Any]]

    @classmethod
    def compile(cls, stmt: Insert, table: Table, dialect: Dialect) -> _BulkInsert:
        compiled = stmt.compile(dialect=dialect)
        names = tuple(c.name for c in table.columns)
        if tuple(compiled.positiontup or ()) != names:
            raise StorageError(f"bulk insert into {table.name}: unexpected parameter order")
        processors: dict[str, Callable[[Any], Any]] = {}
        for column in table.columns:
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors[column.name] = process
        return cls(str(compiled), names, processors)

    def convert(self, column: str, value: Any) -> Any:
        """*value* as the driver takes it for *column* (its bind processor, if any)."""
        process = self.processors.get(column)
        return value if process is None else process(value)

    def process(
        self, rows: Sequence[tuple[Any, ...]], converted: Iterable[str]
    ) -> list[tuple[Any, ...]]:
        """*rows* ready for the driver; the caller already converted the *converted*
        columns (cheaper for values shared by many rows, like a batch's timestamp)."""
        todo = [
            (self.names.index(name), process)
            for name, process in self.processors.items()
            if name not in set(converted)
        ]
        if not todo:
            return rows if isinstance(rows, list) else list(rows)
        out: list[tuple[Any, ...]] = []
        for row in rows:
            values = list(row)
            for index, process in todo:
                values[index] = process(values[index])
            out.append(tuple(values))
        return out


def _cell_order(item: tuple[CellKey, int]) -> str:
    """Sort key of a cell delta: the primary key's order, as one string (far cheaper to
    compare than the tuple)."""
    period, dimension, value, cycle, contributor, red = item[0]
    return f"{period}\0{dimension}\0{value}\0{cycle}\0{contributor}\0{int(red)}"


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class CaseStore(EngineOwner):
    """Async repository of case facts and incremental cell counts."""

    _what = "the case store"

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self._url = url
        self._echo = echo
        self._engine: AsyncEngine | None = None
        self._bulk_statements: dict[tuple[str, str], _BulkInsert] = {}

    def __repr__(self) -> str:
        # The URL may carry a password: show only the dialect.
        return f"CaseStore(dialect={self._url.split(':', 1)[0]!r})"

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and bring the schema to the latest migration."""
        if self._engine is not None:
            return
        try:
            # On SQLite, one writer at a time is how it works, so one connection, kept open:
            # callers queue for it (not for SQLite's lock), and its page cache stays warm
            # from batch to batch. A new connection per batch (NullPool) started each batch
            # with a cold cache and a new aiosqlite thread.
            engine = await open_engine(
                self._url,
                init=_upgrade,
                echo=self._echo,
                pragmas=FAST_PRAGMAS,
                lock=_migration_lock(),
            )
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"cannot open the database ({self!r}): {_why(exc)}") from exc
        self._engine = engine

    async def __aenter__(self) -> CaseStore:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def dialect(self) -> str:
        return self._require().dialect.name

    # -- writing ---------------------------------------------------------------------------

    async def apply_batch(
        self,
        region: str,
        records: Sequence[CaseFacts],
        *,
        dead: Sequence[tuple[str | None, str]] = (),
        before_commit: Callable[[BatchPlan], Awaitable[None]] | None = None,
    ) -> BatchPlan:
        """Apply *records* (partition order) and count dead letters, in one transaction.

        ``dead`` lists (record_id or None, reason) of records that could not be opened or
        validated; forged revisions found while planning are counted too. A known record id
        is remembered, so a redelivered poison record is recognised. *before_commit* runs
        inside the transaction once the plan is known (the aggregator sends its dead
        letters there): if it raises, nothing is committed. Returns the plan with one
        outcome per record.
        """
        engine = self._require()
        try:
            async with engine.begin() as conn:
                plan = await self._apply(conn, region, records)
                forged = [
                    (r.record_id, o.value)
                    for r, o in zip(records, plan.outcomes, strict=True)
                    if o is Outcome.FORGED
                ]
                known = await self._applied_ids(conn, [rid for rid, _ in dead if rid is not None])
                fresh_dead = [(rid, why) for rid, why in dead if rid is None or rid not in known]
                await self._record_dead(
                    conn,
                    region,
                    Counter(reason for _, reason in [*fresh_dead, *forged]),
                    [(rid, reason) for rid, reason in fresh_dead if rid is not None],
                )
                if before_commit is not None:
                    await before_commit(plan)
        except SQLAlchemyError as exc:
            raise StorageError(f"applying a batch for {region} failed: {_why(exc)}") from exc
        return plan

    async def _apply(
        self, conn: AsyncConnection, region: str, records: Sequence[CaseFacts]
    ) -> BatchPlan:
        record_ids = list({r.record_id for r in records})
        case_ids = list({r.case_id for r in records if not r.related})
        notice_ids = list({r.case_id for r in records if r.related})
        applied = await self._applied_ids(conn, record_ids)
        existing = await self._states(conn, region, case_ids)
        notices = await self._notice_revisions(conn, region, notice_ids)
        plan = plan_batch(records, existing, applied, notices)
        now = datetime.now(UTC)

        applied_insert = self._prepared(conn, "applied_records", applied_records.insert)
        stamp = applied_insert.convert("applied_at", now)
        fresh = [
            (r.record_id, region, o.value, stamp)
            for r, o in zip(records, plan.outcomes, strict=True)
            if o is not Outcome.DUPLICATE
        ]
        if fresh:
            await self._bulk(conn, applied_insert, fresh, converted=["applied_at"])
        if plan.upserts:
            await self._write_cases(
                conn, region, sorted(plan.upserts.values(), key=lambda f: f.case_id), now
            )
        if plan.notices:
            await self._write_notices(conn, region, list(plan.notices.values()))
        if plan.deltas:

            def upsert_cells() -> Insert:
                stmt = self._insert(conn, cell_counts)
                return stmt.on_conflict_do_update(  # type: ignore[attr-defined,no-any-return]
                    index_elements=[c.name for c in cell_counts.primary_key.columns],
                    set_={"n": cell_counts.c.n + stmt.excluded.n},  # type: ignore[attr-defined]
                )

            cells = self._prepared(conn, "cell_counts", upsert_cells)
            red = {flag: cells.convert("red", flag) for flag in (False, True)}
            # In primary-key order: B-tree inserts in key order touch each page once.
            rows = [
                (region, p, d, v, c, who, red[is_red], n)
                for (p, d, v, c, who, is_red), n in sorted(plan.deltas.items(), key=_cell_order)
            ]
            await self._bulk(conn, cells, rows, converted=["red"])
        return plan

    async def _record_dead(
        self,
        conn: AsyncConnection,
        region: str,
        reasons: Mapping[str, int],
        dead_ids: Iterable[tuple[str, str]],
    ) -> None:
        rows = [
            {
                "record_id": rid,
                "region": region,
                "outcome": f"dlq:{reason}"[:32],
                "applied_at": datetime.now(UTC),
            }
            for rid, reason in dict(dead_ids).items()
        ]
        if rows:
            await conn.execute(applied_records.insert(), rows)
        if reasons:
            stmt = self._insert(conn, dead_letters)
            stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
                index_elements=["region", "reason"],
                set_={"n": dead_letters.c.n + stmt.excluded.n},  # type: ignore[attr-defined]
            )
            await conn.execute(
                stmt, [{"region": region, "reason": r, "n": n} for r, n in reasons.items()]
            )

    def _prepared(
        self, conn: AsyncConnection, table: str, build: Callable[[], Insert]
    ) -> _BulkInsert:
        """*build()* (an INSERT of every column of *table*), compiled once per dialect."""
        key = (conn.dialect.name, table)
        prepared = self._bulk_statements.get(key)
        if prepared is None:
            prepared = self._bulk_statements[key] = _BulkInsert.compile(
                build(), _bulk_table(table), conn.dialect
            )
        return prepared

    async def _bulk(
        self,
        conn: AsyncConnection,
        prepared: _BulkInsert,
        rows: Sequence[tuple[Any, ...]],
        *,
        converted: Iterable[str] = (),
    ) -> None:
        """Execute *prepared* for each row (tuples in the table's column order) through the
        driver's ``executemany``.

        SQLAlchemy Core would build a dict and process every parameter of every row; a
        batch writes tens of thousands of cell rows, so that work dominated the aggregator's
        time. The statement is compiled once per dialect and the columns' own bind
        processors are applied, so the stored values are exactly what Core would write.
        """
        await conn.exec_driver_sql(prepared.sql, prepared.process(rows, converted))

    @staticmethod
    def _insert(conn: AsyncConnection, table: Table) -> Insert:
        if conn.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    async def _applied_ids(self, conn: AsyncConnection, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(ids):
            result = await conn.execute(
                select(applied_records.c.record_id).where(applied_records.c.record_id.in_(chunk))
            )
            found.update(result.scalars())
        return found

    async def _states(
        self, conn: AsyncConnection, region: str, case_ids: Sequence[str]
    ) -> dict[str, CaseState]:
        heads: dict[str, Any] = {}
        values: dict[str, list[tuple[str, str]]] = {}
        for chunk in _chunks(case_ids):
            rows = await conn.execute(
                select(cases).where(cases.c.region == region, cases.c.case_id.in_(chunk))
            )
            for row in rows:
                heads[row.case_id] = row
            vrows = await conn.execute(
                select(case_values.c.case_id, case_values.c.dimension, case_values.c.value).where(
                    case_values.c.region == region, case_values.c.case_id.in_(chunk)
                )
            )
            for vrow in vrows:
                values.setdefault(vrow.case_id, []).append((vrow.dimension, vrow.value))
        return {cid: _state(row, values) for cid, row in heads.items()}

    async def _notice_revisions(
        self, conn: AsyncConnection, region: str, case_ids: Sequence[str]
    ) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(case_ids):
            rows = await conn.execute(
                select(related_notices.c.case_id, related_notices.c.revision).where(
                    related_notices.c.region == region, related_notices.c.case_id.in_(chunk)
                )
            )
            found.update({r.case_id: r.revision for r in rows})
        return found

    async def _write_cases(
        self, conn: AsyncConnection, region: str, facts: Sequence[CaseFacts], now: datetime
    ) -> None:
        def upsert_cases() -> Insert:
            stmt = self._insert(conn, cases)
            keep = {"region", "case_id", "owner_tag"}
            return stmt.on_conflict_do_update(  # type: ignore[attr-defined,no-any-return]
                index_elements=["region", "case_id"],
                set_={c.name: stmt.excluded[c.name] for c in cases.columns if c.name not in keep},  # type: ignore[attr-defined]
            )

        case_insert = self._prepared(conn, "cases", upsert_cases)
        stamp = case_insert.convert("updated_at", now)
        rows = [
            (
                region,
                f.case_id,
                f.revision,
                f.owner_tag,
                f.status,
                f.contributor,
                f.month,
                f.cycle,
                f.tlp,
                f.record_id,
                f.sealed,
                stamp,
            )
            for f in facts
        ]
        await self._bulk(conn, case_insert, rows, converted=["updated_at"])
        ids = [f.case_id for f in facts]
        for chunk in _chunks(ids):
            await conn.execute(
                delete(case_values).where(
                    case_values.c.region == region, case_values.c.case_id.in_(chunk)
                )
            )
        value_rows = [(region, f.case_id, d, v) for f in facts for d, v in f.values]
        if value_rows:
            await self._bulk(
                conn, self._prepared(conn, "case_values", case_values.insert), value_rows
            )

    async def _write_notices(
        self, conn: AsyncConnection, region: str, facts: Sequence[CaseFacts]
    ) -> None:
        rows = [
            {
                "region": region,
                "case_id": f.case_id,
                "primary_region": f.primary_region,
                "revision": f.revision,
                "status": f.status,
                "month": f.month,
                "record_id": f.record_id,
                "sealed": f.sealed,
            }
            for f in facts
        ]
        stmt = self._insert(conn, related_notices)
        stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=["region", "case_id"],
            set_={
                c.name: stmt.excluded[c.name]  # type: ignore[attr-defined]
                for c in related_notices.columns
                if c.name not in ("region", "case_id")
            },
        )
        await conn.execute(stmt, rows)

    async def rebuild_cells(self, region: str) -> None:
        """Recompute *region*'s cell counts from the stored cases (DESIGN §7)."""
        engine = self._require()
        try:
            async with engine.begin() as conn:
                await conn.execute(delete(cell_counts).where(cell_counts.c.region == region))
                deltas: Counter[tuple[str, str, str, str, str, bool]] = Counter()
                async for state in self._iter_states(conn, region):
                    deltas.update(cell_keys(state))
                rows = [
                    {
                        "region": region,
                        "period": p,
                        "dimension": d,
                        "value": v,
                        "cycle": c,
                        "contributor": who,
                        "red": red,
                        "n": n,
                    }
                    for (p, d, v, c, who, red), n in deltas.items()
                ]
                for chunk in _chunks(rows, 5000):
                    await conn.execute(cell_counts.insert(), list(chunk))
        except SQLAlchemyError as exc:
            raise StorageError(f"rebuilding cells for {region} failed: {_why(exc)}") from exc

    # -- reading ---------------------------------------------------------------------------

    async def cell_rows(
        self, region: str, periods: Sequence[str], *, include_red: bool = True
    ) -> list[CellRow]:
        """Per (period, dimension, value, cycle): case count and distinct contributors.

        Costs O(stored cell rows of those periods), never a scan of the cases.
        """
        engine = self._require()
        cc = cell_counts.c
        conds = [cc.region == region, cc.period.in_(list(periods)), cc.n > 0]
        if not include_red:
            conds.append(cc.red.is_(False))
        stmt = (
            select(
                cc.period,
                cc.dimension,
                cc.value,
                cc.cycle,
                func.sum(cc.n).label("cases"),
                func.count(func.distinct(cc.contributor)).label("contributors"),
            )
            .where(and_(*conds))
            .group_by(cc.period, cc.dimension, cc.value, cc.cycle)
        )
        try:
            async with engine.connect() as conn:
                result = await conn.execute(stmt)
                return [
                    CellRow(
                        r.period, r.dimension, r.value, r.cycle, int(r.cases), int(r.contributors)
                    )
                    for r in result
                ]
        except SQLAlchemyError as exc:
            raise StorageError(f"reading cells for {region} failed: {_why(exc)}") from exc

    async def periods_with_data(self, region: str) -> list[str]:
        """Every period (months, quarters, cycles) in which *region* has counted cases."""
        engine = self._require()
        cc = cell_counts.c
        stmt = (
            select(cc.period)
            .where(cc.region == region, cc.dimension == "_total", cc.n > 0)
            .distinct()
            .order_by(cc.period)
        )
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(stmt)).scalars())
        except SQLAlchemyError as exc:
            raise StorageError(f"listing periods for {region} failed: {_why(exc)}") from exc

    async def dead_letter_counts(self, region: str) -> dict[str, int]:
        engine = self._require()
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(dead_letters.c.reason, dead_letters.c.n).where(
                        dead_letters.c.region == region
                    )
                )
                return {r.reason: int(r.n) for r in rows}
        except SQLAlchemyError as exc:
            raise StorageError(f"reading DLQ counts for {region} failed: {_why(exc)}") from exc

    async def outcome_counts(self, region: str | None = None) -> dict[str, int]:
        """How many distinct records ended in each outcome (``applied``, ``dlq:…``, …)."""
        engine = self._require()
        ar = applied_records.c
        stmt = select(ar.outcome, func.count()).group_by(ar.outcome)
        if region is not None:
            stmt = stmt.where(ar.region == region)
        try:
            async with engine.connect() as conn:
                return {o: int(n) for o, n in await conn.execute(stmt)}
        except SQLAlchemyError as exc:
            raise StorageError(f"reading outcomes failed: {_why(exc)}") from exc

    async def stored_cases(self, region: str) -> list[StoredCase]:
        """Every stored case of *region* (a full scan: for tests, rebuilds and audits)."""
        engine = self._require()
        try:
            async with engine.connect() as conn:
                return [
                    StoredCase(
                        case_id=s.case_id,
                        revision=s.revision,
                        status=s.status,
                        contributor=s.contributor,
                        month=s.month,
                        cycle=s.cycle,
                        tlp=s.tlp,
                        values=s.values,
                    )
                    async for s in self._iter_states(conn, region)
                ]
        except SQLAlchemyError as exc:
            raise StorageError(f"reading cases for {region} failed: {_why(exc)}") from exc

    async def sealed_cases(self, region: str) -> list[tuple[str, bytes]]:
        """(case_id, sealed envelope) of the active cases of *region*, for lessons."""
        engine = self._require()
        stmt = select(cases.c.case_id, cases.c.sealed).where(
            cases.c.region == region, cases.c.status == "active"
        )
        try:
            async with engine.connect() as conn:
                return [(r.case_id, bytes(r.sealed)) for r in await conn.execute(stmt)]
        except SQLAlchemyError as exc:
            raise StorageError(f"reading sealed cases for {region} failed: {_why(exc)}") from exc

    async def _iter_states(self, conn: AsyncConnection, region: str) -> AsyncIterator[CaseState]:
        values: dict[str, list[tuple[str, str]]] = {}
        vrows = await conn.stream(
            select(case_values.c.case_id, case_values.c.dimension, case_values.c.value).where(
                case_values.c.region == region
            )
        )
        async for v in vrows:
            values.setdefault(v.case_id, []).append((v.dimension, v.value))
        rows = await conn.stream(select(cases).where(cases.c.region == region))
        async for row in rows:
            yield _state(row, values)


def _state(row: Any, values: Mapping[str, Sequence[tuple[str, str]]]) -> CaseState:
    """A ``cases`` row and the (dimension, value) pairs of each case id: its CaseState."""
    return CaseState(
        case_id=row.case_id,
        revision=row.revision,
        owner_tag=row.owner_tag,
        status=row.status,
        contributor=row.contributor,
        month=row.month,
        cycle=row.cycle,
        tlp=row.tlp,
        values=tuple(sorted(values.get(row.case_id, ()))),
    )


def _upgrade(connection: Connection) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")

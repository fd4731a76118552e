"""The aggregator's database: SQLite by default, PostgreSQL by URL (SQLAlchemy 2 async).

One :class:`CaseStore` per process. ``apply_batch`` runs one transaction per batch: the
record-id dedupe, the case facts and the merged cell deltas commit together, so the caller
commits Kafka offsets only after this returns (DESIGN §8).

The reads are in :mod:`dief.aggregator.store._queries`, the upkeep of the cell tables in
:mod:`dief.aggregator.store._cells`, the bulk-insert helper in
:mod:`dief.aggregator.store._bulk`, the engine setup in :mod:`dief.database._engine`.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Insert, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from dief.aggregator._facts import CaseFacts, CaseState, CellKey, Outcome, cell_keys
from dief.aggregator._plan import BatchPlan, plan_batch
from dief.aggregator.store._bulk import BulkInsert, bulk_table, chunks
from dief.aggregator.store._cells import apply_cell_deltas, delta_rows, rebuild_cells
from dief.aggregator.store._changes import (
    DataVersion,
    bump_changes,
    changed_periods,
    data_versions,
    token_deltas,
)
from dief.aggregator.store._queries import (
    STATE_COLUMNS,
    CaseQueries,
    case_state,
    encode_values,
)
from dief.aggregator.store._schema import applied_records, cases, dead_letters
from dief.database import FAST_PRAGMAS, migration_lock, open_engine, refused_by_database
from dief.database import db_reason as _why
from dief.exceptions import StorageError, StorageRefusedError
from dief.seams import coarse_hour

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = [
    "CaseStore",
]

_MIGRATIONS = Path(__file__).parent / "migrations"


class CaseStore(CaseQueries):
    """Async repository of case facts and incremental cell counts."""

    _what = "the case store"

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self._url = url
        self._echo = echo
        self._engine: AsyncEngine | None = None
        self._bulk_statements: dict[tuple[str, str], BulkInsert] = {}

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
                init=migrate,
                echo=self._echo,
                pragmas=FAST_PRAGMAS,
                lock=migration_lock(),
            )
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"cannot open the database ({self!r}): {_why(exc)}") from exc
        self._engine = engine

    async def __aenter__(self) -> Self:
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
        validated; owner mismatches found while planning are counted too. A known record id
        is remembered, so a redelivered poison record is recognised. *before_commit* runs
        inside the transaction once the plan is known (the aggregator sends its dead
        letters there): if it raises, nothing is committed. Returns the plan with one
        outcome per record.
        """
        engine = self._require()
        try:  # noqa: PLW0717  every failure of the transaction maps to one StorageError
            async with engine.begin() as conn:
                plan = await self._apply(conn, region, records)
                mismatched = [
                    (r.record_id, o.value)
                    for r, o in zip(records, plan.outcomes, strict=True)
                    if o is Outcome.OWNERSHIP
                ]
                known = await self._applied_ids(conn, [rid for rid, _ in dead if rid is not None])
                fresh_dead = [(rid, why) for rid, why in dead if rid is None or rid not in known]
                await self._record_dead(
                    conn,
                    region,
                    Counter(reason for _, reason in [*fresh_dead, *mismatched]),
                    [(rid, reason) for rid, reason in fresh_dead if rid is not None],
                )
                if before_commit is not None:
                    await before_commit(plan)
        except SQLAlchemyError as exc:
            if refused_by_database(exc):  # the data: the same batch fails on every retry
                raise StorageRefusedError(
                    f"the database refused a batch for {region}: {_why(exc)}"
                ) from exc
            raise StorageError(f"applying a batch for {region} failed: {_why(exc)}") from exc
        return plan

    async def _apply(
        self, conn: AsyncConnection, region: str, records: Sequence[CaseFacts]
    ) -> BatchPlan:
        record_ids = list({r.record_id for r in records})
        case_ids = list({r.case_id for r in records})
        outcomes = await self._outcomes(conn, record_ids)
        # Only what was applied makes a redelivery a duplicate: a record dead-lettered
        # before (a key not yet picked up, a bug since fixed) is judged afresh when it is
        # replayed, and its dead-letter row gives way to the new outcome.
        applied = {rid for rid, outcome in outcomes.items() if not outcome.startswith("dlq:")}
        was_dead = [rid for rid in outcomes if rid not in applied]
        if was_dead:
            await self._forget(conn, was_dead)
        existing = await self._states(conn, region, case_ids)
        plan = plan_batch(records, existing, applied)
        now = coarse_hour(time.time())  # stored times tell the hour only (DESIGN §11)

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
        if plan.deltas or plan.red_deltas:
            await apply_cell_deltas(conn, region, delta_rows(plan.deltas, plan.red_deltas))
        touched = changed_periods(plan, existing)
        await bump_changes(conn, region, touched, token_deltas(plan, existing))
        return plan

    async def data_versions(self, region: str) -> dict[str, DataVersion]:
        """Per period of *region* some batch changed: (changes applied, the random token
        documents state as ``data_version``; :mod:`dief.aggregator.store._changes`)."""
        return await data_versions(self._require(), region)

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
                "applied_at": coarse_hour(time.time()),
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
    ) -> BulkInsert:
        """*build()* (an INSERT of every column of *table*), compiled once per dialect."""
        key = (conn.dialect.name, table)
        prepared = self._bulk_statements.get(key)
        if prepared is None:
            prepared = self._bulk_statements[key] = BulkInsert.compile(
                build(), bulk_table(table), conn.dialect
            )
        return prepared

    @staticmethod
    async def _bulk(
        conn: AsyncConnection,
        prepared: BulkInsert,
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
        """The *ids* this store has seen, whatever became of them."""
        return set(await self._outcomes(conn, ids))

    @staticmethod
    async def _outcomes(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, str]:
        """The stored outcome (``applied``, ``dlq:<reason>``, …) by record id, for *ids*."""
        found: dict[str, str] = {}
        column = applied_records.c.record_id
        for chunk in chunks(ids):
            result = await conn.execute(
                select(column, applied_records.c.outcome).where(column.in_(chunk))
            )
            found.update((rid, outcome) for rid, outcome in result)
        return found

    @staticmethod
    async def _forget(conn: AsyncConnection, ids: Sequence[str]) -> None:
        """Drop the dead-letter rows of *ids*, which are being applied again (a replay)."""
        for chunk in chunks(ids):
            await conn.execute(
                applied_records.delete().where(
                    applied_records.c.record_id.in_(chunk),
                    applied_records.c.outcome.like("dlq:%"),
                )
            )

    @staticmethod
    async def _states(
        conn: AsyncConnection, region: str, case_ids: Sequence[str]
    ) -> dict[str, CaseState]:
        states: dict[str, CaseState] = {}
        for chunk in chunks(case_ids):
            rows = await conn.execute(
                select(*STATE_COLUMNS).where(cases.c.region == region, cases.c.case_id.in_(chunk))
            )
            for row in rows:
                states[row.case_id] = case_state(row)
        return states

    async def _write_cases(
        self, conn: AsyncConnection, region: str, facts: Sequence[CaseFacts], now: datetime
    ) -> None:
        def upsert_cases() -> Insert:
            stmt = self._insert(conn, cases)
            keep = {"region", "case_id", "owner_key"}
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
                f.owner_key,
                f.status,
                f.contributor,
                f.month,
                f.cycle,
                f.tlp,
                f.record_id,
                f.sealed,
                stamp,
                encode_values(f.values),
                _ENCODER.encode(f.related_regions),
                f.half,
            )
            for f in facts
        ]
        await self._bulk(conn, case_insert, rows, converted=["updated_at"])

    async def rebuild_cells(self, region: str) -> None:
        """Recompute *region*'s cells (both tables) from the stored cases (DESIGN §7)."""
        engine = self._require()
        try:  # noqa: PLW0717  every failure of the transaction maps to one StorageError
            async with engine.begin() as conn:
                counts: Counter[CellKey] = Counter()
                red: Counter[CellKey] = Counter()
                async for state in self._iter_states(conn, region):
                    keys = cell_keys(state)
                    counts.update(keys)
                    if state.red:
                        red.update(keys)
                await rebuild_cells(conn, region, delta_rows(counts, red))
        except SQLAlchemyError as exc:
            raise StorageError(f"rebuilding cells for {region} failed: {_why(exc)}") from exc


_ENCODER = json.JSONEncoder(separators=(",", ":"))


def migrate(connection: Connection, revision: str = "head") -> None:
    """Bring the database on *connection* to *revision* (tests build older schemas)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)

"""Data versions: a counter of applied changes per (region, period) (table ``period_changes``,
migration 0014; docs/audit.md "Issue linking").

Every batch that adds, revises or withdraws a case bumps, in its own transaction, each
period whose cells it changes (month, quarter, half-cycle, cycle; a case's cycle also when
only its route changed) and renews that period's ``token``: the SHA-256 of the previous
token and the ids of the records the batch applied (random to a reader: it does not know
the other States' records), never of counts. A document states the token as its
``data_version``: two issues stating the same one count the same cases, so a reader may
link their tables. The token, not the counter, is published: it says only "changed or
not" (never how often); two stores that applied the same batches state the same tokens
(a re-issue equals a fresh build), and a store rebuilt from a replay in other batches
states new ones, never an old token for other data (a counter could repeat one).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from dief.aggregator.store._schema import period_changes
from dief.database import db_reason as _why
from dief.exceptions import StorageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from dief.aggregator._facts import CaseState
    from dief.aggregator._plan import BatchPlan

__all__ = ["DataVersion", "bump_changes", "changed_periods", "data_versions"]

#: the token's hex digits
_TOKEN_DIGITS = 16

DataVersion = tuple[int, str]
"""(changes applied, the token published as ``data_version``)."""


def changed_periods(plan: BatchPlan, existing: Mapping[str, CaseState]) -> set[str]:
    """The periods a batch changes: every period of a changed cell, and the cycle (route
    tables) of every case it stores, before and after."""
    periods = {key[0] for key in (*plan.deltas, *plan.red_deltas)}
    for case_id, facts in plan.upserts.items():
        periods.add(facts.cycle)
        old = existing.get(case_id)
        if old is not None:
            periods.add(old.cycle)
    return periods


async def bump_changes(
    conn: AsyncConnection, region: str, periods: Iterable[str], records: Iterable[str]
) -> None:
    """One more change for each of *periods* of *region*, its token renewed from the ids
    of the *records* the batch applied (the caller's transaction; rows in key order, so
    concurrent writers lock them in one order)."""
    wanted = sorted(set(periods))
    if not wanted:
        return
    t = period_changes
    batch = hashlib.sha256(",".join(sorted(records)).encode()).hexdigest()
    old = {
        str(p): str(token)
        for p, token in await conn.execute(
            select(t.c.period, t.c.token).where(t.c.region == region, t.c.period.in_(wanted))
        )
    }

    def token(period: str) -> str:
        chained = f"{old.get(period, '')}|{batch}".encode()
        return hashlib.sha256(chained).hexdigest()[:_TOKEN_DIGITS]

    rows = [{"region": region, "period": p, "changes": 1, "token": token(p)} for p in wanted]
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(t)
    stmt = stmt.on_conflict_do_update(
        index_elements=["region", "period"],
        set_={"changes": t.c.changes + 1, "token": stmt.excluded.token},
    )
    await conn.execute(stmt, rows)


async def data_versions(engine: AsyncEngine, region: str) -> dict[str, DataVersion]:
    """Every period of *region* some batch changed: its (changes, token)."""
    t = period_changes
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(t.c.period, t.c.changes, t.c.token).where(t.c.region == region)
            )
            return {str(p): (int(n), str(token)) for p, n, token in rows}
    except SQLAlchemyError as exc:
        raise StorageError(f"reading data versions of {region} failed: {_why(exc)}") from exc

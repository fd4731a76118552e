"""Data versions: a counter of applied changes per (region, period) (table ``period_changes``,
migration 0014; docs/audit.md "Issue linking").

Every batch that adds, revises or withdraws a case bumps, in its own transaction, each
period whose cells it changes (month, quarter, half-cycle, cycle; a case's cycle also when
only its route changed) and renews that period's ``token``: the exclusive-or, over the
cases the period holds, of a hash of each case's (case id, revision, status) — kept
incrementally (a batch takes a case's old state out of its old periods and puts its new
state into its new ones). So the token is a function of the period's data alone: two
stores holding the same cases state the same tokens however their records were batched
(a run on another broker, a re-issue against a fresh build), and other data gives another
token (but for a 2^-64 chance). It is never a function of counts, and it is random to a
reader (it does not know the other States' case ids). A document states the token as its
``data_version``: two issues stating the same one count the same cases, so a reader may
link their tables. The token, not the counter, is published: it says only "changed or
not" (never how often).

A reader states the versions of the cells it counts only if no batch came between its
reads of both (each store call is its own connection): :func:`settled_read` reads the
versions before and after the cells and reads again when they differ (docs/audit.md,
"Cells of unchanged tables"). The digests, route tables, CSP summaries and their input
fingerprints all read through it.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from dief.aggregator.store._schema import period_changes
from dief.database import db_reason as _why
from dief.exceptions import StorageError, StoreChangingError
from dief.periods import Month

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Mapping

    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from dief.aggregator._facts import CaseState
    from dief.aggregator._plan import BatchPlan

__all__ = [
    "READ_ATTEMPTS",
    "DataVersion",
    "bump_changes",
    "changed_periods",
    "data_versions",
    "settled_read",
    "token_deltas",
]

log = logging.getLogger("dief.aggregator.store")

#: the token's hex digits
_TOKEN_DIGITS = 16

DataVersion = tuple[int, str]
"""(changes applied, the token published as ``data_version``)."""

#: how many times :func:`settled_read` reads before it gives up on a region whose batches
#: keep changing the cells between its reads
READ_ATTEMPTS = 5

_V = TypeVar("_V")
_T = TypeVar("_T")


async def settled_read(
    versions: Callable[[], Awaitable[_V]],
    read: Callable[[_V], Awaitable[_T]],
    *,
    region: str,
    reader: str,
    attempts: int = READ_ATTEMPTS,
) -> _T:
    """``read(before)``, *before* what ``versions()`` answered before it and answers again
    after it: the data versions of the periods the read covers (from
    :func:`data_versions`, counters included). A batch changes the cells and bumps the
    versions of their periods in one transaction, and each bump counts, so no batch
    changed a cell read meanwhile: *before* is the version of every cell read. Else read
    again, at most *attempts* times, then :class:`~dief.exceptions.StoreChangingError`
    (*reader*: who reads, for the message, e.g. "its digests"). *read* may raise it too,
    where *before* is not the version it needs (docs/audit.md, "Cells of unchanged
    tables")."""
    for attempt in range(1, attempts + 1):
        before = await versions()
        got = await read(before)
        if await versions() == before:
            return got
        log.info("%s: cases changed while %s read them (try %d)", region, reader, attempt)
    tries = "1 try" if attempts == 1 else f"{attempts} tries"
    raise StoreChangingError(
        f"the cases of {region} kept changing while {reader} read them ({tries}): "
        "they are read again once the batches settle"
    )


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


def _state(case_id: str, revision: int, status: str) -> int:
    digest = hashlib.sha256(f"{case_id}|{revision}|{status}".encode()).hexdigest()
    return int(digest[:_TOKEN_DIGITS], 16)


def _periods(month: str, half: str, cycle: str) -> set[str]:
    return {month, str(Month.parse(month).quarter), half, cycle}


def token_deltas(plan: BatchPlan, existing: Mapping[str, CaseState]) -> dict[str, int]:
    """Per period, what the batch changes in its token: each stored case's old state out of
    its old periods, its new state into its new ones (exclusive-or, so in any order)."""
    deltas: dict[str, int] = {}
    for case_id, facts in plan.upserts.items():
        new = _state(case_id, facts.revision, facts.status)
        for period in _periods(facts.month, facts.half, facts.cycle):
            deltas[period] = deltas.get(period, 0) ^ new
        old = existing.get(case_id)
        if old is not None:
            gone = _state(case_id, old.revision, old.status)
            for period in _periods(old.month, old.half, old.cycle):
                deltas[period] = deltas.get(period, 0) ^ gone
    return deltas


async def bump_changes(
    conn: AsyncConnection, region: str, periods: Iterable[str], tokens: Mapping[str, int]
) -> None:
    """One more change for each of *periods* of *region*, its token changed by *tokens*
    (:func:`token_deltas`; the caller's transaction; rows in key order, so concurrent
    writers lock them in one order)."""
    wanted = sorted(set(periods) | set(tokens))
    if not wanted:
        return
    t = period_changes
    old = {
        str(p): str(token)
        for p, token in await conn.execute(
            select(t.c.period, t.c.token).where(t.c.region == region, t.c.period.in_(wanted))
        )
    }

    def token(period: str) -> str:
        before = int(old.get(period) or "0", 16)
        return f"{before ^ tokens.get(period, 0):0{_TOKEN_DIGITS}x}"

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

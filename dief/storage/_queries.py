"""Reading the case store: cell counts, periods, outcomes, stored cases (the aggregator's
database; :class:`dief.storage.CaseStore` adds the lifecycle and the writing)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from dief.aggregation._facts import TOTAL, CaseState
from dief.exceptions import StorageError
from dief.storage._engine import EngineOwner
from dief.storage._reason import db_reason as _why
from dief.storage._schema import applied_records, case_values, cases, cell_totals, dead_letters

__all__ = ["CaseQueries", "CellRow", "StoredCase", "case_state"]


@dataclass(frozen=True, slots=True)
class CellRow:
    """One cell of one period for one contributor cycle: case count and distinct
    contributors (see :mod:`dief.storage._schema`)."""

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


class CaseQueries(EngineOwner):
    """The read side of :class:`dief.storage.CaseStore`."""

    async def cell_rows(
        self, region: str, periods: Sequence[str], *, include_red: bool = True
    ) -> list[CellRow]:
        """Per (period, dimension, value, cycle): case count and distinct contributors.

        Reads one row per cell of those periods (``cell_totals``): O(cells), never a scan
        of the cases or of the per-contributor counts.
        """
        engine = self._require()
        ct = cell_totals.c
        n, contributors = (
            (ct.n, ct.contributors) if include_red else (ct.n_nonred, ct.contributors_nonred)
        )
        stmt = (
            select(ct.period, ct.dimension, ct.value, ct.cycle, n, contributors)
            .where(ct.region == region, ct.period.in_(list(periods)), n > 0)
            .order_by(ct.period, ct.dimension, ct.value, ct.cycle)
        )
        try:
            async with engine.connect() as conn:
                result = await conn.execute(stmt)
                return [
                    CellRow(period, dimension, value, cycle, int(count), int(who))
                    for period, dimension, value, cycle, count, who in result
                ]
        except SQLAlchemyError as exc:
            raise StorageError(f"reading cells for {region} failed: {_why(exc)}") from exc

    async def periods_with_data(self, region: str) -> list[str]:
        """Every period (months, quarters, cycles) in which *region* has counted cases."""
        engine = self._require()
        ct = cell_totals.c
        stmt = (
            select(ct.period)
            .where(ct.region == region, ct.dimension == TOTAL[0], ct.n > 0)
            .distinct()
            .order_by(ct.period)
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
            yield case_state(row, values)


def case_state(row: Any, values: Mapping[str, Sequence[tuple[str, str]]]) -> CaseState:
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

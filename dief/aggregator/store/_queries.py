"""Reading the case store: cell counts, periods, outcomes, stored cases (the aggregator's
database; :class:`dief.aggregator.store.CaseStore` adds the lifecycle and the writing)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from dief._gc_pause import collector_paused
from dief.aggregator._facts import TOTAL, CaseState
from dief.aggregator.store._patterns import DigestPatterns
from dief.aggregator.store._schema import (
    applied_records,
    cases,
    cell_counts,
    cell_totals,
    dead_letters,
)
from dief.database import db_reason as _why
from dief.exceptions import StorageError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "STATE_COLUMNS",
    "CaseQueries",
    "CellRow",
    "StoredCase",
    "case_state",
    "encode_values",
]


@dataclass(frozen=True, slots=True)
class CellRow:
    """One cell of one period for one contributor cycle: case count and distinct
    contributors (see :mod:`dief.aggregator.store._schema`)."""

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


class CaseQueries(DigestPatterns):
    """The read side of :class:`dief.aggregator.store.CaseStore`."""

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
                with collector_paused():  # a region's every cell (dief._gc_pause)
                    return [
                        CellRow(period, dimension, value, cycle, int(count), int(who))
                        for period, dimension, value, cycle, count, who in result
                    ]
        except SQLAlchemyError as exc:
            raise StorageError(f"reading cells for {region} failed: {_why(exc)}") from exc

    async def grouped_rows(
        self,
        region: str,
        cells: Sequence[tuple[str, str, str]],
        *,
        include_red: bool = True,
    ) -> list[CellRow]:
        """Per (period, dimension, cycle): the cases and distinct contributors of the
        given (period, dimension, value) cells taken together, with ``value`` "(other)"
        (the grouped cell of rare values, docs/digests.md). Reads the per-contributor rows
        of those cells only (each has fewer than k contributors): O(cells asked)."""
        engine = self._require()
        cc = cell_counts.c
        n = cc.n if include_red else cc.n_nonred
        wanted: dict[tuple[str, str], set[str]] = {}
        for period, dimension, value in cells:
            wanted.setdefault((period, dimension), set()).add(value)
        sums: dict[tuple[str, str, str], dict[str, int]] = {}
        try:  # noqa: PLW0717  one read of the store: every failure of it maps to one StorageError
            async with engine.connect() as conn:
                for period in sorted({p for p, _ in wanted}):
                    stmt = select(cc.dimension, cc.value, cc.cycle, cc.contributor, n).where(
                        cc.region == region, cc.period == period, n > 0
                    )
                    dims = sorted(d for p, d in wanted if p == period)
                    stmt = stmt.where(cc.dimension.in_(dims))
                    for dimension, value, cycle, who, count in await conn.execute(stmt):
                        if value not in wanted[period, dimension]:
                            continue
                        per = sums.setdefault((period, dimension, cycle), {})
                        per[who] = per.get(who, 0) + int(count)
        except SQLAlchemyError as exc:
            raise StorageError(f"reading grouped cells for {region} failed: {_why(exc)}") from exc
        return [
            CellRow(period, dimension, "(other)", cycle, sum(per.values()), len(per))
            for (period, dimension, cycle), per in sorted(sums.items())
        ]

    async def periods_with_data(self, region: str) -> list[str]:
        """Every period (months, quarters, half-cycles, cycles) in which *region* has counted
        cases."""
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

    async def sealed_cases(
        self, region: str, *, include_withdrawn: bool = False
    ) -> list[tuple[str, bytes]]:
        """(case_id, sealed envelope) of the active cases of *region*, for lessons; with
        *include_withdrawn*, of every stored case (an audit: a withdrawn one's is empty)."""
        engine = self._require()
        stmt = select(cases.c.case_id, cases.c.sealed).where(cases.c.region == region)
        if not include_withdrawn:
            stmt = stmt.where(cases.c.status == "active")
        stmt = stmt.order_by(cases.c.case_id)  # the same order on every database
        try:
            async with engine.connect() as conn:
                return [(r.case_id, bytes(r.sealed)) for r in await conn.execute(stmt)]
        except SQLAlchemyError as exc:
            raise StorageError(f"reading sealed cases for {region} failed: {_why(exc)}") from exc

    @staticmethod
    async def _iter_states(conn: AsyncConnection, region: str) -> AsyncIterator[CaseState]:
        rows = await conn.stream(select(*STATE_COLUMNS).where(cases.c.region == region))
        async for row in rows:
            yield case_state(row)


#: The ``cases`` columns a :class:`CaseState` is made of (not the sealed envelope).
STATE_COLUMNS = (
    cases.c.case_id,
    cases.c.revision,
    cases.c.owner_key,
    cases.c.status,
    cases.c.contributor,
    cases.c.month,
    cases.c.cycle,
    cases.c.tlp,
    cases.c.dimension_values,
    cases.c.half,
)


_ENCODER = json.JSONEncoder(separators=(",", ":"))  # one encoder: json.dumps makes one per call


def encode_values(values: Sequence[tuple[str, str]]) -> str:
    """A case's (dimension, value) pairs as stored in ``cases.dimension_values``."""
    return _ENCODER.encode(values)


def decode_values(text: str) -> tuple[tuple[str, str], ...]:
    """:func:`encode_values` undone: the pairs, sorted."""
    return tuple(sorted((str(d), str(v)) for d, v in json.loads(text)))


def case_state(row: Any) -> CaseState:  # noqa: ANN401  SQLAlchemy's rows and bind processors are untyped
    """A ``cases`` row (at least :data:`STATE_COLUMNS`) as a CaseState."""
    return CaseState(
        case_id=row.case_id,
        revision=row.revision,
        owner_key=row.owner_key,
        status=row.status,
        contributor=row.contributor,
        month=row.month,
        cycle=row.cycle,
        tlp=row.tlp,
        values=decode_values(row.dimension_values),
        half=row.half,
    )

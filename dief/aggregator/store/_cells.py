"""Keeping the cell aggregate in step with the cases (DESIGN §7; tables in
:mod:`dief.aggregator.store._schema`).

A batch's merged deltas become rows (period, dimension, value, cycle, contributor, Δn,
Δn_nonred): :func:`delta_rows`. Two set-based statements then apply them inside the
batch's transaction:

1. ``cell_totals`` += per cell: the summed deltas, and for the distinct contributors the
   number of contributors whose count rises from zero minus those whose count falls to zero
   (a contributor's old count is read from ``cell_counts`` before step 2 changes it);
2. ``cell_counts`` += the deltas.

Distinct contributors of "all cases" and of "not red" are not additive over red and not-red
rows, which is why ``cell_counts`` keeps both counts in one row per contributor.

On SQLite the rows go through a temporary table (one ``executemany``) that both statements
read. On PostgreSQL they go in one statement, as one JSON array per column (asyncpg's own
array encoding checks every element against ``collections.abc`` types, several times slower
for 10^5 elements); its upsert into ``cell_counts`` returns the new counts (new - Δ = old),
so no plan ever scans the table, and the count is exact under concurrent writers (the
upsert reads the row under its lock). Rows are written in key order, so two transactions
touching the same rows lock them in the same order.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import delete, text

from dief.aggregator.store._schema import cell_counts, cell_totals

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sqlalchemy.ext.asyncio import AsyncConnection

    from dief.aggregator._facts import CellKey

__all__ = ["DeltaRow", "apply_cell_deltas", "delta_rows", "rebuild_cells"]

#: (period, dimension, value, cycle, contributor, Δn all cases, Δn not red)
DeltaRow = tuple[str, str, str, str, str, int, int]

# The SQL is spelled out (no string building). In the totals, a contributor's count
# crossing zero adds or removes one contributor: with old and new counts (never negative),
# (CASE WHEN new > 0 THEN 1 ELSE 0 END) - (CASE WHEN old > 0 THEN 1 ELSE 0 END).

# -- SQLite: a temporary table ------------------------------------------------------------

_SQLITE_CREATE = """
    CREATE TEMP TABLE IF NOT EXISTS dief_cell_delta (
        period TEXT NOT NULL, dimension TEXT NOT NULL, value TEXT NOT NULL,
        cycle TEXT NOT NULL, contributor TEXT NOT NULL,
        n INTEGER NOT NULL, n_nonred INTEGER NOT NULL,
        PRIMARY KEY (period, dimension, value, cycle, contributor)
    ) WITHOUT ROWID"""
# The key order makes both statements below read the rows sorted, without a sort of their own.
_SQLITE_FILL = "INSERT INTO temp.dief_cell_delta VALUES (?, ?, ?, ?, ?, ?, ?)"
# "WHERE true": SQLite's upsert after a SELECT with a join needs it to parse unambiguously.
_SQLITE_TOTALS = """
    INSERT INTO cell_totals
        (region, period, dimension, value, cycle, n, contributors, n_nonred, contributors_nonred)
    SELECT :region, d.period, d.dimension, d.value, d.cycle,
        SUM(d.n),
        SUM((CASE WHEN COALESCE(c.n, 0) + d.n > 0 THEN 1 ELSE 0 END)
            - (CASE WHEN COALESCE(c.n, 0) > 0 THEN 1 ELSE 0 END)),
        SUM(d.n_nonred),
        SUM((CASE WHEN COALESCE(c.n_nonred, 0) + d.n_nonred > 0 THEN 1 ELSE 0 END)
            - (CASE WHEN COALESCE(c.n_nonred, 0) > 0 THEN 1 ELSE 0 END))
    FROM temp.dief_cell_delta AS d
    LEFT JOIN cell_counts AS c
        ON c.region = :region AND c.period = d.period AND c.dimension = d.dimension
        AND c.value = d.value AND c.cycle = d.cycle AND c.contributor = d.contributor
    WHERE true
    GROUP BY d.period, d.dimension, d.value, d.cycle
    ON CONFLICT (region, period, dimension, value, cycle) DO UPDATE SET
        n = cell_totals.n + excluded.n,
        contributors = cell_totals.contributors + excluded.contributors,
        n_nonred = cell_totals.n_nonred + excluded.n_nonred,
        contributors_nonred = cell_totals.contributors_nonred + excluded.contributors_nonred"""
_SQLITE_COUNTS = """
    INSERT INTO cell_counts (region, period, dimension, value, cycle, contributor, n, n_nonred)
    SELECT :region, period, dimension, value, cycle, contributor, n, n_nonred
    FROM temp.dief_cell_delta
    WHERE true
    ON CONFLICT (region, period, dimension, value, cycle, contributor) DO UPDATE SET
        n = cell_counts.n + excluded.n,
        n_nonred = cell_counts.n_nonred + excluded.n_nonred"""
_SQLITE_CLEAR = "DELETE FROM temp.dief_cell_delta"

# -- PostgreSQL: one JSON array per column, one statement -----------------------------------

_PG_APPLY = text(
    """
    WITH d AS (
        SELECT period, dimension, value, cycle, contributor,
            CAST(n AS INTEGER) AS n, CAST(n_nonred AS INTEGER) AS n_nonred
        FROM ROWS FROM (
            json_array_elements_text(CAST(:period AS JSON)),
            json_array_elements_text(CAST(:dimension AS JSON)),
            json_array_elements_text(CAST(:value AS JSON)),
            json_array_elements_text(CAST(:cycle AS JSON)),
            json_array_elements_text(CAST(:contributor AS JSON)),
            json_array_elements_text(CAST(:n AS JSON)),
            json_array_elements_text(CAST(:n_nonred AS JSON))
        ) AS deltas(period, dimension, value, cycle, contributor, n, n_nonred)
    ), up AS (
        INSERT INTO cell_counts
            (region, period, dimension, value, cycle, contributor, n, n_nonred)
        SELECT :region, period, dimension, value, cycle, contributor, n, n_nonred FROM d
        ORDER BY period, dimension, value, cycle, contributor
        ON CONFLICT (region, period, dimension, value, cycle, contributor) DO UPDATE SET
            n = cell_counts.n + excluded.n,
            n_nonred = cell_counts.n_nonred + excluded.n_nonred
        RETURNING period, dimension, value, cycle, contributor, n, n_nonred
    )
    INSERT INTO cell_totals
        (region, period, dimension, value, cycle, n, contributors, n_nonred, contributors_nonred)
    SELECT :region, d.period, d.dimension, d.value, d.cycle,
        SUM(d.n),
        SUM((CASE WHEN up.n > 0 THEN 1 ELSE 0 END)
            - (CASE WHEN up.n - d.n > 0 THEN 1 ELSE 0 END)),
        SUM(d.n_nonred),
        SUM((CASE WHEN up.n_nonred > 0 THEN 1 ELSE 0 END)
            - (CASE WHEN up.n_nonred - d.n_nonred > 0 THEN 1 ELSE 0 END))
    FROM up JOIN d USING (period, dimension, value, cycle, contributor)
    GROUP BY d.period, d.dimension, d.value, d.cycle
    ORDER BY d.period, d.dimension, d.value, d.cycle
    ON CONFLICT (region, period, dimension, value, cycle) DO UPDATE SET
        n = cell_totals.n + excluded.n,
        contributors = cell_totals.contributors + excluded.contributors,
        n_nonred = cell_totals.n_nonred + excluded.n_nonred,
        contributors_nonred = cell_totals.contributors_nonred + excluded.contributors_nonred"""
)
_PG_COLUMNS = ("period", "dimension", "value", "cycle", "contributor", "n", "n_nonred")
_JSON = json.JSONEncoder(separators=(",", ":"))

_REBUILD_TOTALS = text(
    """
    INSERT INTO cell_totals
        (region, period, dimension, value, cycle, n, contributors, n_nonred, contributors_nonred)
    SELECT region, period, dimension, value, cycle,
        SUM(n), SUM(CASE WHEN n > 0 THEN 1 ELSE 0 END),
        SUM(n_nonred), SUM(CASE WHEN n_nonred > 0 THEN 1 ELSE 0 END)
    FROM cell_counts WHERE region = :region
    GROUP BY region, period, dimension, value, cycle"""
)


def delta_rows(deltas: Mapping[CellKey, int], red: Mapping[CellKey, int]) -> list[DeltaRow]:
    """One row per cell and contributor: (*key, Δn, Δn not red), from a plan's ``deltas``
    and ``red_deltas`` (the red part of them; a key may be only there)."""
    if not red:
        return [(*key, n, n) for key, n in deltas.items()]
    red_of = red.get
    rows = [(*key, n, n - red_of(key, 0)) for key, n in deltas.items()]
    rows.extend((*key, 0, -n) for key, n in red.items() if key not in deltas)
    return rows


async def apply_cell_deltas(conn: AsyncConnection, region: str, rows: Sequence[DeltaRow]) -> None:
    """Add *rows* (:func:`delta_rows`) to *region*'s cells, in the caller's transaction."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        params = {
            name: _JSON.encode(column)
            for name, column in zip(_PG_COLUMNS, zip(*rows, strict=True), strict=True)
        }
        await conn.execute(_PG_APPLY, {"region": region, **params})
        return
    await conn.exec_driver_sql(_SQLITE_CREATE)
    await conn.exec_driver_sql(_SQLITE_FILL, rows)
    await conn.exec_driver_sql(_SQLITE_TOTALS, {"region": region})
    await conn.exec_driver_sql(_SQLITE_COUNTS, {"region": region})
    await conn.exec_driver_sql(_SQLITE_CLEAR)


async def rebuild_cells(conn: AsyncConnection, region: str, rows: Sequence[DeltaRow]) -> None:
    """Replace *region*'s cells: ``cell_counts`` from *rows* (:func:`delta_rows` of every
    counted case's cell keys), then ``cell_totals`` summed from ``cell_counts``,
    independently of the incremental statements above."""
    await conn.execute(delete(cell_counts).where(cell_counts.c.region == region))
    await conn.execute(delete(cell_totals).where(cell_totals.c.region == region))
    names = [c.name for c in cell_counts.columns]
    values = [dict(zip(names, (region, *row), strict=True)) for row in rows if row[5]]
    for start in range(0, len(values), 5000):
        await conn.execute(cell_counts.insert(), values[start : start + 5000])
    await conn.execute(_REBUILD_TOTALS, {"region": region})

"""The suppression pattern of a region's published meeting digests (table ``digest_cells``).

A digest re-issued after new cases must not publish a cell an earlier issue suppressed: a
reader keeping both issues could otherwise combine them (issue 1 hides P and B, issue 2
hides P and A: P = total - A - B). Nor may it hide, to protect a new suppression, a cell
an earlier issue published with the count it still has (the reader knows it already).
:meth:`DigestPatterns.record_suppressions` keeps, for every cell a published issue listed,
the count last published, or that it was suppressed (then for good: a suppressed cell is
never recorded as published again); :meth:`DigestPatterns.published_suppressions` gives
them back to the next build (:class:`dief.digests.RegionDigests`).

An issue also records the ``data_version`` each of its periods stated (table
``issued_versions``, migration 0016). A period whose token is still the same has the same
cases: every reader of both issues links its tables (docs/audit.md, "Issue linking"), so
the cells the earlier issue published there are public to that reader, and hiding one
again protects nothing (``PublishedPattern.unchanged_periods``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from dief._gc_pause import collector_paused
from dief.aggregator.store._schema import digest_cells, issued_versions, period_changes
from dief.database import EngineOwner
from dief.database import db_reason as _why
from dief.exceptions import StorageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["DigestPatterns", "PublishedCell", "PublishedPattern", "SuppressedCell"]

_CHUNK = 400


@dataclass(frozen=True, slots=True, order=True)
class SuppressedCell:
    """A cell of a region's digests: ``period`` is a period (``2026-05``, ``2026-Q2``,
    ``CSP12``) or a checklist window (``W2026-Q2``); totals are (``_total``, ``_all``)."""

    period: str
    dimension: str
    value: str


@dataclass(frozen=True, slots=True)
class PublishedCell:
    """A cell as an issue listed it: its published count, or ``None`` when suppressed."""

    cell: SuppressedCell
    count: int | None


@dataclass(frozen=True, slots=True)
class PublishedPattern:
    """What a region's published digests listed: the cells ever suppressed, and the count
    last published of every other listed cell; ``unchanged_periods``: the periods whose
    data is the same as when an issue last recorded them (the ``data_version`` it stated
    is the store's now), whose published cells every reader of both issues has.
    ``issued``: per period, the ``data_version`` its last delivered digest stated, so a
    reader of the cells later can tell whether a period is still unchanged at the versions
    it read (:meth:`as_of`)."""

    suppressed: frozenset[SuppressedCell] = frozenset()
    counts: Mapping[SuppressedCell, int] = field(default_factory=dict)
    unchanged_periods: frozenset[str] = frozenset()
    issued: Mapping[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.suppressed) + len(self.counts)

    def as_of(self, tokens: Mapping[str, str]) -> PublishedPattern:
        """The record with only its unchanged periods still at their issued version in
        *tokens* (period → the store's ``data_version``, read after this record): a batch
        applied since the record was read changed the others. A period ``issued`` does
        not name is kept as given."""
        unchanged = frozenset(
            p
            for p in self.unchanged_periods
            if p not in self.issued or self.issued[p] == tokens.get(p)
        )
        if unchanged == self.unchanged_periods:
            return self
        return replace(self, unchanged_periods=unchanged)


def _changed_rows(
    region: str,
    wanted: Mapping[SuppressedCell, int | None],
    stored_rows: Iterable[Any],  # sqlalchemy rows: period, dimension, value, count
) -> list[dict[str, object]]:
    """The rows of *wanted* to write over what is stored (*stored_rows*: period, dimension,
    value, count): a cell not stored, or published with another count; a stored
    suppression stays."""
    stored: dict[SuppressedCell, int | None] = {
        SuppressedCell(p, d, v): n for p, d, v, n in stored_rows
    }
    return [
        {
            "region": region,
            "period": cell.period,
            "dimension": cell.dimension,
            "value": cell.value,
            "count": count,
        }
        for cell, count in sorted(wanted.items())
        if cell not in stored or (stored[cell] is not None and stored[cell] != count)
    ]


class DigestPatterns(EngineOwner):
    """Reading and recording the cells of a region's published digests."""

    async def published_suppressions(self, region: str) -> PublishedPattern:
        """Every cell of *region* an issued digest listed: suppressed ones, and the count
        last published of the others; the versions issues stated, and the periods still at
        theirs."""
        engine = self._require()
        t = digest_cells.c
        stmt = select(t.period, t.dimension, t.value, t.count).where(t.region == region)
        issued, now = issued_versions.c, period_changes.c
        versions = (
            select(issued.period, issued.token, now.token)
            .outerjoin(
                period_changes,
                (now.region == issued.region) & (now.period == issued.period),
            )
            .where(issued.region == region)
        )
        try:
            async with engine.connect() as conn:
                result = await conn.execute(stmt)
                with collector_paused():  # every cell ever listed (dief._gc_pause)
                    rows = list(result)
                # one statement: the periods still at their issued version are judged on
                # the issued versions returned with them
                stated = [(str(p), str(v), n) for p, v, n in await conn.execute(versions)]
        except SQLAlchemyError as exc:
            raise StorageError(
                f"reading the published digest cells of {region} failed: {_why(exc)}"
            ) from exc
        with collector_paused():
            suppressed = frozenset(SuppressedCell(p, d, v) for p, d, v, n in rows if n is None)
            counts = {SuppressedCell(p, d, v): int(n) for p, d, v, n in rows if n is not None}
        unchanged = frozenset(p for p, token, current in stated if token == current)
        tokens = {p: token for p, token, _ in stated}
        return PublishedPattern(suppressed, counts, unchanged, tokens)

    async def record_suppressions(self, region: str, cells: Iterable[PublishedCell]) -> int:
        """Record what an issue of *region*'s digests listed, in one transaction: a
        suppressed cell stays suppressed for good, a published one keeps its last count.
        Returns how many rows were written (new or changed)."""
        engine = self._require()
        with collector_paused():  # every listed cell (dief._gc_pause; never across an await)
            wanted = {c.cell: c.count for c in cells}
        if not wanted:
            return 0
        t = digest_cells
        try:  # noqa: PLW0717  every failure of the transaction maps to one StorageError
            async with engine.begin() as conn:
                result = await conn.execute(
                    select(t.c.period, t.c.dimension, t.c.value, t.c.count).where(
                        t.c.region == region
                    )
                )
                with collector_paused():
                    changed = _changed_rows(region, wanted, result)
                dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
                for start in range(0, len(changed), _CHUNK):
                    insert = dialect.insert(t).values(changed[start : start + _CHUNK])
                    # a row suppressed meanwhile (a concurrent issue) stays suppressed
                    keep = t.c.count.is_not(None)
                    await conn.execute(
                        insert.on_conflict_do_update(
                            index_elements=["region", "period", "dimension", "value"],
                            set_={"count": insert.excluded["count"]},
                            where=keep,
                        )
                    )
        except SQLAlchemyError as exc:
            raise StorageError(
                f"recording the published digest cells of {region} failed: {_why(exc)}"
            ) from exc
        return len(changed)

    async def record_issued_versions(self, region: str, versions: Mapping[str, str]) -> None:
        """Record the ``data_version`` each digest of *region* an issue delivered stated
        (period → token), once it has left: a re-issue whose period still has that token
        knows every reader links the two issues' tables there."""
        if not versions:
            return
        engine = self._require()
        rows = [{"region": region, "period": p, "token": v} for p, v in sorted(versions.items())]
        t = issued_versions
        try:
            async with engine.begin() as conn:
                dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
                for start in range(0, len(rows), _CHUNK):
                    insert = dialect.insert(t).values(rows[start : start + _CHUNK])
                    await conn.execute(
                        insert.on_conflict_do_update(
                            index_elements=["region", "period"],
                            set_={"token": insert.excluded["token"]},
                        )
                    )
        except SQLAlchemyError as exc:
            raise StorageError(
                f"recording the issued data versions of {region} failed: {_why(exc)}"
            ) from exc

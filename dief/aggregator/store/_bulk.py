"""Bulk inserts for the case store: INSERTs compiled once per dialect, run through the
driver's ``executemany`` with the columns' own bind processors (so the stored values are
exactly what SQLAlchemy Core would write), and the chunking of long id lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dief.aggregator.store._schema import applied_records, cases
from dief.exceptions import StorageError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from sqlalchemy import Dialect, Insert, Table

__all__ = ["CHUNK", "BulkInsert", "bulk_table", "chunks"]

#: Ids per ``IN (...)`` query.
CHUNK = 500

_BULK_TABLES = {t.name: t for t in (applied_records, cases)}


def bulk_table(name: str) -> Table:
    return _BULK_TABLES[name]


@dataclass(frozen=True, slots=True)
class BulkInsert:
    """An INSERT compiled for one dialect: driver SQL and each column's bind processor."""

    sql: str
    names: tuple[str, ...]
    processors: dict[str, Callable[[Any], Any]]

    @classmethod
    def compile(cls, stmt: Insert, table: Table, dialect: Dialect) -> BulkInsert:
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

    def convert(self, column: str, value: Any) -> Any:  # noqa: ANN401  SQLAlchemy's rows and bind processors are untyped
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


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

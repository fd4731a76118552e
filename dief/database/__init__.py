"""Database plumbing shared by every store (the aggregator's case store, the Secretariat's
digest store): SQLAlchemy async engines with their SQLite pragmas, database URLs (the async
driver for a plain ``sqlite://`` or ``postgresql://`` URL), and error reasons that are safe
to log (no SQL, no bound parameters), and the lock that runs Alembic migrations one at
a time (:func:`migration_lock`).
"""

from __future__ import annotations

from dief.database._engine import (
    DURABLE_PRAGMAS,
    FAST_PRAGMAS,
    WAL_PRAGMAS,
    EngineOwner,
    TableStore,
    make_engine,
    open_engine,
)
from dief.database._migration import migration_lock
from dief.database._reason import (
    db_reason,
    io_reason,
    refused_by_database,
)
from dief.database._url import async_url, sqlite_path, sqlite_url

__all__ = [
    "DURABLE_PRAGMAS",
    "FAST_PRAGMAS",
    "WAL_PRAGMAS",
    "EngineOwner",
    "TableStore",
    "async_url",
    "db_reason",
    "io_reason",
    "make_engine",
    "migration_lock",
    "open_engine",
    "refused_by_database",
    "sqlite_path",
    "sqlite_url",
]

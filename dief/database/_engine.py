"""SQLAlchemy async engines for the stores: SQLite pragmas, pools, start/stop/require.

Shared by :class:`dief.aggregator.store.CaseStore`, the node's outbox and the Secretariat store.
Errors are left to the caller, which translates them into
:class:`dief.exceptions.StorageError` with its own wording.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from sqlalchemy import Connection, MetaData, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from dief.database._reason import db_reason
from dief.exceptions import StorageError

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable, Sequence

__all__ = [
    "DURABLE_PRAGMAS",
    "FAST_PRAGMAS",
    "WAL_PRAGMAS",
    "EngineOwner",
    "TableStore",
    "make_engine",
    "open_engine",
]

#: WAL with a lock wait: what every SQLite store needs.
WAL_PRAGMAS: tuple[str, ...] = ("journal_mode=WAL", "busy_timeout=30000")
#: The outbox: an accepted case survives a power cut.
DURABLE_PRAGMAS: tuple[str, ...] = (
    "journal_mode=WAL",
    "synchronous=FULL",
    "busy_timeout=30000",
)
#: The case store: a commit survives a process crash; cell pages stay cached (64 MiB); the
#: batch's staged cell deltas (a temporary table) stay in memory.
FAST_PRAGMAS: tuple[str, ...] = (
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "busy_timeout=30000",
    "cache_size=-65536",
    "temp_store=MEMORY",
)


def _on_connect(pragmas: Sequence[str]) -> Callable[[Any, object], None]:
    statements = [f"PRAGMA {p}" for p in pragmas]

    def set_pragmas(dbapi_connection: Any, _record: object) -> None:  # noqa: ANN401  SQLAlchemy's connect event passes the DB-API connection untyped
        cursor = dbapi_connection.cursor()
        for statement in statements:
            cursor.execute(statement)
        cursor.close()

    return set_pragmas


def make_engine(
    url: str,
    *,
    echo: bool = False,
    pragmas: Sequence[str] = WAL_PRAGMAS,
    sqlite_pool: Literal["single", "null"] = "single",
) -> AsyncEngine:
    """An engine for *url*; on SQLite with *pragmas* set on every connection.

    ``sqlite_pool="single"`` keeps one connection open (SQLite takes one writer at a time,
    so callers queue for it and its page cache stays warm); ``"null"`` opens one per use.
    Other databases get a pool with pre-ping. No error message or log line of the engine
    names a bound value.
    """
    # hide_parameters: an error's message (and the echo log) never lists a statement's
    # bound values (a case's facts, an owner key, a digest's cells)
    common: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if not url.startswith("sqlite"):
        return create_async_engine(url, pool_pre_ping=True, **common)
    if sqlite_pool == "single":
        engine = create_async_engine(url, pool_size=1, max_overflow=0, **common)
    else:
        engine = create_async_engine(url, poolclass=NullPool, **common)
    event.listen(engine.sync_engine, "connect", _on_connect(pragmas))
    return engine


async def open_engine(  # noqa: PLR0913  a public keyword signature of settings, used outside its area
    url: str,
    *,
    init: Callable[[Connection], None],
    echo: bool = False,
    pragmas: Sequence[str] = WAL_PRAGMAS,
    sqlite_pool: Literal["single", "null"] = "single",
    lock: asyncio.Lock | None = None,
) -> AsyncEngine:
    """:func:`make_engine`, then *init* (create tables, migrate) in one transaction, under
    *lock* if given. SQLAlchemy and OS errors propagate to the caller."""
    engine = make_engine(url, echo=echo, pragmas=pragmas, sqlite_pool=sqlite_pool)
    if lock is None:
        async with engine.begin() as conn:
            await conn.run_sync(init)
    else:
        async with lock, engine.begin() as conn:
            await conn.run_sync(init)
    return engine


class EngineOwner:
    """``stop`` and ``_require`` for a store holding one engine in ``_engine``.

    ``_what`` names the store in the "not started" error ("the outbox").
    """

    _what: ClassVar[str] = "the store"
    _engine: AsyncEngine | None

    async def stop(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    def _require(self) -> AsyncEngine:
        if self._engine is None:
            raise StorageError(f"{self._what} is not started; call start() first")
        return self._engine


class TableStore(EngineOwner):
    """A store whose tables are its ``_metadata`` (created if absent at :meth:`start`), on
    one engine for *url*; usable as ``async with``.

    Subclasses set ``_what`` and ``_metadata``; their queries use :meth:`_require`.
    """

    _metadata: ClassVar[MetaData]

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self._url = url
        self._echo = echo
        self._engine: AsyncEngine | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dialect={self._url.split(':', 1)[0]!r})"

    async def start(self) -> None:
        """Connect and create the tables if absent."""
        if self._engine is not None:
            return
        try:
            engine = await open_engine(
                self._url, init=self._metadata.create_all, echo=self._echo, sqlite_pool="null"
            )
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"cannot open the database ({self!r}): {db_reason(exc)}") from exc
        self._engine = engine

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

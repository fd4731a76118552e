"""Turning database errors into messages that are safe to log."""

from __future__ import annotations

import re

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

__all__ = ["db_reason", "io_reason", "refused_by_database"]

#: SQLSTATE classes of a refusal of the data itself: 22 data exception (a value out of
#: range, too long, a character the encoding cannot hold), 23 integrity constraint violation
_REFUSAL_CLASSES = ("22", "23")
#: asyncpg's message for a value it cannot encode: the argument, the value, then why
_ARGUMENT = re.compile(
    r"(invalid input for query argument \$\d+"
    r"(?: in element #\d+ of executemany\(\) sequence)?): .*?(\([^()]*\))?$"
)


def db_reason(exc: BaseException) -> str:
    """A one-line reason from a SQLAlchemy/driver error, without the SQL statement or its
    bound parameters (they may hold case ids, sealed values or file digests): asyncpg names
    a value it cannot encode ("invalid input for query argument $3: <value> (why)"), and
    only the argument and the why are kept."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else type(exc).__name__
    line = text.splitlines()[0] if text else type(exc).__name__
    argument = _ARGUMENT.search(line)
    if argument is not None:
        line = f"{line[: argument.end(1)]} {argument.group(2) or ''}".rstrip()
    return line[:300]


def io_reason(exc: BaseException) -> str:
    """:func:`db_reason`, or the OS's reason for an ``OSError`` (a file that cannot be made)."""
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return db_reason(exc)


def refused_by_database(exc: BaseException) -> bool:
    """Whether *exc* (a SQLAlchemy error) is the database refusing the data (a constraint, a
    value out of range or too long, a character it cannot store): the same statement fails
    the same way on every retry. Anything else (a lost connection, a timeout, a lock) may
    pass on a retry. PostgreSQL through asyncpg reports some refusals as a plain
    ``DBAPIError``: its SQLSTATE (class 22 or 23) tells them apart."""
    if isinstance(exc, (DataError, IntegrityError)):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if isinstance(state, str) and state.startswith(_REFUSAL_CLASSES):
        return True
    return _unencodable(exc.orig)


def _unencodable(orig: BaseException | None) -> bool:
    """Whether asyncpg could not encode a bound value (an integer past the column's type):
    it raises its own ``DataError`` before anything reaches the server, which SQLAlchemy's
    adapter passes on as an ``InterfaceError`` with no SQLSTATE (the cause it chains)."""
    try:
        from asyncpg.exceptions import (  # type: ignore[import-untyped]  # noqa: PLC0415  asyncpg ships no type information; the PostgreSQL driver, loaded on a refusal only
            DataError as AsyncpgDataError,
        )
    except ImportError:  # pragma: no cover - asyncpg is a dependency; SQLite-only installs
        return False
    seen = orig
    for _ in range(5):  # the adapter's error, then what it was raised from
        if seen is None:
            return False
        if isinstance(seen, AsyncpgDataError):
            return True
        seen = seen.__cause__
    return False

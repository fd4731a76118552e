"""Turning database errors into messages that are safe to log."""

from __future__ import annotations

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

__all__ = ["db_reason", "io_reason", "refused_by_database"]

#: SQLSTATE classes of a refusal of the data itself: 22 data exception (a value out of
#: range, too long, a character the encoding cannot hold), 23 integrity constraint violation
_REFUSAL_CLASSES = ("22", "23")


def db_reason(exc: BaseException) -> str:
    """A one-line reason from a SQLAlchemy/driver error, without the SQL statement or its
    bound parameters (they may hold case ids, sealed values or file digests)."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else type(exc).__name__
    return text.splitlines()[0][:300] if text else type(exc).__name__


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
    return isinstance(state, str) and state.startswith(_REFUSAL_CLASSES)

"""Turning database errors into messages that are safe to log."""

from __future__ import annotations

__all__ = ["db_reason", "io_reason"]


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

"""Turning database errors into messages that are safe to log."""

from __future__ import annotations

__all__ = ["db_reason"]


def db_reason(exc: BaseException) -> str:
    """A one-line reason from a SQLAlchemy/driver error, without the SQL statement or its
    bound parameters (they may hold case ids, sealed values or file digests)."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else type(exc).__name__
    return text.splitlines()[0][:300] if text else type(exc).__name__

"""Database errors: which are the data's fault (the same write fails every time, so the
record is isolated and dead-lettered) and which may pass on a retry, and what of them may be
logged (never a bound value)."""

from __future__ import annotations

import pytest
from asyncpg.exceptions import (  # type: ignore[import-untyped]  # asyncpg ships no type information
    DataError as AsyncpgDataError,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from dief.database import db_reason, refused_by_database


class _DriverError(Exception):
    """What SQLAlchemy's asyncpg adapter raises: its own error, with the SQLSTATE."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _wrapped(cls: type[DBAPIError], orig: BaseException) -> DBAPIError:
    return cls("INSERT INTO secretariat_cells ...", {"count": 1099511627776}, orig)


@pytest.mark.parametrize(
    ("error", "refused"),
    [
        (_wrapped(IntegrityError, _DriverError("check constraint", "23514")), True),
        # a value too long, a character the encoding refuses: class 22, a plain DBAPIError
        (_wrapped(DBAPIError, _DriverError("value too long", "22001")), True),
        (_wrapped(DBAPIError, _DriverError("invalid byte sequence", "22021")), True),
        # outages: a lost connection, a serialization failure, a deadlock, a shutdown
        (_wrapped(OperationalError, _DriverError("connection refused", "08006")), False),
        (_wrapped(DBAPIError, _DriverError("could not serialize", "40001")), False),
        (_wrapped(DBAPIError, _DriverError("deadlock detected", "40P01")), False),
        (_wrapped(DBAPIError, _DriverError("admin shutdown", "57P01")), False),
        (_wrapped(InterfaceError, _DriverError("connection is closed")), False),
    ],
)
def test_a_refusal_of_the_data_is_told_from_an_outage(error: DBAPIError, refused: bool) -> None:
    assert refused_by_database(error) is refused


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        (
            "invalid input for query argument $3: 1099511627776 (value out of int32 range)",
            "invalid input for query argument $3 (value out of int32 range)",
        ),
        (
            (
                "invalid input for query argument $6 in element #0 of executemany() sequence: "
                "1099511627776 (value out of int32 range)"
            ),
            (
                "invalid input for query argument $6 in element #0 of executemany() sequence "
                "(value out of int32 range)"
            ),
        ),
    ],
)
def test_a_value_asyncpg_cannot_encode_is_a_refusal_and_is_not_logged(
    message: str, kept: str
) -> None:
    """The driver refuses an integer past int32 before the server sees it; SQLAlchemy's
    adapter passes it on as an InterfaceError without SQLSTATE, its message naming the
    value (tests/integration/test_secretariat_hostile_digests.py: on PostgreSQL)."""
    cause = AsyncpgDataError(message)
    adapted = _DriverError(f"<class 'asyncpg.exceptions.DataError'>: {message}")
    adapted.__cause__ = cause
    error = _wrapped(InterfaceError, adapted)
    assert refused_by_database(error)
    reason = db_reason(error)
    assert reason == f"<class 'asyncpg.exceptions.DataError'>: {kept}"
    assert "1099511627776" not in reason

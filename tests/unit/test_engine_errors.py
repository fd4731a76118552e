"""An engine's errors and its echo log (SQLAlchemy's loggers) name no bound value.

A failing batch's error reaches a log line (its message) and exceptions' chains, and its
values are a case's facts or an owner key. aiosqlite logs each call with its arguments at
DEBUG, a level ``dief``'s logging never enables (``configure_logging``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from dief.database import make_engine, sqlite_url

if TYPE_CHECKING:
    from pathlib import Path

SECRET = "owner-key-5f3a9c"


@pytest.mark.parametrize("pool", ["single", "null"])
async def test_a_failed_statement_names_no_bound_value(
    tmp_path: Path, pool: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(sqlite_url(tmp_path / "e.sqlite"), echo=True, sqlite_pool=pool)  # type: ignore[arg-type]  # the two literal pool kinds, parametrized
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(SQLAlchemyError) as failed:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO no_such_table VALUES (:v)"), {"v": SECRET})
    finally:
        await engine.dispose()
    assert "no_such_table" in str(failed.value)
    assert SECRET not in str(failed.value)
    echoed = [r for r in caplog.records if r.name.startswith("sqlalchemy")]
    assert any("no_such_table" in r.getMessage() for r in echoed)
    assert SECRET not in "\n".join(logging.Formatter().format(r) for r in echoed)

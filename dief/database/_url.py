"""Database URLs: the async driver for a plain ``sqlite://`` or ``postgresql://`` URL, and the
file behind a SQLite URL. Pure string functions (no I/O): the CLI edge normalises what it is
given with :func:`async_url`; the stores take the result."""

from __future__ import annotations

from pathlib import Path

__all__ = ["async_url", "sqlite_path", "sqlite_url"]

#: A plain scheme (SQLAlchemy's default, synchronous driver) → the async driver DIEF ships.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",  # the spelling of Heroku and libpq URIs
}
_SQLITE = "sqlite+aiosqlite://"


def async_url(url: str) -> str:
    """*url* with the async driver: ``sqlite:///f.db`` → ``sqlite+aiosqlite:///f.db``,
    ``postgresql://…`` (or ``postgres://…``) → ``postgresql+asyncpg://…``; a URL that names
    a driver already is returned unchanged."""
    scheme, sep, rest = url.partition("://")
    driver = _ASYNC_DRIVERS.get(scheme.lower()) if sep else None
    return f"{driver}://{rest}" if driver else url


def sqlite_url(path: Path) -> str:
    """The URL of the SQLite file at *path* (async driver)."""
    return f"{_SQLITE}/{path}"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (plain or async driver), or None for any other database
    and for an in-memory SQLite database."""
    normal = async_url(url)
    if not normal.startswith(_SQLITE + "/"):
        return None
    file = normal[len(_SQLITE) + 1 :].split("?", 1)[0]
    return Path(file) if file and file != ":memory:" else None

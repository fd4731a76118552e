"""UTC times as the directory writes them: ``YYYY-MM-DDTHH:MM:SSZ``."""

from __future__ import annotations

from datetime import UTC, datetime

from dief.exceptions import DirectoryError

__all__ = ["DAY", "iso", "parse_iso"]

DAY = 86_400.0


def iso(epoch_seconds: float) -> str:
    """*epoch_seconds* as ``2026-05-01T12:00:00Z`` (whole seconds, UTC)."""
    return datetime.fromtimestamp(int(epoch_seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str, *, what: str = "time") -> float:
    """Seconds since the epoch of a ``…Z`` time; :class:`DirectoryError` if it is not one."""
    try:
        value = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        raise DirectoryError(f"{what} is not a UTC time", code="malformed") from None
    return value.timestamp()

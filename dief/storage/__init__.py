"""Persistence of the regional aggregator: case facts and incremental cell counts."""

from dief.storage._store import CaseStore, CellRow, StoredCase, sqlite_url

__all__ = ["CaseStore", "CellRow", "StoredCase", "sqlite_url"]

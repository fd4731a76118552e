"""Persistence of the regional aggregator: case facts and incremental cell counts."""

from dief.storage._queries import CellRow, StoredCase
from dief.storage._store import CaseStore, sqlite_url
from dief.storage._versions import DigestVersion, DigestVersions

__all__ = ["CaseStore", "CellRow", "DigestVersion", "DigestVersions", "StoredCase", "sqlite_url"]

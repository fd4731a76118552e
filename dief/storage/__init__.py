"""Persistence of the regional aggregator: case facts and incremental cell counts."""

from dief.storage._patterns import (
    DigestPatterns,
    PublishedCell,
    PublishedPattern,
    SuppressedCell,
)
from dief.storage._queries import CellRow, StoredCase
from dief.storage._store import CaseStore, sqlite_url
from dief.storage._versions import DigestVersion, DigestVersions

__all__ = [
    "CaseStore",
    "CellRow",
    "DigestPatterns",
    "DigestVersion",
    "DigestVersions",
    "PublishedCell",
    "PublishedPattern",
    "StoredCase",
    "SuppressedCell",
    "sqlite_url",
]

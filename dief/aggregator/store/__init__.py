"""Persistence of the regional aggregator: case facts and incremental cell counts."""

from dief.aggregator.store._changes import READ_ATTEMPTS, DataVersion, settled_read
from dief.aggregator.store._patterns import (
    DigestPatterns,
    PublishedCell,
    PublishedPattern,
    SuppressedCell,
)
from dief.aggregator.store._queries import CellRow, StoredCase
from dief.aggregator.store._released import ReleasedBulletin, ReleasedBulletins
from dief.aggregator.store._routes import ReceivedRoute, RouteCase, RoutePattern, RouteTables
from dief.aggregator.store._store import CaseStore
from dief.aggregator.store._versions import DigestVersion, DigestVersions

__all__ = [
    "READ_ATTEMPTS",
    "CaseStore",
    "CellRow",
    "DataVersion",
    "DigestPatterns",
    "DigestVersion",
    "DigestVersions",
    "PublishedCell",
    "PublishedPattern",
    "ReceivedRoute",
    "ReleasedBulletin",
    "ReleasedBulletins",
    "RouteCase",
    "RoutePattern",
    "RouteTables",
    "StoredCase",
    "SuppressedCell",
    "settled_read",
]

"""Database tables of the regional aggregator (SQLAlchemy Core).

Only categorical facts are stored in clear. Stored times (``applied_at``, ``updated_at``)
are coarsened to the hour, like record timestamps (DESIGN §3, §11). Free text stays inside
the sealed envelope, which is kept as received (``cases.sealed``) and can be opened only
with the region key; a withdrawn case keeps none (its ``sealed`` is empty: the withdrawal
erases the lesson).
A case's (dimension, value) pairs are one JSON column of its row (``dimension_values``), so
a revision rewrites one row, not a row per pair.

``cell_counts`` and ``cell_totals`` are the incremental aggregate (DESIGN §7). A cell is
(region, period, dimension, value, cycle); the ``cycle`` column exists because contributor
pseudonyms are per CSP cycle, so a quarter that spans two cycles takes the largest per-cycle
count as a lower bound (DESIGN §5). A case counts in its month, quarter, half-cycle
(``CSP12-H1``, migration 0013) and cycle; a half lies in one cycle.

- ``cell_counts``: one row per cell and contributor, with ``n`` counted cases and
  ``n_nonred`` of them not TLP:RED (red cases count in the region's meeting digest only).
  Only the writer reads it, to see when a contributor's count leaves or reaches zero.
- ``cell_totals``: one row per cell, with the cases and the distinct contributors of both
  scopes (all cases; not red). Digests read only this table, so a digest costs O(cells).
  Kept in step with ``cell_counts`` in the same transaction (:mod:`dief.aggregator.store._cells`).

Rows whose counts fall to zero stay (reads filter ``n > 0``). On SQLite both are
``WITHOUT ROWID`` tables: one B-tree per table instead of a rowid table plus its key index.

``digest_versions`` keeps, per (region, period), the last digest version claimed and the
version and content hash of the last one published (see :mod:`dief.aggregator.store._versions`).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "applied_records",
    "cases",
    "cell_counts",
    "cell_totals",
    "dead_letters",
    "digest_cells",
    "digest_versions",
    "issued_versions",
    "metadata",
]

metadata = MetaData()

applied_records = Table(
    "applied_records",
    metadata,
    Column("record_id", String(36), primary_key=True),
    Column("region", String(8), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

cases = Table(
    "cases",
    metadata,
    Column("region", String(8), primary_key=True),
    Column("case_id", String(36), primary_key=True),
    Column("revision", Integer, nullable=False),
    # The case's Ed25519 owner public key, base64url (migration 0010; its id derives from it).
    Column("owner_key", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("contributor", String(64), nullable=False),
    Column("month", String(7), nullable=False),
    Column("cycle", String(8), nullable=False),
    Column("tlp", String(16), nullable=False),
    Column("record_id", String(36), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The case's (dimension, value) pairs as a JSON array of pairs (migration 0005).
    Column("dimension_values", Text, nullable=False, server_default="[]"),
    # The other regions on the case's route, a JSON array of region codes (migration 0010):
    # route tables read them; they never count the case.
    Column("related_regions", Text, nullable=False, server_default="[]"),
    # The case's half-cycle (``CSP12-H1``) by the aggregator's cycle start month (migration
    # 0013): the month and cycle alone do not tell it when the start month is not known.
    Column("half", String(8), nullable=False, server_default=""),
)


def _cell_key() -> list[Column[str]]:
    return [
        Column("region", String(8), primary_key=True),
        Column("period", String(8), primary_key=True),
        Column("dimension", String(32), primary_key=True),
        Column("value", String(64), primary_key=True),
        Column("cycle", String(8), primary_key=True),
    ]


cell_counts = Table(
    "cell_counts",
    metadata,
    *_cell_key(),
    Column("contributor", String(64), primary_key=True),
    Column("n", Integer, nullable=False),
    Column("n_nonred", Integer, nullable=False),
    sqlite_with_rowid=False,
)

cell_totals = Table(
    "cell_totals",
    metadata,
    *_cell_key(),
    Column("n", Integer, nullable=False),
    Column("contributors", Integer, nullable=False),
    Column("n_nonred", Integer, nullable=False),
    Column("contributors_nonred", Integer, nullable=False),
    sqlite_with_rowid=False,
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("region", String(8), primary_key=True),
    Column("reason", String(48), primary_key=True),
    Column("n", Integer, nullable=False),
)

digest_versions = Table(
    "digest_versions",
    metadata,
    Column("region", String(8), primary_key=True),
    Column("period", String(8), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("published_version", Integer, nullable=True),
    Column("content_hash", String(64), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: the cells a region's published digests listed, per table (a period, or a checklist window
#: ``W<last quarter>``): the count last published, NULL once suppressed (then for good: every
#: later issue keeps it suppressed; see :mod:`dief.aggregator.store._patterns`)
digest_cells = Table(
    "digest_cells",
    metadata,
    Column("region", String(8), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("dimension", String(32), primary_key=True),
    Column("value", String(64), primary_key=True),
    Column("count", Integer, nullable=True),
    sqlite_with_rowid=False,
)

#: per (region, period): how many batches changed its cases, and a random token renewed on
#: each (published as documents' ``data_version``; :mod:`dief.aggregator.store._changes`)
period_changes = Table(
    "period_changes",
    metadata,
    Column("region", String(8), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("changes", Integer, nullable=False),
    Column("token", String(32), nullable=False),
    sqlite_with_rowid=False,
)

#: per (region, period): the ``data_version`` (a ``period_changes`` token) its digest stated
#: when an issue last recorded it (migration 0016): a re-issue whose token is the same knows
#: the reader links the two issues' tables (:mod:`dief.aggregator.store._patterns`)
issued_versions = Table(
    "issued_versions",
    metadata,
    Column("region", String(8), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("token", String(32), nullable=False),
    sqlite_with_rowid=False,
)

"""The outbox file's tables and the statements :class:`dief.node.Outbox` runs on its thread.

Tables (one SQLite file per node):

- ``outbox``: sealed records waiting for the broker (``published_at`` NULL) or sent; each
  with its relay ``grp`` (an opaque per-pseudonym tag) and ``urgent`` (alerts).
- ``node_cases``: the node's **case index** (DESIGN §4, §5): per case its derived case id,
  its case index (the owner key derives from it), region, cycle, latest revision (NULL when
  not known, after a restore) and the practitioner's own reference, if the input gave one
  (kept here, never sent).
- ``held``: cases accepted while the contributor token of their (cycle, region) had not
  arrived: stored **unsealed** (the generalised record without credential, envelope id and
  signature) until :meth:`dief.node.NationalNode.release_held` seals them. The outbox is
  the node's own file and holds what it posts anyway.
- ``intake_sources`` and ``intake_cases``: posted files and new cases' input fingerprints.
- the receipt tables (:mod:`dief.node._receipts`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.exceptions import StorageError
from dief.node._receipts import RECEIPT_SCHEMA
from dief.seams import OutboxEntry
from dief.wire import UnsignedRecord

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Sequence

__all__ = [
    "CONFLICT",
    "INTAKE",
    "SCHEMA",
    "CaseIndexEntry",
    "HeldCase",
    "PendingEntry",
    "Row",
    "check_schema",
    "insert_intake",
]

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER NOT NULL,
        topic VARCHAR(64) NOT NULL,
        "key" BLOB NOT NULL,
        value BLOB NOT NULL,
        timestamp_ms INTEGER NOT NULL,
        created_at DATETIME NOT NULL,
        published_at DATETIME,
        grp VARCHAR(32) NOT NULL DEFAULT '',
        urgent BOOLEAN NOT NULL DEFAULT 0,
        PRIMARY KEY (seq)
    )""",
    "CREATE INDEX IF NOT EXISTS ix_outbox_published_at ON outbox (published_at)",
    # SHA-256 of a posted file's bytes: a file is posted once, even if the node stops
    # between writing its cases and moving the file away.
    """CREATE TABLE IF NOT EXISTS intake_sources (
        digest VARCHAR(64) NOT NULL,
        posted_at DATETIME NOT NULL,
        PRIMARY KEY (digest)
    )""",
    # SHA-256 of each new case this node accepted (its input, as parsed), with the case id
    # it received: the same case in a later file is reported as already posted, never sent
    # twice under a new id. A file may hold the same input twice (two cases): one row each.
    """CREATE TABLE IF NOT EXISTS intake_cases (
        fingerprint VARCHAR(64) NOT NULL,
        case_id VARCHAR(36) NOT NULL,
        posted_at DATETIME NOT NULL,
        PRIMARY KEY (fingerprint, case_id)
    )""",
    """CREATE TABLE IF NOT EXISTS node_cases (
        case_id VARCHAR(36) NOT NULL,
        revision INTEGER,
        case_index INTEGER NOT NULL UNIQUE,
        region VARCHAR(8) NOT NULL,
        cycle VARCHAR(8) NOT NULL,
        reference VARCHAR(36) UNIQUE,
        PRIMARY KEY (case_id)
    )""",
    """CREATE TABLE IF NOT EXISTS held (
        seq INTEGER NOT NULL,
        case_index INTEGER NOT NULL,
        case_id VARCHAR(36) NOT NULL,
        revision INTEGER NOT NULL,
        region VARCHAR(8) NOT NULL,
        cycle VARCHAR(8) NOT NULL,
        record BLOB NOT NULL,
        created_at DATETIME NOT NULL,
        PRIMARY KEY (seq)
    )""",
    *RECEIPT_SCHEMA,
)

#: One add is one INSERT into this per-connection view (nothing changes in the file's
#: schema): rows carry a ``kind`` — a case's index entry and new revision, an entry, a
#: source, or the fingerprint of a new case. One statement is one transaction and one
#: hand-over of the interpreter lock by the outbox's thread. A revision not above the
#: stored one aborts the whole statement; so does a case index or a reference another
#: writer took meanwhile (a UNIQUE constraint).
INTAKE = """
CREATE TEMP VIEW intake
    (kind, seq, topic, "key", value, timestamp_ms, at, case_id, revision, digest, fingerprint,
     case_index, region, cycle, reference, grp, urgent)
    AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP TRIGGER intake_case INSTEAD OF INSERT ON intake WHEN NEW.kind = 'case'
BEGIN
    SELECT RAISE(ABORT, 'dief: revision conflict') WHERE EXISTS (
        SELECT 1 FROM node_cases WHERE case_id = NEW.case_id AND revision >= NEW.revision);
    INSERT INTO node_cases (case_id, revision, case_index, region, cycle, reference)
        VALUES (NEW.case_id, NEW.revision, NEW.case_index, NEW.region, NEW.cycle, NEW.reference)
        ON CONFLICT (case_id) DO UPDATE SET revision = excluded.revision;
END;
CREATE TEMP TRIGGER intake_entry INSTEAD OF INSERT ON intake WHEN NEW.kind = 'entry'
BEGIN
    INSERT INTO outbox (seq, topic, "key", value, timestamp_ms, created_at, grp, urgent)
        VALUES (NEW.seq, NEW.topic, NEW."key", NEW.value, NEW.timestamp_ms, NEW.at, NEW.grp,
            NEW.urgent);
END;
CREATE TEMP TRIGGER intake_source INSTEAD OF INSERT ON intake WHEN NEW.kind = 'source'
BEGIN
    INSERT OR IGNORE INTO intake_sources (digest, posted_at) VALUES (NEW.digest, NEW.at);
END;
CREATE TEMP TRIGGER intake_fingerprint INSTEAD OF INSERT ON intake WHEN NEW.kind = 'print'
BEGIN
    INSERT OR IGNORE INTO intake_cases (fingerprint, case_id, posted_at)
        VALUES (NEW.fingerprint, NEW.case_id, NEW.at);
END;
"""
_COLUMNS = 17
#: The receipt tickets of an add, in its transaction (a plain statement: through a trigger
#: of the intake view it costs twice as much).
INSERT_TICKETS = (
    "INSERT OR IGNORE INTO receipts "
    "(receipt_id, receipt_key, case_id, revision, region, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
INSERT_HELD = (
    "INSERT INTO held (seq, case_index, case_id, revision, region, cycle, record, created_at) "
    "VALUES (NULL, ?, ?, ?, ?, ?, ?, ?)"
)
CONFLICT = "dief: revision conflict"
#: Rows per INSERT statement (17 parameters each, far below SQLite's limit of 32,766).
_INTAKE_ROWS = 500
Row = tuple[int | str | bytes | None, ...]

SELECT_PENDING = (
    'SELECT seq, topic, "key", value, timestamp_ms, grp, urgent FROM outbox '
    "WHERE published_at IS NULL AND seq > ? ORDER BY seq LIMIT ?"
)


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """An outbox entry with its sequence number, as the relay reads it."""

    seq: int
    entry: OutboxEntry


@dataclass(frozen=True, slots=True)
class CaseIndexEntry:
    """A case in the node's case index: its derived id, its index (which the owner key
    derives from), region, cycle, latest revision (None when not known, after a restore)
    and the practitioner's own reference (never sent)."""

    case_id: str
    index: int
    region: str
    cycle: str
    revision: int | None
    reference: str | None = None

    def row(self, at: str) -> Row:
        """The entry as a ``case`` row of the intake view."""
        return (
            ("case",)
            + (None,) * 5
            + (at, self.case_id, self.revision, None, None)
            + (self.index, self.region, self.cycle, self.reference, None, None)
        )


@dataclass(frozen=True, slots=True)
class HeldCase:
    """A case revision held until its contributor token arrives (``seq`` 0 until stored)."""

    index: int
    record: UnsignedRecord = field(repr=False)
    seq: int = 0


def entry_row(seq: int, entry: OutboxEntry, at: str) -> Row:
    return (
        ("entry", seq, entry.topic, entry.key, entry.value, entry.timestamp_ms, at)
        + (None,) * 8
        + (entry.group, int(entry.urgent))
    )


def source_row(digest: str, at: str) -> Row:
    return ("source",) + (None,) * 5 + (at, None, None, digest) + (None,) * 7


def print_row(fingerprint: str, case_id: str, at: str) -> Row:
    return ("print",) + (None,) * 5 + (at, case_id, None, None, fingerprint) + (None,) * 6


def held_row(held: HeldCase, at: str) -> Row:
    r = held.record
    return (held.index, r.case_id, r.revision, r.region, r.cycle, r.to_json(), at)


def check_schema(db: sqlite3.Connection) -> None:
    """Refuse an outbox file from before case records v2 (no case index): its cases cannot
    be revised under the new contracts; and one holding cases generalised before schema 3
    (without the Working Group's fields, which every schema-3 record carries, so the
    ``transfer_type`` key is absent): they could never be signed, and would hold back their
    (cycle, region) for ever (docs/case-model.md)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(node_cases)")}
    if "case_index" not in columns:
        raise StorageError(
            "this outbox was written by an older DIEF (case records v1, no case index); "
            "start a new outbox file"
        )
    if db.execute(_HELD_BEFORE_SCHEMA_3).fetchone() is not None:
        raise StorageError(
            "this outbox holds cases waiting for a contributor token that an older DIEF "
            "generalised (case records schema 2, without the Working Group's fields); start "
            "a new outbox file and post those cases again"
        )


#: A held record without the key every schema-3 record has (a held record is compact JSON).
_HELD_BEFORE_SCHEMA_3 = (
    "SELECT 1 FROM held WHERE instr(CAST(record AS TEXT), '\"transfer_type\":') = 0 LIMIT 1"
)


def insert_intake(
    db: sqlite3.Connection, rows: list[Row], tickets: list[Row], held: list[Row]
) -> None:
    """Insert *rows* into the intake view, *tickets* into the receipt tickets and *held*
    into the held cases: one statement (its own transaction) when the rows fit and there
    is nothing else, else one transaction of several."""
    chunks = [rows[i : i + _INTAKE_ROWS] for i in range(0, len(rows), _INTAKE_ROWS)]
    if len(chunks) == 1 and not tickets and not held:
        db.execute(_intake_statement(len(rows)), [v for row in rows for v in row])
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for chunk in chunks:
            db.execute(_intake_statement(len(chunk)), [v for row in chunk for v in row])
        db.executemany(INSERT_TICKETS, tickets)
        db.executemany(INSERT_HELD, held)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def release_held(
    db: sqlite3.Connection, seqs: Sequence[int], rows: list[Row], tickets: list[Row]
) -> bool:
    """Replace the held cases *seqs* by their sealed entries (*rows*, intake ``entry``
    rows) and *tickets*, in one transaction; False (nothing written) if another writer
    released some of them first."""
    db.execute("BEGIN IMMEDIATE")
    try:  # noqa: PLW0717  one transaction: whatever fails in it rolls it back
        gone = 0
        for seq in seqs:
            gone += db.execute("DELETE FROM held WHERE seq = ?", (seq,)).rowcount
        if gone != len(seqs):
            db.execute("ROLLBACK")
            return False
        for i in range(0, len(rows), _INTAKE_ROWS):
            chunk = rows[i : i + _INTAKE_ROWS]
            db.execute(_intake_statement(len(chunk)), [v for row in chunk for v in row])
        db.executemany(INSERT_TICKETS, tickets)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return True


def _intake_statement(rows: int) -> str:
    # Only placeholders are joined in: no value ever becomes SQL text.
    one = "(" + ", ".join(["?"] * _COLUMNS) + ")"
    return "INSERT INTO intake VALUES " + ", ".join([one] * rows)  # noqa: S608


def load_held(db: sqlite3.Connection) -> list[HeldCase]:
    rows = db.execute("SELECT seq, case_index, record FROM held ORDER BY seq")
    return [HeldCase(int(i), UnsignedRecord.from_json(bytes(r)), int(s)) for s, i, r in rows]


def pending(db: sqlite3.Connection, after: int, limit: int) -> list[PendingEntry]:
    return [
        PendingEntry(seq, OutboxEntry(topic, key, value, ts, group=grp, urgent=bool(urgent)))
        for seq, topic, key, value, ts, grp, urgent in db.execute(SELECT_PENDING, (after, limit))
    ]

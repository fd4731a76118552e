"""The node's durable outbox (DESIGN §8): every accepted case is written here first.

An entry leaves the outbox (``published_at`` set) only after the broker acknowledged it
with ``acks=all``. The outbox also remembers each case's latest revision and owner, so
revisions are numbered per case and a restarted node resumes where it stopped.

One SQLite file per node, driven by the standard library's :mod:`sqlite3` on one worker
thread of its own: each operation is one hop to that thread and one transaction
(WAL; ``synchronous=FULL`` for :meth:`Outbox.add`, so an accepted case survives a power
cut). The latest revision of every case is kept in memory (loaded at start, updated on
every commit); :meth:`Outbox.add` writes a revision only above the one in the file, in its
write transaction, so a second process on the same file (``dief post`` while ``dief node``
runs) can never make two records with one revision number: the add is refused, the
memory reloaded from the file, and the node numbers once more.

The same file keeps the receipt ticket of every sealed record (written by :meth:`Outbox.add`
in the transaction of its entry) and what the receipts said (:mod:`dief.node._receipts`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

from dief.exceptions import StorageError
from dief.node._receipts import RECEIPT_SCHEMA, ReceiptTicket
from dief.seams import OutboxEntry

__all__ = [
    "Outbox",
    "PendingEntry",
    "RevisionConflict",
]

_T = TypeVar("_T")

#: The schema the SQLAlchemy version of this module created (existing files open as they are).
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER NOT NULL,
        topic VARCHAR(64) NOT NULL,
        "key" BLOB NOT NULL,
        value BLOB NOT NULL,
        timestamp_ms INTEGER NOT NULL,
        created_at DATETIME NOT NULL,
        published_at DATETIME,
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
        revision INTEGER NOT NULL,
        PRIMARY KEY (case_id)
    )""",
    *RECEIPT_SCHEMA,
)

#: One add is one INSERT into this per-connection view (nothing changes in the file's
#: schema): rows carry either a case's new revision, an entry, a source, or the fingerprint
#: of a new case. One statement
#: is one transaction and one hand-over of the interpreter lock by the outbox's thread.
#: A revision not above the stored one aborts the whole statement.
_INTAKE = """
CREATE TEMP VIEW intake
    (seq, topic, "key", value, timestamp_ms, at, case_id, revision, digest, fingerprint)
    AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP TRIGGER intake_case INSTEAD OF INSERT ON intake
    WHEN NEW.case_id IS NOT NULL AND NEW.fingerprint IS NULL
BEGIN
    SELECT RAISE(ABORT, 'dief: revision conflict') WHERE EXISTS (
        SELECT 1 FROM node_cases WHERE case_id = NEW.case_id AND revision >= NEW.revision);
    INSERT INTO node_cases (case_id, revision) VALUES (NEW.case_id, NEW.revision)
        ON CONFLICT (case_id) DO UPDATE SET revision = excluded.revision;
END;
CREATE TEMP TRIGGER intake_entry INSTEAD OF INSERT ON intake WHEN NEW.topic IS NOT NULL
BEGIN
    INSERT INTO outbox (seq, topic, "key", value, timestamp_ms, created_at)
        VALUES (NEW.seq, NEW.topic, NEW."key", NEW.value, NEW.timestamp_ms, NEW.at);
END;
CREATE TEMP TRIGGER intake_source INSTEAD OF INSERT ON intake WHEN NEW.digest IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO intake_sources (digest, posted_at) VALUES (NEW.digest, NEW.at);
END;
CREATE TEMP TRIGGER intake_fingerprint INSTEAD OF INSERT ON intake
    WHEN NEW.fingerprint IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO intake_cases (fingerprint, case_id, posted_at)
        VALUES (NEW.fingerprint, NEW.case_id, NEW.at);
END;
"""
#: The receipt tickets of an add, in its transaction (a plain statement: through a trigger
#: of the intake view it costs twice as much).
_INSERT_TICKETS = (
    "INSERT OR IGNORE INTO receipts "
    "(receipt_id, receipt_key, case_id, revision, region, related, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_CONFLICT = "dief: revision conflict"
#: Rows per INSERT statement (10 parameters each, far below SQLite's limit of 32,766).
_INTAKE_ROWS = 500
_Row = tuple[int | str | bytes | None, ...]

_SELECT_PENDING = (
    'SELECT seq, topic, "key", value, timestamp_ms FROM outbox '
    "WHERE published_at IS NULL AND seq > ? ORDER BY seq LIMIT ?"
)


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """An outbox entry with its sequence number, as the relay reads it."""

    seq: int
    entry: OutboxEntry


class RevisionConflict(StorageError):  # noqa: N818 - a StorageError, named for what happened
    """:meth:`Outbox.add` refused revisions not above the ones already in the outbox: they
    were numbered from an outdated view (another writer committed in between). Nothing was
    written; the outbox's view is fresh again, so numbering once more succeeds."""

    code = "revision_conflict"


#: Called on the event loop with the entries of each committed :meth:`Outbox.add`.
Listener = Callable[[list[PendingEntry]], None]


def _now() -> str:
    # The text form SQLAlchemy's DateTime wrote in these columns (naive UTC).
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _reason(exc: BaseException) -> str:
    """The database's or the OS's reason, never the statement or its parameters."""
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    text = str(exc).splitlines()[0][:300] if str(exc) else ""
    return text or type(exc).__name__


class Outbox:
    """A SQLite outbox file (one per national node)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: sqlite3.Connection | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Written on the worker thread only (after each commit); read on the event loop.
        self._revisions: dict[str, int] = {}
        self._fingerprints: dict[str, list[str]] = {}
        self._next_seq = 1  # this connection numbers its entries itself
        self._listener: Listener | None = None

    def __repr__(self) -> str:
        return f"Outbox(path={str(self._path)!r})"

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        if self._db is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dief-outbox")
        try:
            self._db = await self._loop.run_in_executor(self._thread, self._open)
        except (sqlite3.Error, OSError) as exc:
            self._thread.shutdown(wait=False)
            self._thread = None
            raise StorageError(f"cannot open the outbox {self._path}: {_reason(exc)}") from exc

    def _open(self) -> sqlite3.Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: every transaction below is an explicit BEGIN … COMMIT.
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")  # an accepted case survives a power cut
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute("COMMIT")
            db.executescript(_INTAKE)
            self._load_revisions(db)
        except BaseException:
            db.close()
            raise
        return db

    async def stop(self) -> None:
        if self._db is None or self._thread is None:
            return
        db, thread = self._db, self._thread
        self._db = None
        self._thread = None
        try:
            await asyncio.get_running_loop().run_in_executor(thread, db.close)
        finally:
            thread.shutdown(wait=True)

    async def transact(self, what: str, fn: Callable[..., _T], *args: object) -> _T:
        """Run *fn(db, …)* on the outbox's thread (this package's other tables, e.g.
        :class:`dief.node.ReceiptBook`); errors become :class:`StorageError` saying *what*
        (``"reading"``, ``"writing"``) failed."""
        return await self._call(what, fn, *args)

    async def _call(self, what: str, fn: Callable[..., _T], *args: object) -> _T:
        """Run *fn(db, …)* on the outbox's thread (one transaction); errors become
        :class:`StorageError` saying *what* failed."""
        if self._db is None or self._thread is None or self._loop is None:
            raise StorageError("the outbox is not started; call start() first")
        try:
            return await self._loop.run_in_executor(self._thread, partial(fn, self._db, *args))
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(f"{what} the outbox failed: {_reason(exc)}") from exc

    # -- revisions ---------------------------------------------------------------------

    def _load_revisions(self, db: sqlite3.Connection) -> None:
        self._revisions = dict(db.execute("SELECT case_id, revision FROM node_cases"))
        prints: dict[str, list[str]] = {}
        rows = db.execute("SELECT fingerprint, case_id FROM intake_cases ORDER BY rowid")
        for fingerprint, case_id in rows:
            prints.setdefault(fingerprint, []).append(case_id)
        self._fingerprints = prints
        (self._next_seq,) = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM outbox").fetchone()

    def known_revisions(self, case_ids: Sequence[str]) -> dict[str, int]:
        """The latest revision this node sent for each of *case_ids* it knows (from
        memory; :meth:`add` verifies them against the file)."""
        known = self._revisions
        return {c: known[c] for c in case_ids if c in known}

    def known_fingerprints(self, fingerprints: Sequence[str]) -> dict[str, list[str]]:
        """The case ids, in the order they were accepted, of each of *fingerprints* (new
        cases' inputs) this node already accepted, from memory."""
        known = self._fingerprints
        return {f: list(known[f]) for f in fingerprints if f in known}

    async def reload_revisions(self) -> None:
        """Read the revisions from the file again (another process may write to it)."""
        await self._call("reading", self._load_revisions)

    async def revisions(self, case_ids: Sequence[str]) -> dict[str, int]:
        """:meth:`known_revisions`, for callers that await it."""
        return self.known_revisions(case_ids)

    # -- intake ------------------------------------------------------------------------

    async def seen(self, source: str) -> bool:
        """Whether a source (a file digest) was already posted through this outbox."""
        return await self._call("reading", _seen, source)

    async def add(
        self,
        revisions: Mapping[str, int],
        entries: Sequence[OutboxEntry],
        *,
        source: str | None = None,
        fingerprints: Sequence[tuple[str, str]] = (),
        receipts: Sequence[ReceiptTicket] = (),
    ) -> list[PendingEntry]:
        """Record the cases' new revisions, their sealed records, the *source* they came
        from, the *fingerprints* (fingerprint, case id) of the new cases among them and the
        *receipts* tickets of the records, atomically and durably; returns the entries with
        their sequence numbers.

        Raises :class:`RevisionConflict` (writing nothing) if a revision is not above the
        one in the file. After the commit, the entries go to the listener (the relay) as
        well, even if the caller was cancelled meanwhile.
        """
        if not revisions and not entries and source is None and not fingerprints:
            return []
        if self._db is None or self._thread is None or self._loop is None:
            raise StorageError("the outbox is not started; call start() first")
        tickets: list[_Row] = [
            (t.receipt_id, t.receipt_key, t.case_id, t.revision, t.region, t.related)
            for t in receipts
        ]
        args = (dict(revisions), list(entries), source, list(fingerprints), tickets)
        work = partial(self._add, self._db, *args)
        done = self._loop.run_in_executor(self._thread, work)
        # On the event loop, in commit order, whether or not the caller is still waiting.
        done.add_done_callback(self._hand_over)
        try:
            return await asyncio.shield(done)
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(f"writing the outbox failed: {_reason(exc)}") from exc

    def _hand_over(self, done: asyncio.Future[list[PendingEntry]]) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        added = done.result()
        if added and self._listener is not None:
            self._listener(added)

    def _add(
        self,
        db: sqlite3.Connection,
        revisions: dict[str, int],
        entries: list[OutboxEntry],
        source: str | None,
        fingerprints: list[tuple[str, str]],
        tickets: list[_Row],
    ) -> list[PendingEntry]:
        now = _now()
        ticket_rows: list[_Row] = [(*t, now) for t in tickets]
        rows: list[_Row] = [(None,) * 6 + (c, r, None, None) for c, r in revisions.items()]
        if source is not None:
            rows.append((None,) * 5 + (now, None, None, source, None))
        rows.extend((None,) * 5 + (now, c, None, None, f) for f, c in fingerprints)
        for attempt in range(3):
            first = self._next_seq
            numbered: list[_Row] = [
                (first + i, e.topic, e.key, e.value, e.timestamp_ms, now, None, None, None, None)
                for i, e in enumerate(entries)
            ]
            try:
                _insert_intake(db, rows + numbered, ticket_rows)
                break
            except sqlite3.IntegrityError as exc:
                # Another process wrote to the file: see it as it is, then number again
                # (sequence numbers) or let the node do so (revisions).
                self._load_revisions(db)
                if _CONFLICT in str(exc):
                    raise RevisionConflict(
                        "the outbox holds newer revisions of some cases than the node numbered from"
                    ) from None
                if attempt == 2 or "outbox.seq" not in str(exc):
                    raise
        self._next_seq = first + len(entries)
        self._revisions.update(revisions)
        for fingerprint, case_id in fingerprints:
            self._fingerprints.setdefault(fingerprint, []).append(case_id)
        return [PendingEntry(first + i, e) for i, e in enumerate(entries)]

    def listen(self, listener: Listener | None) -> None:
        """Hand every committed :meth:`add` to *listener* (on the event loop), or stop
        (None). One listener at a time: the node's relay."""
        if listener is not None and self._listener not in (None, listener):
            raise StorageError("the outbox already has a relay listening")
        self._listener = listener

    # -- relay -------------------------------------------------------------------------

    async def pending(self, limit: int, *, after: int = 0) -> list[PendingEntry]:
        """The oldest unpublished entries (sequence number above *after*), in the order
        they were accepted."""
        return await self._call("reading", _pending, after, limit)

    async def mark_published(self, seqs: Sequence[int]) -> None:
        """Set ``published_at`` on *seqs* (all acknowledged by the broker).

        Committed with ``synchronous=NORMAL``: a power cut may undo this transaction, never
        the entries (each :meth:`add` synced the log up to itself), and an undone mark only
        publishes the entries once more.
        """
        if seqs:
            await self._call("writing", _mark, list(seqs))

    async def counts(self) -> tuple[int, int]:
        """(pending, published) entry counts."""
        return await self._call("reading", _counts)

    async def backlog(self) -> tuple[int, datetime | None]:
        """(pending entries, when the oldest of them was accepted, UTC; None if none): the
        node's metrics. Reads the pending entries only (the ``published_at`` index)."""
        return await self._call("reading", _backlog)


def _seen(db: sqlite3.Connection, source: str) -> bool:
    row = db.execute("SELECT 1 FROM intake_sources WHERE digest = ?", (source,)).fetchone()
    return row is not None


def _insert_intake(db: sqlite3.Connection, rows: list[_Row], tickets: list[_Row]) -> None:
    """Insert *rows* into the intake view and *tickets* into the receipt tickets: one
    statement (its own transaction) when the rows fit and there is no ticket, else one
    transaction of several."""
    chunks = [rows[i : i + _INTAKE_ROWS] for i in range(0, len(rows), _INTAKE_ROWS)]
    if len(chunks) == 1 and not tickets:
        db.execute(_intake_statement(len(rows)), [v for row in rows for v in row])
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for chunk in chunks:
            db.execute(_intake_statement(len(chunk)), [v for row in chunk for v in row])
        db.executemany(_INSERT_TICKETS, tickets)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _intake_statement(rows: int) -> str:
    # Only placeholders are joined in: no value ever becomes SQL text.
    return "INSERT INTO intake VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * rows)  # noqa: S608


def _pending(db: sqlite3.Connection, after: int, limit: int) -> list[PendingEntry]:
    return [
        PendingEntry(seq, OutboxEntry(topic, key, value, ts))
        for seq, topic, key, value, ts in db.execute(_SELECT_PENDING, (after, limit))
    ]


def _mark(db: sqlite3.Connection, seqs: list[int]) -> None:
    now = _now()
    db.execute("PRAGMA synchronous=NORMAL")
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "UPDATE outbox SET published_at = ? WHERE seq = ?", [(now, s) for s in seqs]
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    finally:
        db.execute("PRAGMA synchronous=FULL")


def _counts(db: sqlite3.Connection) -> tuple[int, int]:
    (total,) = db.execute("SELECT count(*) FROM outbox").fetchone()
    (pending,) = db.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()
    return int(pending), int(total) - int(pending)


def _backlog(db: sqlite3.Connection) -> tuple[int, datetime | None]:
    query = "SELECT count(*), min(created_at) FROM outbox WHERE published_at IS NULL"
    pending, oldest = db.execute(query).fetchone()
    if oldest is None:
        return int(pending), None
    # The naive UTC text _now() writes (and SQLAlchemy wrote before it).
    return int(pending), datetime.fromisoformat(str(oldest)).replace(tzinfo=UTC)

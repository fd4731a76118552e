"""The node's durable outbox (DESIGN §8): every accepted case is written here first.

An entry leaves the outbox (``published_at`` set) only after the broker acknowledged it
with ``acks=all``. The outbox also keeps the node's case index (each case's derived id,
case index, region, cycle, latest revision and the practitioner's reference), so revisions
are numbered per case and a restarted node resumes where it stopped, and the cases held
until their contributor token arrives (tables: :mod:`dief.node._outbox_sql`).

One SQLite file per node, driven by the standard library's :mod:`sqlite3` on one worker
thread of its own: each operation is one hop to that thread and one transaction
(WAL; ``synchronous=FULL`` for :meth:`Outbox.add`, so an accepted case survives a power
cut). The case index is kept in memory (loaded at start, updated on every commit);
:meth:`Outbox.add` writes a revision only above the one in the file and a new case only
under a case index and reference nobody took, in its write transaction, so a second
process on the same file (``dief post`` while ``dief node`` runs) can never make two
records with one revision number or two cases with one index: the add is refused, the
memory reloaded from the file, and the node numbers once more.

The same file keeps the receipt ticket of every sealed record (written by :meth:`Outbox.add`
in the transaction of its entry) and what the receipts said (:mod:`dief.node._receipts`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from dief.exceptions import StorageError
from dief.node._outbox_sql import (
    CONFLICT,
    INTAKE,
    SCHEMA,
    CaseIndexEntry,
    HeldCase,
    PendingEntry,
    Row,
    check_schema,
    entry_row,
    held_row,
    insert_intake,
    load_held,
    pending,
    print_row,
    release_held,
    source_row,
)

if TYPE_CHECKING:
    from pathlib import Path

    from dief.node._receipts import ReceiptTicket
    from dief.seams import OutboxEntry

__all__ = [
    "CaseIndexEntry",
    "HeldCase",
    "Outbox",
    "PendingEntry",
    "RevisionConflict",
]

_T = TypeVar("_T")

#: Tries of a write whose sequence numbers another process took first (it numbers again).
_TRIES = 3


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


class Outbox:  # noqa: PLR0904  the outbox file's one interface (node, relay, receipts, portal)
    """A SQLite outbox file (one per national node)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: sqlite3.Connection | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Written on the worker thread only (after each commit); read on the event loop.
        self._cases: dict[str, CaseIndexEntry] = {}  # derived case id → entry
        self._references: dict[str, str] = {}  # practitioner's reference → case id
        self._next_index = 0
        self._held = 0
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
        except (sqlite3.Error, OSError, StorageError) as exc:
            self._thread.shutdown(wait=False)
            self._thread = None
            if isinstance(exc, StorageError):
                raise
            raise StorageError(f"cannot open the outbox {self._path}: {_reason(exc)}") from exc

    def _open(self) -> sqlite3.Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: every transaction below is an explicit BEGIN … COMMIT.
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:  # noqa: PLW0717  one transaction: whatever fails in it rolls it back
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")  # an accepted case survives a power cut
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("BEGIN IMMEDIATE")
            for statement in SCHEMA:
                db.execute(statement)
            db.execute("COMMIT")
            check_schema(db)
            db.executescript(INTAKE)
            self._load_index(db)
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

    # -- the case index ----------------------------------------------------------------

    def _load_index(self, db: sqlite3.Connection) -> None:
        rows = db.execute(
            "SELECT case_id, case_index, region, cycle, revision, reference FROM node_cases"
        )
        cases = {str(row[0]): CaseIndexEntry(*row) for row in rows}
        self._cases = cases
        self._references = {e.reference: c for c, e in cases.items() if e.reference is not None}
        (top,) = db.execute("SELECT max(case_index) FROM node_cases").fetchone()
        self._next_index = 0 if top is None else int(top) + 1
        (self._held,) = db.execute("SELECT count(*) FROM held").fetchone()
        prints: dict[str, list[str]] = {}
        rows = db.execute("SELECT fingerprint, case_id FROM intake_cases ORDER BY rowid")
        for fingerprint, case_id in rows:
            prints.setdefault(fingerprint, []).append(case_id)
        self._fingerprints = prints
        (self._next_seq,) = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM outbox").fetchone()

    def lookup(self, name: str) -> CaseIndexEntry | None:
        """The case this node knows by *name* (its derived case id or the practitioner's
        reference), from memory; :meth:`add` verifies against the file."""
        found = self._cases.get(name)
        if found is None and (case_id := self._references.get(name)) is not None:
            found = self._cases.get(case_id)
        return found

    @property
    def next_index(self) -> int:
        """The case index the next new case gets (from memory)."""
        return self._next_index

    @property
    def held_count(self) -> int:
        """Case revisions held for their contributor token (from memory)."""
        return self._held

    def known_revisions(self, case_ids: Sequence[str]) -> dict[str, int]:
        """The latest revision this node sent for each of *case_ids* it knows and knows
        the latest revision of (from memory; :meth:`add` verifies them against the file)."""
        known = self._cases
        return {c: rev for c in case_ids if c in known and (rev := known[c].revision) is not None}

    def known_fingerprints(self, fingerprints: Sequence[str]) -> dict[str, list[str]]:
        """The case ids, in the order they were accepted, of each of *fingerprints* (new
        cases' inputs) this node already accepted, from memory."""
        known = self._fingerprints
        return {f: list(known[f]) for f in fingerprints if f in known}

    async def reload_revisions(self) -> None:
        """Read the case index from the file again (another process may write to it)."""
        await self._call("reading", self._load_index)

    async def revisions(self, case_ids: Sequence[str]) -> dict[str, int]:
        """:meth:`known_revisions`, for callers that await it."""
        return self.known_revisions(case_ids)

    async def index_entries(self) -> list[CaseIndexEntry]:
        """The whole case index, in case index order (what a backup keeps)."""
        await self.reload_revisions()
        return sorted(self._cases.values(), key=lambda e: e.index)

    async def restore_index(self, entries: Sequence[CaseIndexEntry]) -> None:
        """Put *entries* (from a backup) into the case index; an entry whose latest revision
        is not known has ``revision`` None, and the node then refuses to revise that case
        unless the revision is given. Entries already in the file are left as they are."""
        await self._call("writing", _restore, list(entries))
        await self.reload_revisions()

    # -- intake ------------------------------------------------------------------------

    async def seen(self, source: str) -> bool:
        """Whether a source (a file digest) was already posted through this outbox."""
        return await self._call("reading", _seen, source)

    async def add(  # noqa: PLR0913  public signature, used by the node and tests
        self,
        cases: Sequence[CaseIndexEntry],
        entries: Sequence[OutboxEntry],
        *,
        source: str | None = None,
        fingerprints: Sequence[tuple[str, str]] = (),
        receipts: Sequence[ReceiptTicket] = (),
        held: Sequence[HeldCase] = (),
    ) -> list[PendingEntry]:
        """Record the *cases*' index entries (new cases) and new revisions, their sealed
        records (*entries*) or the revisions *held* for a contributor token, the *source*
        they came from, the *fingerprints* (fingerprint, case id) of the new cases among
        them and the *receipts* tickets of the records, atomically and durably; returns the
        entries with their sequence numbers.

        Raises :class:`RevisionConflict` (writing nothing) if a revision is not above the
        one in the file, or a new case's index or reference was taken meanwhile. After the
        commit, the entries go to the listener (the relay) as well, even if the caller was
        cancelled meanwhile.
        """
        if not cases and not entries and source is None and not fingerprints and not held:
            return []
        tickets: list[Row] = [
            (t.receipt_id, t.receipt_key, t.case_id, t.revision, t.region) for t in receipts
        ]
        args = (list(cases), list(entries), source, list(fingerprints), tickets, list(held))
        return await self._write(partial(self._add, *args))

    async def _write(
        self, work: Callable[[sqlite3.Connection], list[PendingEntry]]
    ) -> list[PendingEntry]:
        """Run *work* on the outbox's thread; hand the entries it wrote to the listener."""
        if self._db is None or self._thread is None or self._loop is None:
            raise StorageError("the outbox is not started; call start() first")
        done = self._loop.run_in_executor(self._thread, work, self._db)
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

    def _add(  # noqa: PLR0913, PLR0917  add's arguments, bound by partial for the outbox thread
        self,
        cases: list[CaseIndexEntry],
        entries: list[OutboxEntry],
        source: str | None,
        fingerprints: list[tuple[str, str]],
        tickets: list[Row],
        held: list[HeldCase],
        db: sqlite3.Connection,
    ) -> list[PendingEntry]:
        now = _now()
        ticket_rows: list[Row] = [(*t, now) for t in tickets]
        held_rows = [held_row(h, now) for h in held]
        rows: list[Row] = [c.row(now) for c in cases]
        if source is not None:
            rows.append(source_row(source, now))
        rows.extend(print_row(f, c, now) for f, c in fingerprints)
        for attempt in range(_TRIES):
            first = self._next_seq
            numbered = [entry_row(first + i, e, now) for i, e in enumerate(entries)]
            try:
                insert_intake(db, rows + numbered, ticket_rows, held_rows)
                break
            except sqlite3.IntegrityError as exc:
                # Another process wrote to the file: see it as it is, then number again
                # (sequence numbers) or let the node do so (revisions, case indexes).
                self._load_index(db)
                text = str(exc)
                if CONFLICT in text or "node_cases." in text:
                    raise RevisionConflict(
                        "the outbox holds newer revisions or cases than the node numbered from"
                    ) from None
                if attempt == _TRIES - 1 or "outbox.seq" not in text:
                    raise
        self._next_seq = first + len(entries)
        for case in cases:
            self._cases[case.case_id] = case
            if case.reference is not None:
                self._references[case.reference] = case.case_id
            self._next_index = max(self._next_index, case.index + 1)
        self._held += len(held)
        for fingerprint, case_id in fingerprints:
            self._fingerprints.setdefault(fingerprint, []).append(case_id)
        return [PendingEntry(first + i, e) for i, e in enumerate(entries)]

    # -- held cases --------------------------------------------------------------------

    async def held(self) -> list[HeldCase]:
        """The case revisions held for a contributor token, oldest first."""
        return await self._call("reading", load_held)

    async def release(
        self,
        seqs: Sequence[int],
        entries: Sequence[OutboxEntry],
        receipts: Sequence[ReceiptTicket] = (),
    ) -> list[PendingEntry] | None:
        """Replace the held revisions *seqs* by their sealed *entries* and receipt
        tickets, in one transaction; None (nothing written) if another process released
        some of them first."""
        tickets: list[Row] = [
            (t.receipt_id, t.receipt_key, t.case_id, t.revision, t.region) for t in receipts
        ]
        result = await self._write(partial(self._release, list(seqs), list(entries), tickets))
        return result if result or not seqs else None

    def _release(
        self,
        seqs: list[int],
        entries: list[OutboxEntry],
        tickets: list[Row],
        db: sqlite3.Connection,
    ) -> list[PendingEntry]:
        now = _now()
        ticket_rows: list[Row] = [(*t, now) for t in tickets]
        for attempt in range(_TRIES):
            first = self._next_seq
            numbered = [entry_row(first + i, e, now) for i, e in enumerate(entries)]
            try:
                if not release_held(db, seqs, numbered, ticket_rows):
                    self._load_index(db)
                    return []
                break
            except sqlite3.IntegrityError as exc:
                self._load_index(db)
                if attempt == _TRIES - 1 or "outbox.seq" not in str(exc):
                    raise
        self._next_seq = first + len(entries)
        self._held = max(0, self._held - len(seqs))
        return [PendingEntry(first + i, e) for i, e in enumerate(entries)]

    def listen(self, listener: Listener | None) -> None:
        """Hand every committed :meth:`add` to *listener* (on the event loop), or stop
        (None). One listener at a time: the node's relay."""
        if listener is not None and self._listener not in {None, listener}:
            raise StorageError("the outbox already has a relay listening")
        self._listener = listener

    # -- relay -------------------------------------------------------------------------

    async def pending(self, limit: int, *, after: int = 0) -> list[PendingEntry]:
        """The oldest unpublished entries (sequence number above *after*), in the order
        they were accepted."""
        return await self._call("reading", pending, after, limit)

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


def _restore(db: sqlite3.Connection, entries: list[CaseIndexEntry]) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        db.executemany(
            "INSERT OR IGNORE INTO node_cases "
            "(case_id, revision, case_index, region, cycle, reference) VALUES (?, ?, ?, ?, ?, ?)",
            [(e.case_id, e.revision, e.index, e.region, e.cycle, e.reference) for e in entries],
        )
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


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

"""What the node keeps about its records' receipts, in its outbox file (DESIGN §8 ⚑).

For every record it seals, the node keeps a **ticket**: the receipt id (hex SHA-256 of the
envelope id), the receipt key (derived from the record's data key), the case id, revision
and region, written with the outbox entries in the same transaction (:meth:`Outbox.add`).
When a receipt arrives (:class:`dief.node.ReceiptReader`) its outcome is kept beside the
ticket, and the reader's position on ``dief.receipts`` with it, in one transaction.

Keeping an outcome is idempotent and order-proof: an outcome replaces the kept one only
if it ranks at least as high (``duplicate`` < ``dead_lettered`` < ``stale`` <
``applied``). So a later "duplicate" (a redelivery, a replay) never hides "applied", and
"applied" after a replay replaces "dead_lettered"; a second dead letter keeps its newer
reason.

The receipt keys are kept in clear, like the rest of the file: the outbox is the node's
own and already holds its sealed records; a key only opens receipts (what became of the
node's own records), never a record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterator, Mapping, Sequence

    from dief.node._outbox import Outbox

__all__ = ["RECEIPT_SCHEMA", "CaseReceipts", "ReceiptBook", "ReceiptState", "ReceiptTicket"]

#: The node's receipt tables (created with the outbox's own).
RECEIPT_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS receipts (
        receipt_id VARCHAR(64) NOT NULL,
        receipt_key BLOB NOT NULL,
        case_id VARCHAR(36) NOT NULL,
        revision INTEGER NOT NULL,
        region VARCHAR(8) NOT NULL,
        created_at DATETIME NOT NULL,
        outcome VARCHAR(16),
        reason VARCHAR(64),
        received_at DATETIME,
        PRIMARY KEY (receipt_id)
    )""",
    # Where the receipt reader stopped: the next offset to read, per partition.
    """CREATE TABLE IF NOT EXISTS receipt_positions (
        topic VARCHAR(64) NOT NULL,
        partition INTEGER NOT NULL,
        next_offset INTEGER NOT NULL,
        PRIMARY KEY (topic, partition)
    )""",
)

#: How an outcome ranks: a kept outcome is replaced only by one ranking at least as high.
_RANK = {"duplicate": 0, "dead_lettered": 1, "stale": 2, "applied": 3}
#: Receipt ids per query (far below SQLite's limit of 32,766 parameters).
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class ReceiptTicket:
    """What the node keeps to recognise and open the receipts of one sealed record."""

    receipt_id: str
    receipt_key: bytes = field(repr=False)
    case_id: str
    revision: int
    region: str


@dataclass(frozen=True, slots=True)
class ReceiptState:
    """One record's receipt as the node knows it: ``outcome`` None while none came."""

    receipt_id: str
    case_id: str
    revision: int
    region: str
    outcome: str | None
    reason: str | None

    def describe(self) -> str:
        """``applied``, ``dead-lettered: <reason>``, ``stale``, ``duplicate`` or
        ``no receipt yet``."""
        if self.outcome is None:
            return "no receipt yet"
        if self.outcome == "dead_lettered":
            return f"dead-lettered: {self.reason}"
        return self.outcome


@dataclass(frozen=True, slots=True)
class CaseReceipts:
    """A case this node posted: its latest revision and the receipts of that revision's
    records (one per record sealed: a case goes to its own region only; none while the
    revision is held for its contributor token)."""

    case_id: str
    revision: int
    records: tuple[ReceiptState, ...]


class ReceiptBook:
    """The receipt tables of one :class:`Outbox` (started by its owner)."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    def __repr__(self) -> str:
        return f"ReceiptBook({self._outbox!r})"

    async def keys(self, receipt_ids: Sequence[str]) -> dict[str, bytes]:
        """The receipt key of each of *receipt_ids* that is this node's."""
        return await self._outbox.transact("reading", _keys, list(receipt_ids))

    async def record(
        self,
        outcomes: Sequence[tuple[str, str, str | None]],
        positions: Mapping[int, int],
        *,
        topic: str,
    ) -> int:
        """Keep *outcomes* ((receipt id, outcome, reason), in arrival order) and the reader's
        *positions* on *topic* (partition → next offset), in one transaction; returns how
        many outcomes changed."""
        return await self._outbox.transact(
            "writing", _record, list(outcomes), dict(positions), topic
        )

    async def positions(self, topic: str) -> dict[int, int]:
        """Where the reader stopped on *topic*: partition → next offset."""
        return await self._outbox.transact("reading", _positions, topic)

    async def states(self, receipt_ids: Sequence[str]) -> dict[str, ReceiptState]:
        """What the node knows of each of *receipt_ids*."""
        return await self._outbox.transact("reading", _states, list(receipt_ids))

    async def cases(self) -> list[CaseReceipts]:
        """Every case this node posted, in the order first posted, with its latest
        revision's receipts."""
        return await self._outbox.transact("reading", _cases)


def _rows(db: sqlite3.Connection, select: str, receipt_ids: list[str]) -> Iterator[Any]:
    """The rows of *select* (a ``SELECT … FROM receipts``) for *receipt_ids*, a chunk of
    them per query."""
    ids = sorted(set(receipt_ids))
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        # Only placeholders are joined in: no value ever becomes SQL text.
        query = f"{select} WHERE receipt_id IN ({','.join('?' * len(chunk))})"
        yield from db.execute(query, chunk)


def _keys(db: sqlite3.Connection, receipt_ids: list[str]) -> dict[str, bytes]:
    select = "SELECT receipt_id, receipt_key FROM receipts"
    return {str(r): bytes(k) for r, k in _rows(db, select, receipt_ids)}


_STATE = "SELECT receipt_id, case_id, revision, region, outcome, reason FROM receipts"


def _states(db: sqlite3.Connection, receipt_ids: list[str]) -> dict[str, ReceiptState]:
    states = (_state(row) for row in _rows(db, _STATE, receipt_ids))
    return {state.receipt_id: state for state in states}


def _state(row: tuple[object, ...]) -> ReceiptState:
    rid, case_id, revision, region, outcome, reason = row
    return ReceiptState(
        str(rid),
        str(case_id),
        int(str(revision)),
        str(region),
        None if outcome is None else str(outcome),
        None if reason is None else str(reason),
    )


def _record(
    db: sqlite3.Connection,
    outcomes: list[tuple[str, str, str | None]],
    positions: dict[int, int],
    topic: str,
) -> int:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # as the outbox writes times
    changed = 0
    db.execute("BEGIN IMMEDIATE")
    try:  # noqa: PLW0717  one transaction: whatever fails in it rolls it back
        kept = _outcomes(db, [rid for rid, _, _ in outcomes])
        for rid, outcome, reason in outcomes:
            old = kept.get(rid)
            if old is not None and _RANK.get(outcome, -1) < _RANK.get(old, -1):
                continue  # e.g. a "duplicate" after "applied"
            db.execute(
                "UPDATE receipts SET outcome = ?, reason = ?, received_at = ? WHERE receipt_id = ?",
                (outcome, reason, now, rid),
            )
            changed += old != outcome
            kept[rid] = outcome
        db.executemany(
            "INSERT INTO receipt_positions (topic, partition, next_offset) VALUES (?, ?, ?) "
            "ON CONFLICT (topic, partition) DO UPDATE SET "
            "next_offset = max(next_offset, excluded.next_offset)",
            [(topic, p, offset) for p, offset in positions.items()],
        )
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return changed


def _outcomes(db: sqlite3.Connection, receipt_ids: list[str]) -> dict[str, str | None]:
    select = "SELECT receipt_id, outcome FROM receipts"
    return {str(r): None if o is None else str(o) for r, o in _rows(db, select, receipt_ids)}


def _positions(db: sqlite3.Connection, topic: str) -> dict[int, int]:
    rows = db.execute(
        "SELECT partition, next_offset FROM receipt_positions WHERE topic = ?", (topic,)
    )
    return {int(p): int(o) for p, o in rows}


def _cases(db: sqlite3.Connection) -> list[CaseReceipts]:
    rows = db.execute(
        "SELECT c.case_id, c.revision, r.receipt_id, r.case_id, r.revision, r.region, "
        "r.outcome, r.reason FROM node_cases c LEFT JOIN receipts r "
        "ON r.case_id = c.case_id AND r.revision = c.revision "
        "ORDER BY c.case_index, r.created_at, r.receipt_id"
    )
    cases: dict[str, tuple[int, list[ReceiptState]]] = {}
    for case_id, revision, *receipt in rows:
        _, records = cases.setdefault(str(case_id), (int(revision or 0), []))
        if receipt[0] is not None:
            records.append(_state(tuple(receipt)))
    return [CaseReceipts(c, rev, tuple(records)) for c, (rev, records) in cases.items()]

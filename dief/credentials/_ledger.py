"""The issuer's ledger: which blinded message each registration had signed under each issuer
key (DESIGN §5 ⚑), in memory or in a database.

One row per (registration key id, issuer key id): the SHA-256 of the first blinded message
signed for it, and whether the registration is a re-registration (a node that lost its
secret). The first claim wins; a later claim returns what is on record, so the issuer
answers an identical message again and refuses a different one. Counting rows per issuer key
gives the numbers the directory publishes. Nothing else is kept: no times, no State names.

:class:`IssuanceStore` is SQLAlchemy async (SQLite by default, PostgreSQL by URL) with one
table of its own, ``credential_issuance``, made by :meth:`IssuanceStore.start`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Boolean, Column, LargeBinary, MetaData, String, Table, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from dief.database import TableStore
from dief.database import db_reason as _why
from dief.exceptions import StorageError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["Issuance", "IssuanceLedger", "IssuanceStore", "IssuedCount", "MemoryLedger"]


@dataclass(frozen=True, slots=True)
class Issuance:
    """One blinded message a registration asks the issuer key *issuer_kid* to sign."""

    registration_kid: str
    issuer_kid: str
    request_digest: bytes = field(repr=False)
    """SHA-256 of the blinded message."""
    reregistration: bool = False


@dataclass(frozen=True, slots=True)
class IssuedCount:
    """Tokens signed by one issuer key: for registrations, and for re-registrations of nodes
    that lost their secret (counted apart, DESIGN §4)."""

    issuer_kid: str
    regular: int = 0
    reregistration: int = 0

    @property
    def total(self) -> int:
        return self.regular + self.reregistration


class IssuanceLedger(Protocol):
    """Where the issuer records what it signed."""

    async def claim(self, issuance: Issuance) -> bytes:
        """Record *issuance* unless its (registration, issuer key) has a row; return the
        request digest on record (the given one when it is new)."""
        ...

    async def counts(self) -> dict[str, IssuedCount]:
        """Tokens signed per issuer key id (keys with none are absent)."""
        ...


def _add(counts: dict[str, IssuedCount], issuer_kid: str, *, rereg: bool, n: int) -> None:
    held = counts.get(issuer_kid, IssuedCount(issuer_kid))
    counts[issuer_kid] = IssuedCount(
        issuer_kid,
        held.regular + (0 if rereg else n),
        held.reregistration + (n if rereg else 0),
    )


class MemoryLedger:
    """An :class:`IssuanceLedger` in memory (tests, simulations). Its claim is one atomic
    dictionary step under a thread lock, so it serves any event loop and thread."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], Issuance] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryLedger(rows={len(self._rows)})"

    async def claim(self, issuance: Issuance) -> bytes:
        with self._lock:
            key = (issuance.registration_kid, issuance.issuer_kid)
            held = self._rows.setdefault(key, issuance)
            return held.request_digest

    async def counts(self) -> dict[str, IssuedCount]:
        counts: dict[str, IssuedCount] = {}
        for row in self._rows.values():
            _add(counts, row.issuer_kid, rereg=row.reregistration, n=1)
        return counts


_metadata = MetaData()

_issuance = Table(
    "credential_issuance",
    _metadata,
    Column("registration_kid", String(32), primary_key=True),
    Column("issuer_kid", String(32), primary_key=True),
    Column("request_digest", LargeBinary(32), nullable=False),
    Column("reregistration", Boolean, nullable=False),
)


class IssuanceStore(TableStore):
    """An :class:`IssuanceLedger` in a database (SQLAlchemy async)."""

    _what = "the credential issuance store"
    _metadata = _metadata

    @staticmethod
    async def _held(conn: AsyncConnection, issuance: Issuance) -> bytes | None:
        row = (
            await conn.execute(
                select(_issuance.c.request_digest).where(
                    _issuance.c.registration_kid == issuance.registration_kid,
                    _issuance.c.issuer_kid == issuance.issuer_kid,
                )
            )
        ).first()
        return None if row is None else bytes(row.request_digest)

    async def claim(self, issuance: Issuance) -> bytes:
        engine = self._require()
        try:  # noqa: PLW0717  every failure of the transaction maps to one StorageError
            try:
                async with engine.begin() as conn:
                    held = await self._held(conn, issuance)
                    if held is not None:
                        return held
                    await conn.execute(
                        _issuance.insert().values(
                            registration_kid=issuance.registration_kid,
                            issuer_kid=issuance.issuer_kid,
                            request_digest=issuance.request_digest,
                            reregistration=issuance.reregistration,
                        )
                    )
                    return issuance.request_digest
            except IntegrityError:
                # Another issuer process inserted the row between our read and our write.
                async with engine.begin() as conn:
                    held = await self._held(conn, issuance)
                if held is None:
                    raise
                return held
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot record an issuance: {_why(exc)}") from exc

    async def counts(self) -> dict[str, IssuedCount]:
        engine = self._require()
        query = select(
            _issuance.c.issuer_kid, _issuance.c.reregistration, func.count().label("n")
        ).group_by(_issuance.c.issuer_kid, _issuance.c.reregistration)
        try:
            async with engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot count issuances: {_why(exc)}") from exc
        counts: dict[str, IssuedCount] = {}
        for row in rows:
            _add(counts, row.issuer_kid, rereg=bool(row.reregistration), n=int(row.n))
        return counts

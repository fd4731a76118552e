"""The portal's own tables, in the party's own database (SQLite or PostgreSQL).

- ``portal_accounts``: local accounts (Argon2id password hash, TOTP secret, roles, region,
  language, disabled flag and a session epoch: raising it ends every session of the account);
- ``portal_audit``: who read or downloaded which document, and who released what. At a node
  it names the node's own cases only; at a region or the Secretariat, documents only;
- ``portal_cases``: the node's drafts and what the node did with them (four-eyes release);
- ``portal_releases``: the Secretariat's actions that a second person releases (publishing a
  summary, revoking a node, publishing a directory version): who asked, who released.

Made and kept up to date by Alembic migrations at start (:class:`PortalDatabase`,
``dief/portal/migrations``; version table ``portal_alembic_version``). A database made by an
earlier portal that created its tables without migrations is stamped with the revision it
matches, then upgraded. A new column or table: declare it here and add a migration (the
test compares them on SQLite and PostgreSQL).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
)
from sqlalchemy.exc import SQLAlchemyError

from dief.database import TableStore, db_reason, migration_lock, open_engine
from dief.exceptions import StorageError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = [
    "ACCOUNTS",
    "AUDIT",
    "CASES",
    "METADATA",
    "RELEASES",
    "VERSION_TABLE",
    "PortalDatabase",
    "migrate",
]

#: Alembic's version table for the portal (its own: the database may hold other stores).
VERSION_TABLE = "portal_alembic_version"
_MIGRATIONS = Path(__file__).parent / "migrations"

METADATA = MetaData()

ACCOUNTS = Table(
    "portal_accounts",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password", String(255), nullable=False),
    Column("totp_secret", String(64), nullable=False),
    Column("roles", String(255), nullable=False),
    Column("region", String(8)),
    Column("language", String(8), nullable=False, default="en"),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("epoch", Integer, nullable=False, default=0),
    Column("totp_step", Integer, nullable=False, default=0),  # last step used: no replay
    Column("created_at", DateTime(timezone=True), nullable=False),
)

AUDIT = Table(
    "portal_audit",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("account", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("target", String(255), nullable=False),
)

CASES = Table(
    "portal_cases",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # the practitioner's own reference (a UUID): the node keeps it beside the derived id
    Column("reference", String(36), nullable=False, unique=True),
    Column("case_id", String(36)),  # the id the node derived, once accepted
    Column("revision", Integer),
    Column("state", String(24), nullable=False),
    Column("author", String(64), nullable=False),
    Column("approver", String(64)),
    Column("body", Text, nullable=False),  # the case input as JSON (the node's own data)
    Column("problems", Text, nullable=False, default="[]"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

RELEASES = Table(
    "portal_releases",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(24), nullable=False),  # summary, revoke_node, directory
    Column("target", String(128), nullable=False),  # a cycle, a registration kid, or ""
    Column("state", String(16), nullable=False),  # requested, releasing, released, failed
    Column("requester", String(64), nullable=False),
    Column("approver", String(64)),
    Column("outcome", String(255), nullable=False, default=""),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True)),
    # a summary's: the content hash of the summary shown to the requester (SHA-256, hex)
    Column("content", String(64)),
)


def migrate(connection: Connection, revision: str = "head") -> None:
    """Bring the portal's tables on *connection* to *revision* (tests build older ones)."""
    from alembic import command  # noqa: PLC0415  alembic loaded only to migrate (at start)
    from alembic.config import Config  # noqa: PLC0415  (as above)

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = connection
    tables = set(inspect(connection).get_table_names())
    if ACCOUNTS.name in tables and VERSION_TABLE not in tables:
        # made by a portal before migrations (create_all): stamp what it has
        command.stamp(cfg, "portal_0002" if RELEASES.name in tables else "portal_0001")
    command.upgrade(cfg, revision)


class PortalDatabase(TableStore):
    """The portal's tables on one engine (migrated to the latest at :meth:`start`)."""

    _what: ClassVar[str] = "the portal database"
    _metadata: ClassVar[MetaData] = METADATA

    async def start(self) -> None:
        """Connect and bring the tables to the latest migration."""
        if self._engine is not None:
            return
        # Alembic keeps its context in module globals: one migration at a time per loop,
        # shared with the aggregator's store (a demo runs both in one process)
        try:
            engine = await open_engine(
                self._url, init=migrate, echo=self._echo, sqlite_pool="null",
                lock=migration_lock(),
            )  # fmt: skip
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"cannot open the database ({self!r}): {db_reason(exc)}") from exc
        self._engine = engine

    @property
    def engine(self) -> AsyncEngine:
        return self._require()

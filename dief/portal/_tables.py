"""The portal's own tables, in the party's own database (SQLite or PostgreSQL).

- ``portal_accounts``: local accounts (Argon2id password hash, TOTP secret, roles, region,
  language, disabled flag and a session epoch: raising it ends every session of the account);
- ``portal_audit``: who read or downloaded which document, and who released what. At a node
  it names the node's own cases only; at a region or the Secretariat, documents only;
- ``portal_cases``: the node's drafts and what the node did with them (four-eyes release);
- ``portal_releases``: the Secretariat's actions that a second person releases (publishing a
  summary, revoking a node, publishing a directory version): who asked, who released.

Created if absent at start (:class:`PortalDatabase`); no migrations yet (docs/portal.md).
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from dief.database import TableStore

__all__ = ["ACCOUNTS", "AUDIT", "CASES", "METADATA", "RELEASES", "PortalDatabase"]

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
)


class PortalDatabase(TableStore):
    """The portal's tables on one engine (created if absent at :meth:`start`)."""

    _what: ClassVar[str] = "the portal database"
    _metadata: ClassVar[MetaData] = METADATA

    @property
    def engine(self) -> AsyncEngine:
        return self._require()

"""Local accounts: Argon2id passwords, a TOTP second factor, roles, disabling, an audit log.

Login goes through the :class:`~dief.portal.LoginMethod` seam: :class:`LocalLogin` checks a
password and a TOTP code against this store; an OIDC login would check an identity
provider's token instead and hand back the same :class:`Account`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Protocol

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from dief.database import db_reason
from dief.exceptions import ConfigurationError, StorageError
from dief.portal._tables import ACCOUNTS, AUDIT, PortalDatabase
from dief.portal._totp import new_totp_secret, totp_step_of
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = [
    "LANGUAGES",
    "Account",
    "AccountStore",
    "AuditEntry",
    "LocalLogin",
    "LoginMethod",
    "Role",
]

#: The portal's languages (DESIGN §13).
LANGUAGES = ("en", "fr", "es")
_USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
_USERNAME_MIN, _USERNAME_MAX = 2, 64  # the length of a user name
_MIN_PASSWORD = 12


class Role(StrEnum):
    """What an account may do (a party's portal shows only its own roles' pages)."""

    OFFICER = "officer"  # drafts, imports and follows the node's cases
    APPROVER = "approver"  # releases another officer's case (four eyes)
    MEETING_MEMBER = "meeting_member"  # reads one region's dashboard
    SECRETARIAT_EDITOR = "secretariat_editor"
    ADMINISTRATOR = "administrator"  # accounts and the audit log


@dataclass(frozen=True, slots=True)
class Account:
    """A signed-in person. Never holds the password hash or the TOTP secret."""

    id: int
    username: str
    roles: frozenset[Role]
    region: Region | None
    language: str
    disabled: bool
    epoch: int

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    account: str
    action: str
    target: str


class LoginMethod(Protocol):
    """The login seam: local accounts today, an OIDC provider later."""

    async def login(self, username: str, password: str, code: str) -> Account | None:
        """The account, if the credentials are right and the account is enabled."""
        ...


_HASHER = PasswordHasher(type=Type.ID)  # Argon2id, the library's RFC 9106 defaults


@cache
def _dummy_hash() -> str:
    """Verified against when the name is unknown, so both cases cost the same time; hashed
    when the portal starts (:meth:`AccountStore.warm`), not at import."""
    return _HASHER.hash("dief-portal-no-such-account")


def _now() -> datetime:
    return datetime.now(UTC)


def _check_username(name: str) -> str:
    name = name.strip().lower()
    if not (_USERNAME_MIN <= len(name) <= _USERNAME_MAX) or not set(name) <= _USERNAME_CHARS:
        raise ConfigurationError(
            "a user name is 2 to 64 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    return name


def _account(row: object) -> Account:
    m = row._mapping  # type: ignore[attr-defined]  # noqa: SLF001  a SQLAlchemy Row (its public API)
    roles = frozenset(Role(r) for r in str(m["roles"]).split(",") if r)
    region = Region(m["region"]) if m["region"] else None
    return Account(
        int(m["id"]), m["username"], roles, region, m["language"], bool(m["disabled"]), m["epoch"]
    )


class AccountStore:
    """Accounts and the audit log in the party's :class:`PortalDatabase`."""

    def __init__(self, db: PortalDatabase, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    def __repr__(self) -> str:
        return f"AccountStore({self._db!r})"

    async def warm(self) -> None:  # noqa: PLR6301  the store's step of the portal's start, beside its other methods
        """Make the hash an unknown name is checked against now (in a worker thread), so
        that no login, the first one included, takes longer for a name that does not
        exist (called by the portal's start)."""
        await asyncio.to_thread(_dummy_hash)

    async def create(  # noqa: PLR0913  a public keyword signature, used by the CLI (dief web accounts)
        self,
        username: str,
        password: str,
        roles: Iterable[Role],
        *,
        region: Region | None = None,
        language: str = "en",
        totp_secret: str | None = None,
    ) -> str:
        """Create an account; returns its TOTP secret (shown once to its holder).

        :raises ConfigurationError: a bad name, a short password, no role, a meeting
            member without a region, or the name is taken.
        """
        name = _check_username(username)
        wanted = sorted({Role(r) for r in roles})
        if not wanted:
            raise ConfigurationError("an account needs at least one role")
        if len(password) < _MIN_PASSWORD:
            raise ConfigurationError(f"a password is at least {_MIN_PASSWORD} characters")
        if Role.MEETING_MEMBER in wanted and region is None:
            raise ConfigurationError("a meeting member belongs to one region: give --region")
        if language not in LANGUAGES:
            raise ConfigurationError(f"languages: {', '.join(LANGUAGES)}")
        secret = totp_secret or new_totp_secret()
        row = {
            "username": name,
            "password": await asyncio.to_thread(_HASHER.hash, password),
            "totp_secret": secret,
            "roles": ",".join(r.value for r in wanted),
            "region": region.value if region else None,
            "language": language,
            "disabled": False,
            "epoch": 0,
            "totp_step": 0,
            "created_at": _now(),
        }
        try:
            async with self._db.engine.begin() as conn:
                await conn.execute(insert(ACCOUNTS).values(**row))
        except IntegrityError as exc:
            raise ConfigurationError(f"there is already an account {name!r}") from exc
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot create the account: {db_reason(exc)}") from exc
        return secret

    async def get(self, account_id: int) -> Account | None:
        async with self._db.engine.connect() as conn:
            row = (await conn.execute(select(ACCOUNTS).where(ACCOUNTS.c.id == account_id))).first()
        return None if row is None else _account(row)

    async def by_name(self, username: str) -> Account | None:
        async with self._db.engine.connect() as conn:
            query = select(ACCOUNTS).where(ACCOUNTS.c.username == username.strip().lower())
            row = (await conn.execute(query)).first()
        return None if row is None else _account(row)

    async def all(self) -> list[Account]:
        async with self._db.engine.connect() as conn:
            rows = await conn.execute(select(ACCOUNTS).order_by(ACCOUNTS.c.username))
            return [_account(r) for r in rows]

    async def totp_secret(self, username: str) -> str | None:
        """An account's TOTP secret (``dief web-account code``, for demos and tests)."""
        async with self._db.engine.connect() as conn:
            query = select(ACCOUNTS.c.totp_secret).where(ACCOUNTS.c.username == username)
            return (await conn.execute(query)).scalar()

    async def verify(self, username: str, password: str, code: str) -> Account | None:
        """The account, if the password and the TOTP code are right, the code was not used
        before and the account is enabled; else None. Costs one Argon2id check either way."""
        async with self._db.engine.connect() as conn:
            query = select(ACCOUNTS).where(ACCOUNTS.c.username == username.strip().lower())
            row = (await conn.execute(query)).first()
        if row is None:
            stored = await asyncio.to_thread(_dummy_hash)
        else:
            stored = row._mapping["password"]  # noqa: SLF001  Row._mapping is SQLAlchemy's public API (underscored against column names)
        try:
            await asyncio.to_thread(_HASHER.verify, stored, password)
            ok = row is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok or row is None:
            return None
        m = row._mapping  # noqa: SLF001  Row._mapping is SQLAlchemy's public API (underscored against column names)
        step = totp_step_of(m["totp_secret"], code, self._clock())
        if step is None or step <= m["totp_step"] or m["disabled"]:
            return None
        async with self._db.engine.begin() as conn:  # the code is spent (no replay)
            used = await conn.execute(
                update(ACCOUNTS)
                .where(ACCOUNTS.c.id == m["id"], ACCOUNTS.c.totp_step < step)
                .values(totp_step=step)
            )
        return _account(row) if used.rowcount == 1 else None

    async def set_disabled(self, username: str, *, disabled: bool) -> bool:
        """Disable (or enable) an account; disabling ends its sessions. True if it exists."""
        values: dict[str, object] = {"disabled": disabled}
        if disabled:
            values["epoch"] = ACCOUNTS.c.epoch + 1
        async with self._db.engine.begin() as conn:
            done = await conn.execute(
                update(ACCOUNTS).where(ACCOUNTS.c.username == username).values(**values)
            )
        return done.rowcount == 1

    async def end_sessions(self, account_id: int) -> None:
        """Log out everywhere: every cookie of an older epoch is refused."""
        async with self._db.engine.begin() as conn:
            await conn.execute(
                update(ACCOUNTS)
                .where(ACCOUNTS.c.id == account_id)
                .values(epoch=ACCOUNTS.c.epoch + 1)
            )

    async def set_language(self, account_id: int, language: str) -> None:
        if language not in LANGUAGES:
            raise ConfigurationError(f"languages: {', '.join(LANGUAGES)}")
        async with self._db.engine.begin() as conn:
            await conn.execute(
                update(ACCOUNTS).where(ACCOUNTS.c.id == account_id).values(language=language)
            )

    async def audit(self, account: str, action: str, target: str) -> None:
        """Note that *account* did *action* on *target* (a document, never a case's facts)."""
        async with self._db.engine.begin() as conn:
            await conn.execute(
                insert(AUDIT).values(at=_now(), account=account, action=action, target=target)
            )

    async def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        async with self._db.engine.connect() as conn:
            rows = await conn.execute(select(AUDIT).order_by(AUDIT.c.id.desc()).limit(limit))
            return [AuditEntry(r.at, r.account, r.action, r.target) for r in rows]

    async def count(self) -> int:
        async with self._db.engine.connect() as conn:
            found = await conn.execute(select(func.count()).select_from(ACCOUNTS))
            return int(found.scalar_one())


class LocalLogin:
    """:class:`LoginMethod` over local accounts (password and TOTP code)."""

    def __init__(self, accounts: AccountStore) -> None:
        self._accounts = accounts

    def __repr__(self) -> str:
        return "LocalLogin()"

    async def login(self, username: str, password: str, code: str) -> Account | None:
        return await self._accounts.verify(username, password, code)

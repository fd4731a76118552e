"""The node's drafts and their four-eyes release, in the portal's own database.

A case goes ``draft`` → ``submitted`` (its author asks for release; it validated and
passed screening) → ``releasing`` (an approver who is not its author took it; only one can)
→ ``released`` (the node accepted it: sealed and queued, or held for its token) or back to
``draft`` with the node's reasons. :func:`check_four_eyes` is the rule, for any intake.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from dief.exceptions import ReleaseRefusedError, ValidationError
from dief.portal._accounts import Account, LoginMethod, Role
from dief.portal._form import Problem
from dief.portal._tables import CASES, PortalDatabase

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Row

__all__ = ["Draft", "DraftState", "DraftStore", "approve_release", "check_four_eyes"]


class DraftState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RELEASING = "releasing"
    RELEASED = "released"


def check_four_eyes(author: str, approver: str, *, approver_may_approve: bool = True) -> None:
    """The four-eyes rule: a case leaves the node only when a person other than its author,
    who may approve, released it.

    :raises ReleaseRefusedError: the approver is the author, or may not approve.
    """
    if not approver_may_approve:
        raise ReleaseRefusedError("only an approver may release a case", code="not_approver")
    if author.strip().casefold() == approver.strip().casefold():
        raise ReleaseRefusedError(
            "the author of a case cannot approve it: a second officer releases it"
        )


async def approve_release(
    login: LoginMethod, author: str, approver: str, password: str, code: str
) -> Account:
    """The four-eyes rule for any intake (``dief post``, the intake folder): *approver*
    signs in (password and TOTP code, through the portal's :class:`LoginMethod`), holds the
    approver role and is not *author*; returns the approver's account.

    :raises ReleaseRefusedError: the sign-in failed (code ``approver_login``), or
        :func:`check_four_eyes` refuses.
    """
    account = await login.login(approver, password, code)
    if account is None:
        raise ReleaseRefusedError(
            "the approver could not be signed in (name, password or code)", code="approver_login"
        )
    check_four_eyes(author, account.username, approver_may_approve=account.has(Role.APPROVER))
    return account


@dataclass(frozen=True, slots=True)
class Draft:
    id: int
    reference: str
    case_id: str | None
    revision: int | None
    state: DraftState
    author: str
    approver: str | None
    body: dict[str, Any]
    problems: tuple[Problem, ...]
    updated_at: datetime

    @property
    def withdrawal(self) -> bool:
        return self.body.get("status") == "withdrawn"


def _draft(row: Row[Any]) -> Draft:
    m = row._mapping  # noqa: SLF001  Row._mapping is SQLAlchemy's public API (underscored against column names)
    problems = tuple(Problem.from_json(p) for p in json.loads(m["problems"] or "[]"))
    return Draft(
        m["id"], m["reference"], m["case_id"], m["revision"], DraftState(m["state"]),
        m["author"], m["approver"], json.loads(m["body"]), problems, m["updated_at"],
    )  # fmt: skip


def _now() -> datetime:
    return datetime.now(UTC)


def _problems(problems: Sequence[Problem]) -> str:
    return json.dumps([p.as_json() for p in problems], ensure_ascii=False)


class DraftStore:
    """The node's drafts (its own data: the lesson text stays in the node's database)."""

    def __init__(self, db: PortalDatabase) -> None:
        self._db = db

    def __repr__(self) -> str:
        return f"DraftStore({self._db!r})"

    async def create(self, author: str, body: dict[str, Any], problems: Sequence[Problem]) -> Draft:
        now = _now()
        values = {
            "reference": str(uuid.uuid4()),
            "case_id": body.get("case_id"),
            "state": DraftState.DRAFT.value,
            "author": author,
            "body": json.dumps(body, ensure_ascii=False),
            "problems": _problems(problems),
            "created_at": now,
            "updated_at": now,
        }
        async with self._db.engine.begin() as conn:
            done = await conn.execute(insert(CASES).values(**values).returning(CASES.c.id))
            new_id = int(done.scalar_one())
        found = await self.get(new_id)
        assert found is not None  # noqa: S101  narrows the type: just written
        return found

    async def get(self, draft_id: int) -> Draft | None:
        async with self._db.engine.connect() as conn:
            row = (await conn.execute(select(CASES).where(CASES.c.id == draft_id))).first()
        return None if row is None else _draft(row)

    async def all(self) -> list[Draft]:
        async with self._db.engine.connect() as conn:
            rows = await conn.execute(select(CASES).order_by(CASES.c.id.desc()))
            return [_draft(r) for r in rows]

    async def _move(self, draft_id: int, expected: DraftState, **values: object) -> bool:
        values["updated_at"] = _now()
        async with self._db.engine.begin() as conn:
            done = await conn.execute(
                update(CASES)
                .where(CASES.c.id == draft_id, CASES.c.state == expected.value)
                .values(**values)
            )
        return done.rowcount == 1

    async def save(
        self, draft: Draft, editor: str, body: dict[str, Any], problems: Sequence[Problem]
    ) -> bool:
        """Save *draft*'s new body (its author only, while it is a draft)."""
        if editor != draft.author:
            return False
        return await self._move(
            draft.id,
            DraftState.DRAFT,
            body=json.dumps(body, ensure_ascii=False),
            problems=_problems(problems),
        )

    async def submit(self, draft: Draft, by: str) -> bool:
        """Ask for release: the author, a draft without problems."""
        if by != draft.author or draft.problems:
            return False
        return await self._move(draft.id, DraftState.DRAFT, state=DraftState.SUBMITTED.value)

    async def take_for_release(self, draft: Draft, approver: str, *, may_approve: bool) -> Draft:
        """Take a submitted draft for release by *approver* (four eyes; one approver only).

        :raises ReleaseRefusedError: the four-eyes rule refuses it.
        :raises ValidationError: it is not (or no longer) awaiting approval.
        """
        check_four_eyes(draft.author, approver, approver_may_approve=may_approve)
        if not await self._move(draft.id, DraftState.SUBMITTED, state=DraftState.RELEASING.value,
                                approver=approver):  # fmt: skip
            raise ValidationError("this case is not awaiting approval", code="not_submitted")
        taken = await self.get(draft.id)
        assert taken is not None  # noqa: S101  narrows the type: just taken
        return taken

    async def released(self, draft: Draft, case_id: str, revision: int) -> None:
        await self._move(
            draft.id, DraftState.RELEASING, state=DraftState.RELEASED.value,
            case_id=case_id, revision=revision, problems="[]",
        )  # fmt: skip

    async def refused(self, draft: Draft, problems: Sequence[Problem]) -> None:
        """The node refused it: back to its author as a draft, with the node's reasons."""
        await self._move(
            draft.id, DraftState.RELEASING, state=DraftState.DRAFT.value, approver=None,
            problems=_problems(problems),
        )  # fmt: skip

    async def return_to_draft(self, draft: Draft) -> bool:
        """An approver sends a submitted case back to its author."""
        return await self._move(draft.id, DraftState.SUBMITTED, state=DraftState.DRAFT.value)

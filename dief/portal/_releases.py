"""The Secretariat's actions that a second person releases: publishing a cycle's summary to
``csp.reporting``, revoking a node, publishing a directory version.

One account asks (``requested``); a different account that may release takes it
(``releasing``: one only, atomically) and the action runs; it ends ``released`` or
``failed`` with the reason. The rule is the node's four-eyes rule,
:func:`~dief.portal._drafts.check_four_eyes`, not a copy of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import insert, select, update

from dief.exceptions import ValidationError
from dief.portal._accounts import Account, Role
from dief.portal._drafts import check_four_eyes
from dief.portal._tables import RELEASES, PortalDatabase

if TYPE_CHECKING:
    from sqlalchemy.engine import Row

    from dief.secretariat import Secretariat
    from dief.wire import CspSummary

__all__ = [
    "RELEASERS",
    "Release",
    "ReleaseKind",
    "ReleaseState",
    "ReleaseStore",
    "SecretariatPublisher",
    "SummaryPublisher",
]

#: Who may release a Secretariat action (and ask for one).
RELEASERS = (Role.SECRETARIAT_EDITOR, Role.ADMINISTRATOR)


class ReleaseKind(StrEnum):
    SUMMARY = "summary"
    REVOKE_NODE = "revoke_node"
    DIRECTORY = "directory"


class ReleaseState(StrEnum):
    REQUESTED = "requested"
    RELEASING = "releasing"
    RELEASED = "released"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Release:
    id: int
    kind: ReleaseKind
    target: str
    state: ReleaseState
    requester: str
    approver: str | None
    outcome: str
    requested_at: datetime
    #: a summary's: the content hash of the summary the requester was shown
    content: str | None = None

    @property
    def open(self) -> bool:
        return self.state in {ReleaseState.REQUESTED, ReleaseState.RELEASING}


def _release(row: Row[Any]) -> Release:
    m = row._mapping  # noqa: SLF001  Row._mapping is SQLAlchemy's public API (underscored against column names)
    return Release(
        m["id"], ReleaseKind(m["kind"]), m["target"], ReleaseState(m["state"]),
        m["requester"], m["approver"], m["outcome"], m["requested_at"], m["content"],
    )  # fmt: skip


class SummaryPublisher(Protocol):
    """Signs *cycle*'s summary and publishes it to ``csp.reporting`` (the Secretariat's
    :meth:`~dief.secretariat.Secretariat.publish_summary`), if its content hash is
    *expected* (what the person releasing it was shown), else raises
    :class:`~dief.exceptions.ValidationError` (``changed``)."""

    async def publish(self, cycle: str, *, expected: str) -> CspSummary: ...


class SecretariatPublisher:
    """:class:`SummaryPublisher` through a running :class:`~dief.secretariat.Secretariat`
    (its store, signer and sink): the same path as the service's own publication."""

    def __init__(self, secretariat: Secretariat) -> None:
        self._secretariat = secretariat

    def __repr__(self) -> str:
        return f"SecretariatPublisher({self._secretariat!r})"

    async def publish(self, cycle: str, *, expected: str) -> CspSummary:
        published = await self._secretariat.publish_summary(cycle, expected=expected)
        if published is None:
            raise ValidationError(
                f"the {cycle} summary is unchanged since its last issue", code="unchanged"
            )
        return published


def _now() -> datetime:
    return datetime.now(UTC)


class ReleaseStore:
    """The requests and their release, in the portal's database."""

    def __init__(self, db: PortalDatabase) -> None:
        self._db = db

    def __repr__(self) -> str:
        return f"ReleaseStore({self._db!r})"

    async def request(
        self,
        kind: ReleaseKind,
        target: str,
        requester: Account,
        *,
        roles: tuple[Role, ...] = RELEASERS,
        content: str | None = None,
    ) -> Release:
        """Ask for *kind* on *target* (an account holding one of *roles*); a summary's
        request names the *content* (hash) the requester was shown. An open request for
        the same target and content is returned instead; one for other content (the
        summary changed since it was asked for) is superseded, unless someone is
        releasing it now."""
        if not any(requester.has(r) for r in roles):
            raise ValidationError("this account may not ask for a release", code="not_releaser")
        for held in await self.open(kind):
            if held.target != target:
                continue
            if held.content == content or held.state is not ReleaseState.REQUESTED:
                return held
            await self._move(
                held.id, ReleaseState.REQUESTED, state=ReleaseState.FAILED.value,
                outcome=f"superseded: the summary changed; asked again by {requester.username}",
                decided_at=_now(),
            )  # fmt: skip
        values = {
            "kind": kind.value, "target": target, "state": ReleaseState.REQUESTED.value,
            "requester": requester.username, "outcome": "", "requested_at": _now(),
            "content": content,
        }  # fmt: skip
        async with self._db.engine.begin() as conn:
            done = await conn.execute(insert(RELEASES).values(**values).returning(RELEASES.c.id))
            new_id = int(done.scalar_one())
        found = await self.get(new_id)
        assert found is not None  # noqa: S101  narrows the type: just written
        return found

    async def get(self, release_id: int) -> Release | None:
        async with self._db.engine.connect() as conn:
            row = (await conn.execute(select(RELEASES).where(RELEASES.c.id == release_id))).first()
        return None if row is None else _release(row)

    async def open(self, kind: ReleaseKind | None = None) -> list[Release]:
        """The requests not yet released, oldest first."""
        states = (ReleaseState.REQUESTED.value, ReleaseState.RELEASING.value)
        query = select(RELEASES).where(RELEASES.c.state.in_(states))
        if kind is not None:
            query = query.where(RELEASES.c.kind == kind.value)
        async with self._db.engine.connect() as conn:
            return [_release(r) for r in await conn.execute(query.order_by(RELEASES.c.id))]

    async def recent(self, limit: int = 20) -> list[Release]:
        query = select(RELEASES).order_by(RELEASES.c.id.desc()).limit(limit)
        async with self._db.engine.connect() as conn:
            return [_release(r) for r in await conn.execute(query)]

    async def _move(self, release_id: int, expected: ReleaseState, **values: object) -> bool:
        async with self._db.engine.begin() as conn:
            done = await conn.execute(
                update(RELEASES)
                .where(RELEASES.c.id == release_id, RELEASES.c.state == expected.value)
                .values(**values)
            )
        return done.rowcount == 1

    @staticmethod
    def check(release: Release, approver: Account, *, roles: tuple[Role, ...] = RELEASERS) -> None:
        """Whether *approver* may release *release*: a second person holding one of *roles*
        (four eyes); :class:`ReleaseRefusedError` if not. :meth:`take` checks it too."""
        may = any(approver.has(r) for r in roles)
        check_four_eyes(release.requester, approver.username, approver_may_approve=may)

    async def take(
        self, release: Release, approver: Account, *, roles: tuple[Role, ...] = RELEASERS
    ) -> Release:
        """Take *release* for *approver*: a second person holding one of *roles* (four
        eyes), and only one of them.

        :raises ReleaseRefusedError: the four-eyes rule refuses it.
        :raises ValidationError: it is not (or no longer) awaiting release.
        """
        self.check(release, approver, roles=roles)
        moved = await self._move(
            release.id, ReleaseState.REQUESTED, state=ReleaseState.RELEASING.value,
            approver=approver.username,
        )  # fmt: skip
        if not moved:
            raise ValidationError("this request is not awaiting release", code="not_requested")
        taken = await self.get(release.id)
        assert taken is not None  # noqa: S101  narrows the type: just taken
        return taken

    async def finish(self, release: Release, *, ok: bool, outcome: str) -> None:
        state = ReleaseState.RELEASED if ok else ReleaseState.FAILED
        await self._move(
            release.id, ReleaseState.RELEASING, state=state.value, outcome=outcome[:255],
            decided_at=_now(),
        )  # fmt: skip

    async def cancel(self, release: Release, by: Account) -> bool:
        """The requester withdraws their own request before anyone took it."""
        if by.username != release.requester:
            return False
        return await self._move(
            release.id, ReleaseState.REQUESTED, state=ReleaseState.FAILED.value,
            outcome="withdrawn by its requester", decided_at=_now(),
        )  # fmt: skip

"""Four eyes for every intake (DESIGN §13): the portal's form and import, ``dief post`` and
the node's intake folder hold a case as awaiting approval in the portal's drafts; it is
sealed and queued only when :func:`release_draft` runs for a second officer.

- :func:`hold_cases`: cases read from a file (``load_cases``) checked as the form checks
  them (validation and screening) and kept as drafts awaiting approval; nothing is sealed.
- :func:`hold_file`: the intake folder's hold (a :class:`~dief.node.FileResult` for the
  folder's report, refusals beside the file as without four eyes).
- :func:`release_draft`: the one release path, for the portal and ``dief approve``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from dief.exceptions import DiefError, ValidationError
from dief.node import FileResult, Rejection, SubmitReport
from dief.portal._accounts import Account, Role
from dief.portal._form import Problem, check_case
from dief.portal._gateway import NodeGateway, PostOutcome
from dief.wire import CaseInput, load_cases

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from dief.portal._drafts import Draft, DraftStore
    from dief.screening import TextScreener

__all__ = ["HeldLine", "hold_cases", "hold_file", "release_draft"]

#: The author of a case dropped in the intake folder whose owner cannot be named.
INTAKE_AUTHOR = "intake-folder"


@dataclass(frozen=True, slots=True)
class HeldLine:
    """What became of one input line: held as draft ``draft`` awaiting approval (``ok``),
    or refused with the first problem (a refused line is kept as a draft only when asked)."""

    line: int
    ok: bool
    draft: int | None = None
    reason: str | None = None
    message: str | None = None
    spans: tuple[tuple[int, int, str], ...] = ()

    def describe(self) -> str:
        """The refusal in one line: never the refused text, only where and which kind."""
        where = ", ".join(f"characters {a}-{b} ({kind})" for a, b, kind in self.spans)
        return f"{self.message}{': ' + where if where else ''}"


def _body(case: CaseInput) -> dict[str, Any]:
    # warnings off: the quantity union (int | band) serialises right but pydantic warns
    return case.model_dump(mode="json", exclude_none=True, exclude={"submitted_by"}, warnings=False)


async def hold_cases(  # noqa: PLR0913  a public keyword signature, used outside (dief post, the intake folder)
    drafts: DraftStore,
    author: str,
    items: Iterable[tuple[int, CaseInput | ValidationError]],
    screener: TextScreener,
    *,
    today: date,
    keep_refused: bool = False,
) -> list[HeldLine]:
    """Keep each valid, screened case of *items* as a draft of *author* awaiting approval;
    a refused line is reported (and kept as a draft its author can fix, if *keep_refused*).
    Nothing is sealed or queued."""
    rows: list[HeldLine] = []
    for line, item in items:
        if isinstance(item, ValidationError):
            rows.append(HeldLine(line, ok=False, reason=item.code, message=item.message))
            continue
        body = _body(item)
        problems = await asyncio.to_thread(_check, body, screener, today)
        if problems:
            first = problems[0]
            kept = await drafts.create(author, body, problems) if keep_refused else None
            rows.append(HeldLine(line, ok=False, draft=kept.id if kept else None, reason=first.code,
                                 message=first.message, spans=first.spans))  # fmt: skip
            continue
        draft = await drafts.create(author, body, ())
        await drafts.submit(draft, author)
        rows.append(HeldLine(line, ok=True, draft=draft.id))
    return rows


def _check(body: dict[str, Any], screener: TextScreener, today: date) -> list[Problem]:
    return check_case(body, screener, today=today)[1]


def file_owner(path: Path) -> str:
    """The login name of *path*'s owner: the intake folder's author of its cases."""
    try:
        import pwd  # noqa: PLC0415  Unix only: its absence is handled below

        return pwd.getpwuid(path.stat().st_uid).pw_name
    except (ImportError, KeyError, OSError):  # no such user (a container), or no pwd
        return INTAKE_AUTHOR


async def hold_file(
    drafts: DraftStore, path: Path, screener: TextScreener, *, today: date | None = None
) -> FileResult:
    """The intake folder under four eyes: hold the cases of *path* (authored by the file's
    owner, so an approver cannot release a file they dropped under their own login) and
    report refused lines as the folder does (``<name>.rejected.jsonl``); nothing sealed.

    :raises ConfigurationError: the file cannot be read.
    """
    day = today or datetime.now(UTC).date()
    author = await asyncio.to_thread(file_owner, path)
    items = await asyncio.to_thread(lambda: list(load_cases(path, today=day)))
    if not items:
        no_cases = Rejection(1, None, "no_cases", "the file holds no case to post")
        return FileResult(path, SubmitReport(rejected=[no_cases]))
    rows = await hold_cases(drafts, author, items, screener, today=day)
    refused = [
        Rejection(r.line, None, r.reason or "refused", r.describe()) for r in rows if not r.ok
    ]
    held = sum(r.ok for r in rows)
    return FileResult(path, SubmitReport(rejected=refused), awaiting_approval=held)


async def release_draft(
    drafts: DraftStore, gateway: NodeGateway, draft: Draft, approver: Account
) -> tuple[Draft, PostOutcome]:
    """Release *draft* by *approver* (four eyes: :func:`check_four_eyes` through
    :meth:`DraftStore.take_for_release`), then hand it to the node: released (sealed and
    queued, or held for its token) or back to its author as a draft with the node's reason.

    :raises ReleaseRefusedError: the four-eyes rule refuses it.
    :raises ValidationError: it is not (or no longer) awaiting approval.
    """
    taken = await drafts.take_for_release(
        draft, approver.username, may_approve=approver.has(Role.APPROVER)
    )
    body = dict(taken.body)
    body.setdefault("case_id", taken.reference)  # a new case: the node keeps the reference
    try:
        outcome = await gateway.post(body)
    except DiefError as exc:  # the node's store or keys: the case goes back, nothing left
        outcome = PostOutcome(accepted=False, reason=exc.code, message=exc.message)
    if outcome.accepted and outcome.case_id is not None:
        await drafts.released(taken, outcome.case_id, int(outcome.revision or 1))
    else:
        problem = Problem(outcome.field, outcome.reason or "refused", outcome.message or "")
        await drafts.refused(taken, [problem])
    after = await drafts.get(draft.id)
    assert after is not None  # noqa: S101  narrows the type: drafts are never deleted
    return after, outcome

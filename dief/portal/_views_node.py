"""The national node's part: drafts, four-eyes release, "my cases" with their delivery,
revise and withdraw (the import and the catalogue are in :mod:`._views_intake`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from dief.catalogue import Indicator, load_catalogue
from dief.exceptions import ReleaseRefusedError, ValidationError
from dief.portal._accounts import Account, Role
from dief.portal._app import audit, portal_of, render, require
from dief.portal._drafts import Draft, DraftState
from dief.portal._form import (
    KIND_MESSAGES,
    FormField,
    Problem,
    case_fields,
    check_case,
    read_form,
    rows_to_show,
    value_at,
)
from dief.portal._four_eyes import release_draft
from dief.portal._i18n import N_

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from dief.portal._gateway import Delivery, NodeGateway

__all__ = ["display_status", "router", "segments"]

router = APIRouter()

Officer = Annotated[Account, Depends(require(Role.OFFICER, Role.APPROVER))]

#: What a case's status is called (draft → applied), for the reader.
STATUS_LABELS: dict[str, str] = {
    "draft": N_("Draft"),
    "submitted": N_("Awaiting approval"),
    "releasing": N_("Being released"),
    "approved": N_("Approved, waiting for the node's token"),
    "held": N_("Approved, waiting for the node's token"),
    "queued": N_("Queued"),
    "published": N_("Published, no receipt yet"),
    "applied": N_("Applied"),
    "dead_lettered": N_("Dead-lettered"),
    "duplicate": N_("Duplicate"),
    "stale": N_("Stale revision"),
    "revised": N_("Revised since"),
}


def _gateway(request: Request) -> NodeGateway:
    gateway = portal_of(request).gateway
    if gateway is None:
        raise HTTPException(503)
    return gateway


def display_status(draft: Draft, deliveries: Mapping[str, Delivery]) -> tuple[str, str | None]:
    """A draft's status for the reader, with the dead letter's reason if any."""
    if draft.state is not DraftState.RELEASED:
        return draft.state.value, None
    delivery = deliveries.get(draft.case_id or "")
    if delivery is None:
        return "approved", None
    if delivery.revision > (draft.revision or 0):
        return "revised", None
    return delivery.status, delivery.reason


def segments(text: str, spans: Sequence[tuple[int, int, str]]) -> list[tuple[str, str | None]]:
    """*text* cut at *spans*: (piece, kind or None), for marking the refused spans."""
    out: list[tuple[str, str | None]] = []
    at = 0
    for start, end, kind in sorted(spans):
        if start < at or end > len(text):
            continue
        out += [(text[at:start], None), (text[start:end], kind)]
        at = end
    out.append((text[at:], None))
    return [(piece, kind) for piece, kind in out if piece]


def _by_name(problems: Sequence[Problem]) -> dict[str, list[Problem]]:
    names = {f.name for f in _all_fields(case_fields())}
    found: dict[str, list[Problem]] = {}
    for p in problems:
        key = p.name
        while key and key not in names:
            key = key.rsplit("-", 1)[0] if "-" in key else ""
        found.setdefault(key, []).append(p)
    return found


def _all_fields(fields: Sequence[FormField]) -> list[FormField]:
    out: list[FormField] = []
    for f in fields:
        out.append(f)
        if f.kind == "rows":
            for i in range(f.max_rows):
                out += _all_fields(f.at(i).children)
        out += _all_fields(f.children) if f.kind == "group" else []
    return out


def _indicator_groups(query: str) -> list[tuple[str, str, list[Indicator]]]:
    catalogue = load_catalogue()
    words = [w for w in query.lower().split() if w]
    groups = []
    for group, title in catalogue.groups.items():
        found = [
            i for i in catalogue.in_group(group)
            if all(w in f"{i.id} {i.title} {i.question}".lower() for w in words)
        ]  # fmt: skip
        groups.append((group.value, title, found))
    return groups


async def _form_page(  # noqa: PLR0913  the page's parts, then its keyword options
    request: Request,
    draft: Draft | None,
    body: Mapping[str, Any],
    problems: Sequence[Problem],
    *,
    query: str = "",
    status_code: int = 200,
) -> Response:
    groups = _indicator_groups(query)
    return await render(
        request,
        "case_form.html",
        status_code=status_code,
        draft=draft,
        body=body,
        fields=case_fields(),
        problems=_by_name(problems),
        rows_to_show=rows_to_show,
        value_at=value_at,
        kind_messages=KIND_MESSAGES,
        segments=segments,
        indicator_groups=groups,
        shown_ids={i.id for _, _, found in groups for i in found},
        query=query,
        catalogue_version=load_catalogue().version,
    )


@router.get("/cases")
async def my_cases(request: Request, account: Officer) -> Response:  # noqa: ARG001  the dependency checks the role; FastAPI passes it by name
    portal = portal_of(request)
    drafts = await portal.drafts.all()
    deliveries = await _gateway(request).deliveries()
    rows = [(d, *display_status(d, deliveries)) for d in drafts]
    return await render(request, "cases.html", rows=rows, status_labels=STATUS_LABELS)


@router.get("/cases/new")
async def new_case(request: Request, account: Officer) -> Response:  # noqa: ARG001  the dependency checks the role; FastAPI passes it by name
    return await _form_page(request, None, {}, [])


def _checked(request: Request, body: dict[str, Any]) -> list[Problem]:
    portal = portal_of(request)
    _, problems = check_case(body, portal.screener, today=portal.today())
    return problems


@router.post("/cases/new")
async def create_case(request: Request, account: Officer) -> Response:
    form = await request.form()
    body = read_form(form)
    problems = _checked(request, body)
    draft = await portal_of(request).drafts.create(account.username, body, problems)
    return await _after_save(request, account, draft, str(form.get("action", "save")))


async def _after_save(request: Request, account: Account, draft: Draft, action: str) -> Response:
    submit = action == "submit" and not draft.problems
    if submit and await portal_of(request).drafts.submit(draft, account.username):
        return RedirectResponse(f"/cases/{draft.id}", status_code=303)
    if draft.problems:
        form = await request.form()
        return await _form_page(request, draft, draft.body, draft.problems,
                                query=str(form.get("catalogue_q", "")),
                                status_code=422 if action == "submit" else 200)  # fmt: skip
    return RedirectResponse(f"/cases/{draft.id}", status_code=303)


async def _draft(request: Request, draft_id: int) -> Draft:
    draft = await portal_of(request).drafts.get(draft_id)
    if draft is None:
        raise HTTPException(404)
    return draft


@router.get("/cases/{draft_id}")
async def show_case(request: Request, draft_id: int, account: Officer) -> Response:
    draft = await _draft(request, draft_id)
    if draft.state is DraftState.DRAFT and draft.author == account.username:
        query = request.query_params.get("catalogue_q", "")
        return await _form_page(request, draft, draft.body, draft.problems, query=query)
    deliveries = await _gateway(request).deliveries()
    status, reason = display_status(draft, deliveries)
    delivery = deliveries.get(draft.case_id or "")
    may_approve = (
        draft.state is DraftState.SUBMITTED
        and account.has(Role.APPROVER)
        and account.username != draft.author
    )
    return await render(
        request, "case.html", draft=draft, status=status, reason=reason, delivery=delivery,
        status_labels=STATUS_LABELS, may_approve=may_approve, fields=case_fields(),
    )  # fmt: skip


@router.post("/cases/{draft_id}")
async def save_case(request: Request, draft_id: int, account: Officer) -> Response:
    draft = await _draft(request, draft_id)
    if draft.state is not DraftState.DRAFT or draft.author != account.username:
        raise HTTPException(409)
    form = await request.form()
    body = read_form(form)
    for kept in ("case_id", "status"):  # a revision or withdrawal keeps what it names
        if kept in draft.body:
            body[kept] = draft.body[kept]
    problems = _checked(request, body)
    await portal_of(request).drafts.save(draft, account.username, body, problems)
    saved = await _draft(request, draft_id)
    return await _after_save(request, account, saved, str(form.get("action", "save")))


@router.post("/cases/{draft_id}/approve")
async def approve_case(request: Request, draft_id: int, account: Officer) -> Response:
    portal = portal_of(request)
    draft = await _draft(request, draft_id)
    try:
        after, outcome = await release_draft(portal.drafts, _gateway(request), draft, account)
    except ReleaseRefusedError as exc:
        await audit(request, account, "approve_refused", f"draft {draft.id}")
        raise HTTPException(403, exc.code) from exc
    except ValidationError as exc:
        raise HTTPException(409, exc.code) from exc
    if after.state is DraftState.RELEASED:
        await audit(request, account, "released", f"case {outcome.case_id}")
    else:
        await audit(request, account, "release_refused", f"draft {draft.id}")
    return RedirectResponse(f"/cases/{draft.id}", status_code=303)


@router.post("/cases/{draft_id}/return")
async def return_case(request: Request, draft_id: int, account: Officer) -> Response:
    draft = await _draft(request, draft_id)
    if not account.has(Role.APPROVER) and account.username != draft.author:
        raise HTTPException(403)
    await portal_of(request).drafts.return_to_draft(draft)
    return RedirectResponse(f"/cases/{draft.id}", status_code=303)


async def _follow_up(
    request: Request, account: Account, draft_id: int, *, withdraw: bool
) -> Response:
    draft = await _draft(request, draft_id)
    if draft.state is not DraftState.RELEASED or draft.case_id is None:
        raise HTTPException(409)
    body = {k: v for k, v in draft.body.items() if k != "revision"}
    body["case_id"] = draft.case_id
    body["status"] = "withdrawn" if withdraw else "active"
    if not withdraw:
        body.pop("status")
    problems = _checked(request, body)
    new = await portal_of(request).drafts.create(account.username, body, problems)
    return RedirectResponse(f"/cases/{new.id}", status_code=303)


@router.post("/cases/{draft_id}/revise")
async def revise_case(request: Request, draft_id: int, account: Officer) -> Response:
    return await _follow_up(request, account, draft_id, withdraw=False)


@router.post("/cases/{draft_id}/withdraw")
async def withdraw_case(request: Request, draft_id: int, account: Officer) -> Response:
    return await _follow_up(request, account, draft_id, withdraw=True)

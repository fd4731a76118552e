"""Administration: the party's accounts (disable a leaver's account, enable it again) and
the audit log of who read, downloaded or released what."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from dief.portal._accounts import Account, Role
from dief.portal._app import audit, portal_of, render, require

__all__ = ["router"]

router = APIRouter()

Admin = Annotated[Account, Depends(require(Role.ADMINISTRATOR))]


@router.get("/admin/accounts")
async def accounts_page(request: Request, account: Admin) -> Response:  # noqa: ARG001  the dependency checks the role; FastAPI passes it by name
    accounts = await portal_of(request).accounts.all()
    return await render(request, "admin_accounts.html", accounts=accounts)


async def _set(request: Request, account: Account, name: str, *, disabled: bool) -> Response:
    if name == account.username and disabled:
        raise HTTPException(409)  # an administrator does not lock themselves out
    if not await portal_of(request).accounts.set_disabled(name, disabled=disabled):
        raise HTTPException(404)
    await audit(request, account, "disable" if disabled else "enable", f"account {name}")
    return RedirectResponse("/admin/accounts", status_code=303)


@router.post("/admin/accounts/{name}/disable")
async def disable(request: Request, name: str, account: Admin) -> Response:
    return await _set(request, account, name, disabled=True)


@router.post("/admin/accounts/{name}/enable")
async def enable(request: Request, name: str, account: Admin) -> Response:
    return await _set(request, account, name, disabled=False)


@router.get("/admin/audit")
async def audit_page(request: Request, account: Admin) -> Response:  # noqa: ARG001  the dependency checks the role; FastAPI passes it by name
    entries = await portal_of(request).accounts.audit_log()
    return await render(request, "audit.html", entries=entries)

"""Signing in and out, the language, the home page of each party."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from dief.portal._accounts import LANGUAGES, Account, Role
from dief.portal._app import (
    PARTY_ROLES,
    current_account,
    portal_of,
    render,
    require,
    session_of,
)
from dief.portal._i18n import N_
from dief.portal._security import Session
from dief.portal._settings import Party

__all__ = ["router"]

router = APIRouter()

_HOME = {Party.NODE: "/cases", Party.REGION: "/region", Party.SECRETARIAT: "/secretariat"}
_LOGIN_FAILED = N_("The name, password or code is not right, or the account is disabled.")
_TOO_MANY = N_("Too many failed attempts. Wait a few minutes and try again.")


@router.get("/")
async def home(request: Request) -> Response:
    account = await current_account(request)
    if account is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(_HOME[portal_of(request).party], status_code=303)


@router.get("/login")
async def login_page(request: Request) -> Response:
    expired = session_of(request).expired
    return await render(request, "login.html", expired=expired, error=None)


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    code: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    portal = portal_of(request)
    client = request.client.host if request.client else "unknown"
    keys = (f"user:{username.strip().lower()}", f"addr:{client}")
    if portal.limiter.blocked(*keys):
        await portal.accounts.audit(username.strip().lower()[:64] or "-", "login_blocked", "-")
        return await render(request, "login.html", status_code=429, error=_TOO_MANY)
    assert portal.login_method is not None  # noqa: S101  narrows the type: set by Portal
    account = await portal.login_method.login(username, password, code)
    if account is None or not _belongs(account, portal.party):
        portal.limiter.failed(*keys)
        return await render(request, "login.html", status_code=401, error=_LOGIN_FAILED)
    portal.limiter.succeeded(*keys)
    request.state.session = session_of(request).signed_in(account.id, account.epoch)
    request.state.account = account
    await portal.accounts.audit(account.username, "login", "-")
    return RedirectResponse(_HOME[portal.party], status_code=303)


def _belongs(account: Account, party: Party) -> bool:
    return any(account.has(r) for r in PARTY_ROLES[party])


@router.post("/logout")
async def logout(request: Request) -> Response:
    account = await current_account(request)
    if account is not None:
        await portal_of(request).accounts.end_sessions(account.id)
    request.state.session = Session.fresh(lang=session_of(request).lang)
    request.state.account = None
    return RedirectResponse("/login", status_code=303)


@router.post("/language")
async def language(
    request: Request,
    lang: Annotated[str, Form(max_length=8)] = "en",
    back: Annotated[str, Form(alias="next", max_length=512)] = "/",
) -> Response:
    lang = lang if lang in LANGUAGES else "en"
    account = await current_account(request)
    if account is not None:
        await portal_of(request).accounts.set_language(account.id, lang)
        request.state.account = replace(account, language=lang)
    request.state.session = replace(session_of(request), lang=lang)
    # back to the page the form was on: a path of this site only (no open redirect)
    local = back.startswith("/") and not back.startswith("//") and "\\" not in back
    return RedirectResponse(back if local else "/", status_code=303)


@router.get("/account")
async def account_page(
    request: Request, account: Annotated[Account, Depends(require())]
) -> Response:
    roles = sorted(r.value for r in account.roles)
    return await render(request, "account.html", roles=roles, all_roles=list(Role))

"""The portal application: :func:`create_app` builds it from a :class:`Portal` (everything it
needs, made at the edge by ``dief web``), and the helpers every view uses: rendering in the
reader's language, the signed-in account, role checks, CSRF on every form, the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from dief.labels import FIELD_HELP, field_label, value_label
from dief.portal._accounts import Account, AccountStore, LocalLogin, LoginMethod, Role
from dief.portal._drafts import DraftStore
from dief.portal._i18n import negotiate, translator
from dief.portal._releases import ReleaseStore, SummaryPublisher
from dief.portal._security import (
    CSRF_FIELD,
    LoginLimiter,
    Session,
    SessionCodec,
    SessionMiddleware,
    csrf_ok,
)
from dief.portal._settings import Party
from dief.screening import TextScreener, default_screener

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable

    from dief.portal._bulletins import BulletinSource
    from dief.portal._dashboard import DigestSource
    from dief.portal._gateway import NodeGateway
    from dief.portal._registry import NodeRegistry
    from dief.portal._summaries import SummarySource
    from dief.portal._tables import PortalDatabase
    from dief.vocab import Region

__all__ = ["Portal", "create_app", "current_account", "render", "require"]

log = logging.getLogger("dief.portal")

_HERE = Path(__file__).parent
_ENV = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(("html",)),
    trim_blocks=True,
    lstrip_blocks=True,
)

#: The roles each party's portal knows.
PARTY_ROLES: dict[Party, tuple[Role, ...]] = {
    Party.NODE: (Role.OFFICER, Role.APPROVER, Role.ADMINISTRATOR),
    Party.REGION: (Role.MEETING_MEMBER, Role.ADMINISTRATOR),
    Party.SECRETARIAT: (Role.SECRETARIAT_EDITOR, Role.ADMINISTRATOR),
}


@dataclass
class Portal:
    """What one party's portal runs with."""

    party: Party
    db: PortalDatabase
    codec: SessionCodec
    limiter: LoginLimiter
    regions: tuple[Region, ...] = ()
    gateway: NodeGateway | None = None
    bulletins: BulletinSource | None = None  # the node's bulletins and watches
    digests: DigestSource | None = None
    summaries: SummarySource | None = None
    publisher: SummaryPublisher | None = None  # the Secretariat: to csp.reporting
    registry: NodeRegistry | None = None  # the Secretariat: nodes and directory versions
    screener: TextScreener = field(default_factory=default_screener)
    login_method: LoginMethod | None = None
    today: Callable[[], date] = field(default=lambda: datetime.now(UTC).date())
    clock: Callable[[], float] = time.time  # TOTP codes are checked at this time
    cycle_start_month: int = 9
    on_start: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.accounts = AccountStore(self.db, self.clock)
        self.drafts = DraftStore(self.db)
        self.releases = ReleaseStore(self.db)
        if self.login_method is None:
            self.login_method = LocalLogin(self.accounts)

    def __repr__(self) -> str:
        return f"Portal(party={self.party.value!r})"


_UNSET = object()


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def session_of(request: Request) -> Session:
    session: Session = request.state.session
    return session


async def current_account(request: Request) -> Account | None:
    """The signed-in account, if its session is of its current epoch and it is enabled."""
    cached = getattr(request.state, "account", _UNSET)
    if cached is not _UNSET:
        return cast("Account | None", cached)
    session = session_of(request)
    account = None
    if session.account is not None:
        found = await portal_of(request).accounts.get(session.account)
        if found is not None and not found.disabled and found.epoch == session.epoch:
            account = found
        else:
            request.state.session = Session.fresh(lang=session.lang)
    request.state.account = account
    return account


class _NeedsLogin(Exception):  # noqa: N818 - control flow to the login page, not an error
    pass


def require(*roles: Role) -> Callable[[Request], Awaitable[Account]]:
    """A dependency: the signed-in account holding one of *roles* (any role when none);
    redirects to the login page when nobody is signed in, 403 otherwise."""

    async def dependency(request: Request) -> Account:
        account = await current_account(request)
        if account is None:
            raise _NeedsLogin
        if roles and not any(account.has(r) for r in roles):
            raise HTTPException(403)
        return account

    return dependency


async def csrf_guard(request: Request) -> None:
    """Every state-changing request carries the session's CSRF token in its form."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    form = await request.form()
    if not csrf_ok(session_of(request), form.get(CSRF_FIELD)):
        raise HTTPException(403, "csrf")


def language_of(request: Request, account: Account | None) -> str:
    if account is not None:
        return account.language
    session = session_of(request)
    return session.lang or negotiate(request.headers.get("accept-language"))


async def render(
    request: Request, template: str, status_code: int = 200, **context: object
) -> HTMLResponse:
    """*template* in the reader's language, with the CSRF token and the account."""
    account = await current_account(request)
    lang = language_of(request, account)
    t = translator(lang)
    html = _ENV.get_template(template).render(
        _=t.gettext,
        lang=lang,
        account=account,
        party=portal_of(request).party.value,
        csrf_field=CSRF_FIELD,
        csrf=session_of(request).csrf,
        field_label=lambda key: t.gettext(field_label(key)),
        field_help=lambda key: t.gettext(FIELD_HELP[key]) if key in FIELD_HELP else "",
        value_label=lambda value: t.gettext(value_label(value)),
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


async def audit(request: Request, account: Account, action: str, target: str) -> None:
    await portal_of(request).accounts.audit(account.username, action, target)


def _routers(party: Party) -> Iterable[Any]:
    from dief.portal import _views_admin, _views_auth  # noqa: PLC0415  the views import this module: only the party's are loaded, here

    yield _views_auth.router
    yield _views_admin.router
    if party is Party.NODE:
        from dief.portal import _views_bulletins, _views_intake, _views_node  # noqa: PLC0415  (as above)

        yield _views_node.router
        yield _views_intake.router
        yield _views_bulletins.router
    elif party is Party.REGION:
        from dief.portal import _views_region  # noqa: PLC0415  (as above)

        yield _views_region.router
    else:
        from dief.portal import _views_secretariat  # noqa: PLC0415  (as above)

        yield _views_secretariat.router


def create_app(portal: Portal) -> FastAPI:
    """The ASGI application of *portal* (started and stopped with it)."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncGenerator[None]:
        await portal.db.start()
        await portal.accounts.warm()
        if portal.party is Party.NODE:  # the screener's tables, before the first form
            warm = getattr(portal.screener, "warm", None)
            if warm is not None:
                await asyncio.to_thread(warm)
        for start in portal.on_start:
            await start()
        try:
            yield
        finally:
            for stop in reversed(portal.on_stop):
                await stop()
            await portal.db.stop()

    app = FastAPI(
        title="DIEF portal",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_guard)],
    )
    app.state.portal = portal
    app.add_middleware(SessionMiddleware, codec=portal.codec)
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    for router in _routers(portal.party):
        app.include_router(router)

    @app.exception_handler(_NeedsLogin)
    async def needs_login(request: Request, _exc: _NeedsLogin) -> Response:  # noqa: ARG001, RUF029  Starlette's exception handler signature, awaited by Starlette
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return await render(request, "error.html", status_code=exc.status_code, error=exc)

    return app

"""Sessions in signed cookies with an idle timeout, CSRF tokens, security headers, and login
rate limiting.

- The session cookie (``__Host-dief`` over HTTPS, ``Secure; HttpOnly; SameSite=Strict``)
  holds the account id, the account's session epoch, the CSRF token and when it was last
  used, signed with ``DIEF_PORTAL_SESSION_SECRET`` (itsdangerous). A cookie unused for longer
  than the idle timeout, or of an older epoch (logout everywhere, a disabled account), is an
  anonymous session again.
- Every visitor's session carries a CSRF token, so the login form has one too; every
  POST is refused (403) unless its ``csrf_token`` field equals the session's.
- Every response carries the headers of :data:`SECURITY_HEADERS` (a CSP without inline
  scripts or styles, ``frame-ancestors 'none'``, no referrer …).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CSRF_FIELD",
    "SECURITY_HEADERS",
    "LoginLimiter",
    "Session",
    "SessionCodec",
    "SessionMiddleware",
    "csrf_ok",
]

CSRF_FIELD = "csrf_token"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)

SECURITY_HEADERS: dict[str, str] = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "cache-control": "no-store",
}
_HSTS = "max-age=31536000"


@dataclass(frozen=True, slots=True)
class Session:
    """What the cookie carries. ``account`` None: not signed in."""

    csrf: str
    account: int | None = None
    epoch: int = 0
    seen: float = 0.0
    lang: str | None = None  # the language chosen before signing in
    expired: bool = field(default=False, compare=False)  # an idle session was just ended

    @classmethod
    def fresh(cls, *, lang: str | None = None, expired: bool = False) -> Session:
        return cls(csrf=secrets.token_urlsafe(32), seen=time.time(), lang=lang, expired=expired)

    def signed_in(self, account: int, epoch: int) -> Session:
        """A new session for *account* (a new CSRF token: no fixation)."""
        return replace(Session.fresh(lang=self.lang), account=account, epoch=epoch)


class SessionCodec:
    """Signs and reads session cookies."""

    def __init__(self, secret: str, *, idle_seconds: float, secure: bool) -> None:
        self._serializer = URLSafeSerializer(secret, salt="dief-portal-session")
        self.idle_seconds = idle_seconds
        self.secure = secure
        self.name = "__Host-dief" if secure else "dief_session"

    def __repr__(self) -> str:
        return f"SessionCodec(secure={self.secure})"  # never the secret

    def load(self, cookie: str | None, now: float) -> Session:
        if not cookie:
            return Session.fresh()
        try:
            data = self._serializer.loads(cookie)
            session = Session(
                csrf=str(data["c"]),
                account=None if data.get("a") is None else int(data["a"]),
                epoch=int(data.get("e", 0)),
                seen=float(data["t"]),
                lang=data.get("l"),
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            return Session.fresh()
        if session.account is not None and now - session.seen > self.idle_seconds:
            return Session.fresh(lang=session.lang, expired=True)
        return replace(session, seen=now)

    def dump(self, session: Session) -> str:
        data: dict[str, Any] = {"c": session.csrf, "t": int(session.seen), "e": session.epoch}
        if session.account is not None:
            data["a"] = session.account
        if session.lang:
            data["l"] = session.lang
        return str(self._serializer.dumps(data))

    def header(self, session: Session) -> str:
        parts = [f"{self.name}={self.dump(session)}", "Path=/", "HttpOnly", "SameSite=Strict"]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)


class SessionMiddleware:
    """Loads the session into ``scope["state"]["session"]``, writes it back on every
    response, and adds the security headers to every response."""

    def __init__(self, app: ASGIApp, codec: SessionCodec) -> None:
        self.app = app
        self.codec = codec

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        session = self.codec.load(conn.cookies.get(self.codec.name), time.time())
        scope.setdefault("state", {})["session"] = session

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if self.codec.secure:
                    headers["strict-transport-security"] = _HSTS
                current: Session = scope["state"]["session"]
                if not str(scope.get("path", "")).startswith("/static/"):
                    headers.append("set-cookie", self.codec.header(current))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_ok(session: Session, given: object) -> bool:
    """Whether a form's token is the session's (compared in constant time)."""
    return isinstance(given, str) and hmac.compare_digest(given.encode(), session.csrf.encode())


class LoginLimiter:
    """At most *attempts* failed logins per user name and per client address within
    *window* seconds; further attempts are refused without checking the password.

    Kept in memory: one portal process per party (docs/portal.md)."""

    def __init__(
        self, attempts: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._attempts = attempts
        self._window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def __repr__(self) -> str:
        return f"LoginLimiter(attempts={self._attempts}, window={self._window})"

    def _recent(self, key: str) -> deque[float]:
        now = self._clock()
        failures = self._failures.setdefault(key, deque())
        while failures and now - failures[0] > self._window:
            failures.popleft()
        return failures

    def blocked(self, *keys: str) -> bool:
        return any(len(self._recent(k)) >= self._attempts for k in keys)

    def failed(self, *keys: str) -> None:
        for key in keys:
            self._recent(key).append(self._clock())

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)

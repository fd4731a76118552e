"""The portal at the HTTP level: each party's app on a fresh SQLite accounts database, a fake
node gateway and a fake digest source, driven by Starlette's test client over HTTPS (the
session cookie is ``Secure``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar, TypeVarTuple, Unpack

import pytest
from fastapi.testclient import TestClient

from dief.database import sqlite_url
from dief.portal import (
    CycleSummary,
    Dashboard,
    Delivery,
    LoginLimiter,
    Party,
    Portal,
    PortalDatabase,
    PostOutcome,
    Role,
    SessionCodec,
    create_app,
    totp_code,
)
from dief.vocab import Region
from dief.wire import CspSummary, Digest

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator
    from pathlib import Path

    import httpx

T = TypeVar("T")
Args = TypeVarTuple("Args")

PASSWORD = "a long enough test password"
TODAY = date(2026, 6, 15)


@dataclass
class FakeGateway:
    """The node as the portal sees it: accepts every case (or refuses with *refuse*)."""

    posted: list[dict[str, Any]] = field(default_factory=list)
    refuse: tuple[str, str] | None = None
    status: str = "queued"

    async def post(self, case: dict[str, Any]) -> PostOutcome:
        if self.refuse is not None:
            return PostOutcome(accepted=False, reason=self.refuse[0], message=self.refuse[1])
        self.posted.append(case)
        return PostOutcome(
            accepted=True, case_id=f"00000000-0000-8000-8000-{len(self.posted):012d}", revision=1
        )

    async def deliveries(self) -> dict[str, Delivery]:
        return {
            f"00000000-0000-8000-8000-{i:012d}": Delivery(
                f"00000000-0000-8000-8000-{i:012d}", 1, self.status
            )
            for i in range(1, len(self.posted) + 1)
        }


@dataclass
class Clock:
    now: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeDigests:
    """A region's digests: one empty period per region."""

    async def periods(self, region: Region) -> list[str]:
        return ["2026-05"]

    async def dashboard(self, region: Region, period: str) -> Dashboard:
        digest = Digest.model_validate(
            {
                "region": region.value,
                "period": period,
                "k": 2,
                "totals": {"cases": 3, "contributors": 2, "suppressed": 0},
                "dimensions": {},
            }
        )
        return Dashboard(digest, None)


@dataclass
class FakeSummaries:
    """The Secretariat's cycles: CSP13 published (a minimal signed-looking summary)."""

    async def cycle(self, cycle: str, *, current: bool = False) -> CycleSummary:
        if cycle != "CSP13":
            return CycleSummary(cycle, None, published=False, regions=())
        table = {"totals": {"cases": 4, "contributors": 3, "suppressed": 0}, "dimensions": {}}
        summary = CspSummary.model_validate(
            {
                "cycle": "CSP13", "from": "2025-09", "to": "2026-08", "k": 3, "issue": 1,
                "issued_at": "2026-09-01T00:00:00Z", "regions": {"AFR": table},
                "global": table, "narrative": ["Four cases were reported."],
                "methodology": {"rules": ["k = 3"], "k": 3, "suppressed": 0},
            }
        )  # fmt: skip
        return CycleSummary(cycle, summary, published=True, regions=(Region.AFR,))


@dataclass
class Site:
    """One party's portal under a test client, with its accounts' TOTP secrets."""

    client: TestClient
    portal: Portal
    secrets: dict[str, str]
    gateway: FakeGateway
    clock: Clock

    def login(self, name: str, *, client: TestClient | None = None) -> httpx.Response:
        c = client or self.client
        page = c.get("/login")
        token = csrf_of(page.text)
        # a fresh code per login: a code is spent once (the account's last TOTP step)
        self.clock.now += 30
        code = totp_code(self.secrets[name], self.clock.now)
        response: httpx.Response = c.post(
            "/login",
            data={"username": name, "password": PASSWORD, "code": code, "csrf_token": token},
            follow_redirects=False,
        )
        return response

    def fresh_client(self) -> TestClient:
        return TestClient(self.client.app, base_url="https://testserver")

    def call(self, func: Callable[[Unpack[Args]], Awaitable[T]], *args: *Args) -> T:
        """*func* awaited on the app's event loop (the test client's portal)."""
        return call_in(self.client, func, *args)


def call_in(client: TestClient, func: Callable[[Unpack[Args]], Awaitable[T]], *args: *Args) -> T:
    """*func* awaited on *client*'s event loop: the client must be started (``with``)."""
    portal = client.portal
    assert portal is not None, "the test client is not started"
    return portal.call(func, *args)


def csrf_of(html: str) -> str:
    found = hidden_of(html, "csrf_token")
    assert found is not None, "the page has no CSRF token"
    return found


def hidden_of(html: str, name: str) -> str | None:
    """The value of the page's (first) hidden input *name*, if it has one."""
    marker = f'name="{name}" value="'
    if marker not in html:
        return None
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


ACCOUNTS: dict[Party, list[tuple[str, tuple[Role, ...], Region | None]]] = {
    Party.NODE: [
        ("ana", (Role.OFFICER,), None),
        ("ben", (Role.OFFICER, Role.APPROVER), None),
        ("admin", (Role.ADMINISTRATOR,), None),
    ],
    Party.REGION: [
        ("afr-member", (Role.MEETING_MEMBER,), Region.AFR),
        ("eeg-member", (Role.MEETING_MEMBER,), Region.EEG),
    ],
    Party.SECRETARIAT: [("editor", (Role.SECRETARIAT_EDITOR,), None)],
}


def make_site(tmp_path: Path, party: Party) -> Iterator[Site]:
    db = PortalDatabase(sqlite_url(tmp_path / f"portal-{party.value}.sqlite"))
    gateway = FakeGateway()
    clock = Clock()
    portal = Portal(
        party=party,
        db=db,
        codec=SessionCodec("s" * 48, idle_seconds=600, secure=True),
        limiter=LoginLimiter(5, 900),
        regions=(Region.AFR, Region.EEG),
        gateway=gateway,
        digests=FakeDigests(),
        summaries=FakeSummaries(),
        today=lambda: TODAY,
        clock=clock,
    )
    app = create_app(portal)
    with TestClient(app, base_url="https://testserver") as client:
        secrets: dict[str, str] = {}

        async def create() -> None:
            for name, roles, region in ACCOUNTS[party]:
                secrets[name] = await portal.accounts.create(name, PASSWORD, roles, region=region)

        call_in(client, create)
        yield Site(client, portal, secrets, gateway, clock)


@pytest.fixture
def node_site(tmp_path: Path) -> Iterator[Site]:
    yield from make_site(tmp_path, Party.NODE)


@pytest.fixture
def region_site(tmp_path: Path) -> Iterator[Site]:
    yield from make_site(tmp_path, Party.REGION)


@pytest.fixture
def secretariat_site(tmp_path: Path) -> Iterator[Site]:
    yield from make_site(tmp_path, Party.SECRETARIAT)

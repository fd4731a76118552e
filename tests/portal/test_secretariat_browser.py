"""The Secretariat's and the region's new pages in a real browser (Debian's Chromium,
Playwright): a cycle's summary awaiting a second person's release, the registry of nodes and
directory versions, the region's meeting pack page. axe-core finds no serious or critical
violation on any of them; screenshots at 1280 px go to ``tests/portal/screenshots``
(``20-secretariat-summary-awaiting-release.png``, ``21-secretariat-registry.png``,
``22-region-meeting-pack.png``).

Each portal runs in this process under uvicorn (a thread): the Secretariat over a simulated
forum's real keyring (its registry) and fake summaries, the region over fake digests.
Waiting is on conditions with deadlines, never a sleep.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright
from pydantic import SecretStr

from dief.database import sqlite_url
from dief.keyring import SimulatedForum
from dief.portal import LoginLimiter, Party, Portal, PortalDatabase, Role, SessionCodec, create_app
from dief.portal import totp_code as code_of
from dief.portal._accounts import AccountStore
from dief.portal._registry import KeyringRegistry
from dief.testing import MemoryRecordSink
from dief.vocab import Region
from tests.portal.conftest import PASSWORD, TODAY
from tests.portal.test_region_meeting_pack import PackDigests
from tests.portal.test_secretariat_publication import FakePublisher, PreviewSummaries

if TYPE_CHECKING:
    from collections.abc import Iterator


pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).parent / "screenshots"
FORUM_PASSPHRASE = "browser-registry-passphrase"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(
    portal: Portal, accounts: list[tuple[str, tuple[Role, ...], Region | None]], url: str
) -> tuple[str, dict[str, str], uvicorn.Server, threading.Thread]:

    async def make() -> dict[str, str]:
        async with PortalDatabase(url) as db:
            store = AccountStore(db)
            return {n: await store.create(n, PASSWORD, r, region=g) for n, r, g in accounts}

    secrets = asyncio.run(make())
    port = _free_port()
    config = uvicorn.Config(create_app(portal), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"portal-{portal.party}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the portal did not start")
        thread.join(0.1)
    return f"http://127.0.0.1:{port}", secrets, server, thread


def _portal(party: Party, url: str, **kwargs: Any) -> Portal:  # noqa: ANN401  Portal's keyword arguments, passed through
    return Portal(
        party=party, db=PortalDatabase(url),
        codec=SessionCodec("s" * 48, idle_seconds=600, secure=False),
        limiter=LoginLimiter(20, 900), regions=(Region.AFR, Region.EEG),
        today=lambda: TODAY, **kwargs,
    )  # fmt: skip


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not CHROMIUM.is_file():
        pytest.skip("Debian's chromium is not installed (scripts/install installs it as root)")
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (scripts/install: npm ci in tests/portal/axe)")
    folder = tmp_path_factory.mktemp("secretariat-browser")
    forum = SimulatedForum.create(folder / "forum", FORUM_PASSPHRASE, nodes=("a", "b"))
    registry = KeyringRegistry(
        forum.path / "secretariat", SecretStr(FORUM_PASSPHRASE), sink=MemoryRecordSink()
    )
    sec_url = sqlite_url(folder / "portal-secretariat.sqlite")
    sec = _portal(
        Party.SECRETARIAT, sec_url, summaries=PreviewSummaries(), publisher=FakePublisher(),
        registry=registry,
    )  # fmt: skip
    reg_url = sqlite_url(folder / "portal-region.sqlite")
    reg = _portal(Party.REGION, reg_url, digests=PackDigests())
    running = [
        _serve(sec, [("editor", (Role.SECRETARIAT_EDITOR,), None),
                     ("admin", (Role.ADMINISTRATOR,), None)], sec_url),
        _serve(reg, [("afr-member", (Role.MEETING_MEMBER,), Region.AFR)], reg_url),
    ]  # fmt: skip
    try:
        yield {"secretariat": running[0][:2], "region": running[1][:2]}
    finally:
        for _, _, server, thread in running:
            server.should_exit = True
            thread.join(30)


def _axe(page: Page) -> list[tuple[str, str, int]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        (v["id"], v["impact"], len(v["nodes"]))
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def _login(page: Page, url: str, name: str, secret: str) -> None:
    page.goto(url + "/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.fill("#code", code_of(secret, time.time()))
    page.click("button[type=submit].primary")
    page.wait_for_url(lambda u: not u.endswith("/login"))


def test_the_new_pages_are_accessible_and_photographed(servers: dict[str, Any]) -> None:

    SHOTS.mkdir(exist_ok=True)
    sec_url, sec_secrets = servers["secretariat"]
    reg_url, reg_secrets = servers["region"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:

            def page_for() -> Page:
                context = browser.new_context(viewport={"width": 1280, "height": 800},
                                              bypass_csp=True)  # fmt: skip  # axe is injected
                context.set_default_timeout(30_000)
                return context.new_page()

            editor = page_for()
            _login(editor, sec_url, "editor", sec_secrets["editor"])
            editor.goto(sec_url + "/secretariat/CSP14")
            editor.click("button:has-text('Ask for publication')")
            expect(editor.locator("#h-publish + p")).to_contain_text("Publication asked by editor")
            editor.screenshot(
                path=str(SHOTS / "20-secretariat-summary-awaiting-release.png"), full_page=True
            )
            assert _axe(editor) == []
            editor.goto(sec_url + "/secretariat")
            expect(editor.locator("#h-pending + ul")).to_contain_text("CSP14")
            assert _axe(editor) == []

            admin = page_for()
            _login(admin, sec_url, "admin", sec_secrets["admin"])
            admin.goto(sec_url + "/secretariat/registry")
            admin.click("button:has-text('Ask for a new directory version')")
            expect(admin.locator("#registry-pending")).to_contain_text("admin")
            expect(admin.locator("#registry-nodes tbody tr")).to_have_count(2)
            admin.screenshot(path=str(SHOTS / "21-secretariat-registry.png"), full_page=True)
            assert _axe(admin) == []

            member = page_for()
            _login(member, reg_url, "afr-member", reg_secrets["afr-member"])
            member.goto(reg_url + "/region/AFR/pack")
            expect(member.locator("#pack-downloads")).to_contain_text("Français")
            member.screenshot(path=str(SHOTS / "22-region-meeting-pack.png"), full_page=True)
            assert _axe(member) == []
        finally:
            browser.close()

"""The node portal's bulletins page in a real browser (Debian's Chromium, Playwright): axe-core
finds no serious or critical violation, a watch is added with the keyboard alone and its
match shown, and screenshots at 1280 px go to ``tests/portal/screenshots``
(``09-bulletins.png``, ``10-bulletins-watch-match.png``).

The portal runs in this process under uvicorn (a thread), over the real
:class:`~dief.portal.NodeBulletins` of a node outbox file holding two opened batches; no
pipeline is needed for this page. Waiting is on conditions with deadlines, never a sleep.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright

from dief.database import sqlite_url
from dief.portal import (
    LoginLimiter,
    NodeBulletins,
    Party,
    Portal,
    PortalDatabase,
    Role,
    SessionCodec,
    create_app,
    totp_code,
)
from dief.portal._accounts import AccountStore
from tests.portal.conftest import PASSWORD, TODAY, FakeGateway
from tests.portal.test_node_bulletins import LIVE, fill_store

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).parent / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The node portal at a local URL, and the officer's authenticator secret."""
    if not CHROMIUM.is_file():
        pytest.skip("Debian's chromium is not installed (scripts/install installs it as root)")
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (scripts/install: npm ci in tests/portal/axe)")
    folder = tmp_path_factory.mktemp("bulletins-browser")
    outbox = folder / "node" / "outbox.sqlite"
    outbox.parent.mkdir()
    asyncio.run(fill_store(outbox))
    db_url = sqlite_url(folder / "portal-node.sqlite")

    async def account() -> str:
        async with PortalDatabase(db_url) as db:
            return await AccountStore(db).create("officer", PASSWORD, (Role.OFFICER,))

    secret = asyncio.run(account())
    bulletins = NodeBulletins(outbox)
    portal = Portal(
        party=Party.NODE, db=PortalDatabase(db_url),
        codec=SessionCodec("s" * 48, idle_seconds=600, secure=False),
        limiter=LoginLimiter(5, 900), gateway=FakeGateway(), bulletins=bulletins,
        today=lambda: TODAY,
    )  # fmt: skip
    portal.on_start.append(bulletins.start)
    portal.on_stop.append(bulletins.stop)
    port = _free_port()
    config = uvicorn.Config(create_app(portal), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="portal", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the portal did not start")
        thread.join(0.1)
    try:
        yield f"http://127.0.0.1:{port}", secret
    finally:
        uv.should_exit = True
        thread.join(30)


def _axe(page: Page) -> list[tuple[str, str, int]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        (v["id"], v["impact"], len(v["nodes"]))
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def test_the_bulletins_page_is_accessible_and_works_with_the_keyboard(
    server: tuple[str, str],
) -> None:

    url, secret = server
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800},
                                          bypass_csp=True)  # fmt: skip  # axe is injected
            context.set_default_timeout(30_000)
            page = context.new_page()
            page.goto(url + "/login")
            page.fill("#username", "officer")
            page.fill("#password", PASSWORD)
            page.fill("#code", totp_code(secret, time.time()))
            page.click("button[type=submit].primary")
            page.wait_for_url(lambda u: not u.endswith("/login"))
            page.goto(url + "/bulletins")
            expect(page.locator(f"#b-{LIVE}")).to_contain_text("Small arms")
            page.screenshot(path=str(SHOTS / "09-bulletins.png"), full_page=True)
            assert _axe(page) == []
            # the keyboard alone: the name, one category, then the submit button
            page.focus("#watch-label")
            page.keyboard.type("rifles")
            page.keyboard.press("Tab")  # the first item category: battle tanks
            for _ in range(7):  # ... to small arms (the eighth)
                page.keyboard.press("Tab")
            page.keyboard.press("Space")
            expect(page.locator("input[name=item_categories][value=small_arms]")).to_be_checked()
            page.focus("button:has-text('Add the watch')")
            page.keyboard.press("Enter")
            page.wait_for_url(lambda u: "/bulletins" in u)
            matches = page.locator("table.list").first
            expect(matches).to_contain_text("rifles")
            expect(matches).to_contain_text("Item categories: Small arms")
            page.screenshot(path=str(SHOTS / "10-bulletins-watch-match.png"), full_page=True)
            assert _axe(page) == []
        finally:
            browser.close()

"""The portal in a real browser against the real pipeline (issue 19): Debian's Chromium driven
by Playwright, the node portal (``dief web --party node``, running the node service), the
region portal (``dief web --party region``), and a simulated forum: the embedded broker,
the Secretariat's credential issuer and the aggregator on PostgreSQL.

The region portal runs with k_meeting = 1 here: with one case, every cell is published, so
the test sees the case arrive without depending on the disclosure control's choices (which
its own tests cover).

The journey: an officer fills the form, meets a screening error at the summary, fixes it and
asks for approval; a second officer approves; the case is applied (its receipt shown) and
counts in the region's dashboard. A second case makes the same journey by keyboard alone.
axe-core (``tests/portal/axe``, installed by ``scripts/install``) checks the key pages for
serious or critical violations. Screenshots at 1280 px go to ``tests/portal/screenshots``.

Waiting is on conditions with deadlines, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from dief.database import sqlite_url
from dief.periods import CspCycle, Month
from dief.portal import Party, PortalDatabase, Role, totp_code
from dief.portal._accounts import AccountStore
from dief.portal._demo import LocalForum
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.conftest import MakeDatabase

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.postgres,
]

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).parent / "screenshots"
DIEF = Path(sys.executable).parent / "dief"
PASSWORD = "journey test password (long enough)"
START_TIMEOUT = 90.0
APPLY_TIMEOUT = 120.0
LEAK = "Mombasa"
SUMMARY_BAD = f"Rifles were re-exported through {LEAK} by a broker using a shell company."
SUMMARY_OK = (
    "Rifles were re-exported through a port in the region by a broker using a shell company."
)


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    secrets: dict[str, str]
    log: Path

    def code(self, name: str) -> str:
        return totp_code(self.secrets[name], time.time())


@dataclass
class Stack:
    forum: LocalForum
    node: Server
    region: Server
    month: str


def _free_port() -> int:

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def _accounts(
    url: str, wanted: list[tuple[str, tuple[Role, ...], Region | None]]
) -> dict[str, str]:

    async def make() -> dict[str, str]:
        async with PortalDatabase(url) as db:
            store = AccountStore(db)
            return {n: await store.create(n, PASSWORD, r, region=g) for n, r, g in wanted}

    return asyncio.run(make())


def _serve(
    forum: LocalForum,
    party: Party,
    folder: Path,
    accounts: list[Any],
    *args: str,
    k_meeting: str = "2",
) -> Server:
    port = _free_port()
    db = sqlite_url(folder / f"portal-{party.value}.sqlite")
    secrets = _accounts(db, accounts)
    env = forum.environment(os.environ)
    env.update({
        "DIEF_PORTAL_PORT": str(port), "DIEF_PORTAL_COOKIE_SECURE": "false",
        "DIEF_PORTAL_DATABASE_URL": db, "DIEF_PORTAL_WORK_DIR": str(folder),
        "DIEF_PORTAL_SESSION_SECRET": uuid.uuid4().hex * 2,
        "DIEF_PORTAL_K_MEETING": k_meeting,
    })  # fmt: skip
    log = folder / f"web-{party.value}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(DIEF), "web", "--party", party.value, *args],
            cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return Server(proc, f"http://127.0.0.1:{port}", secrets, log)


def _wait_up(server: Server, party: Party) -> None:
    """Until *server* answers (the portals start side by side, then this waits for each)."""

    def up() -> bool:
        if server.proc.poll() is not None:
            pytest.fail(
                f"dief web --party {party.value} stopped:\n{server.log.read_text()[-3000:]}"
            )
        try:
            return httpx.get(server.url + "/login", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    _wait(up, START_TIMEOUT, f"the {party.value} portal")


def _stop(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
    try:
        server.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, make_postgres_database: MakeDatabase
) -> Iterator[Stack]:
    if not CHROMIUM.is_file():
        pytest.skip("Debian's chromium is not installed (scripts/install installs it as root)")
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (scripts/install: npm ci in tests/portal/axe)")
    folder = tmp_path_factory.mktemp("portal-journey")
    today = time.gmtime()
    month = str(Month(today.tm_year, today.tm_mon))
    assert CspCycle.of(Month.parse(month), start_month=9)  # the month is a valid period
    with make_postgres_database() as pg, LocalForum.started(folder / "forum", pg) as forum:
        # an account per test and role: a sign-in code is spent once (no replay)
        node = _serve(forum, Party.NODE, folder, [
            ("officer", (Role.OFFICER,), None),
            ("approver", (Role.OFFICER, Role.APPROVER), None),
            ("kb-officer", (Role.OFFICER,), None),
            ("kb-approver", (Role.OFFICER, Role.APPROVER), None),
            ("axe-officer", (Role.OFFICER,), None),
        ], "--embedded")  # fmt: skip
        try:
            region = _serve(forum, Party.REGION, folder, [
                ("member", (Role.MEETING_MEMBER,), Region.AFR),
                ("axe-member", (Role.MEETING_MEMBER,), Region.AFR),
            ], "--region", "AFR", "--aggregator-database-url", pg,
               "--keys", str(forum.keys), "--passphrase-file", str(forum.passphrase_file),
               k_meeting="1")  # fmt: skip
            try:
                _wait_up(node, Party.NODE)
                _wait_up(region, Party.REGION)
                yield Stack(forum, node, region, month)
            finally:
                _stop(region)
        finally:
            _stop(node)


# -- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Browser]:

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


def _page(browser: Browser, *, bypass_csp: bool = False) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=bypass_csp)
    context.set_default_timeout(30_000)
    return context.new_page()


def _shot(page: Page, name: str) -> None:
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")  # noqa: T201  figures printed for the test log (pytest -s)


def _login(page: Page, server: Server, name: str) -> None:
    page.goto(server.url + "/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.fill("#code", server.code(name))
    page.click("button[type=submit].primary")
    page.wait_for_url(lambda url: not url.endswith("/login"))


def _wait_for_status(page: Page, wanted: str) -> None:
    deadline = time.monotonic() + APPLY_TIMEOUT
    while page.locator("#case-status").inner_text().strip() != wanted:
        if time.monotonic() > deadline:
            pytest.fail(f"the case did not become {wanted!r}")
        page.wait_for_timeout(1000)  # the page is server-rendered: look again
        page.reload()


def test_an_officer_posts_a_case_a_second_officer_approves_it_and_it_counts(
    stack: Stack, browser: Browser
) -> None:

    officer = _page(browser)
    _login(officer, stack.node, "officer")
    officer.goto(stack.node.url + "/cases/new")
    officer.check("input[name=confidence][value=suspected]")
    officer.select_option("#in-region", "AFR")
    officer.fill("#in-detected", stack.month)
    officer.select_option("#in-items-0-category", "small_arms")
    officer.fill("#in-items-0-quantity", "40")
    officer.select_option("#in-transfer_stage", "in_transit")
    officer.select_option("#in-detection_source", "customs_border_control")
    officer.check("input[name=methods][value=shell_company]")
    officer.fill("#in-summary", SUMMARY_BAD)
    officer.click("button[value=submit]")
    # the screening error, at the summary and its span; the text is in no message
    field = officer.locator("#field-summary")
    expect(field.locator(".field-error")).to_be_visible()
    expect(field.locator("mark")).to_have_text(LEAK)
    start = SUMMARY_BAD.index(LEAK)
    expect(field.locator(".field-error")).to_contain_text(f"{start + 1}\u2013{start + len(LEAK)}")
    assert LEAK not in officer.locator("#error-summary").inner_text()
    expect(officer.locator("#in-summary")).to_have_attribute("aria-invalid", "true")
    _shot(officer, "02-case-form-screening-error")
    officer.fill("#in-summary", SUMMARY_OK)
    officer.click("button[value=submit]")
    expect(officer.locator("#case-status")).to_have_text("Awaiting approval")
    case_url = officer.url
    _shot(officer, "03-case-awaiting-approval")
    # the author cannot approve it
    expect(officer.locator("text=Approve and release")).to_have_count(0)

    member = _page(browser)
    _login(member, stack.region, "member")
    member.goto(f"{stack.region.url}/region/AFR")
    expect(member.locator(f"a[href='/region/AFR/{stack.month}']")).to_have_count(0)

    approver = _page(browser)
    _login(approver, stack.node, "approver")
    approver.goto(case_url)
    approver.click("text=Approve and release")
    _wait_for_status(approver, "Applied")
    expect(approver.locator("#receipt")).to_contain_text("Applied")
    case_id = approver.locator("#case-id").inner_text()
    _shot(approver, "04-case-applied-receipt")
    approver.goto(stack.node.url + "/cases")
    expect(approver.locator("table.list")).to_contain_text(case_id[:8])
    _shot(approver, "05-my-cases")

    # the region's dashboard now has the case's month, and counts it (k_meeting 1 here; a
    # disclosure rule may still withhold a lone case's total, and the page says why)
    member.goto(f"{stack.region.url}/region/AFR")
    member.click(f"a[href='/region/AFR/{stack.month}']")
    expect(member.locator("h1")).to_contain_text(stack.month)
    assert member.locator("#total-cases").inner_text() in {"1", "withheld"}
    expect(member.locator("#h-suppression")).to_be_visible()
    # the region's keys open the lesson (TLP:AMBER: the meeting reads it), under its stage,
    # or under "Stage not shown" while the stage's count is suppressed
    lessons = member.locator("section[aria-labelledby=h-lessons]")
    expect(lessons.locator("h3")).to_have_text(re.compile(r"In transit|Stage not shown"))
    expect(lessons).to_contain_text(SUMMARY_OK)
    _shot(member, "06-region-dashboard")
    member.goto(f"{stack.region.url}/region/AFR/{stack.month}/checklist")
    _shot(member, "07-region-checklist")


def _tab_to(page: Page, selector: str, limit: int = 400) -> None:
    """Press Tab until the element matching *selector* has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            "s => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
    pytest.fail(f"{selector} cannot be reached with the Tab key")


def test_the_journey_works_with_the_keyboard_alone(stack: Stack, browser: Browser) -> None:

    page = _page(browser)
    page.goto(stack.node.url + "/login")
    _tab_to(page, "#username")
    page.keyboard.type("kb-officer")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.type(stack.node.code("kb-officer"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/cases")
    _tab_to(page, "a[href='/cases/new']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/cases/new")
    _tab_to(page, "input[name=confidence]")
    page.keyboard.press("ArrowRight")  # the radio group: to "confirmed"
    _tab_to(page, "#in-region")
    page.keyboard.type("African")  # a closed list box selects by typing
    _tab_to(page, "#in-detected")
    page.keyboard.type(stack.month)
    for selector, keys in (
        ("#in-items-0-category", "Small arms"),
        ("#in-transfer_stage", "In transit"),
        ("#in-detection_source", "Customs"),
    ):
        _tab_to(page, selector)
        page.keyboard.type(keys)
    _tab_to(page, "#in-summary")
    page.keyboard.type("A broker used a shell company to re-export the rifles.")
    _tab_to(page, "button[value=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#case-status")).to_have_text("Awaiting approval")
    case_url = page.url

    approver = _page(browser)
    approver.goto(stack.node.url + "/login")
    _tab_to(approver, "#username")
    approver.keyboard.type("kb-approver")
    approver.keyboard.press("Tab")
    approver.keyboard.type(PASSWORD)
    approver.keyboard.press("Tab")
    approver.keyboard.type(stack.node.code("kb-approver"))
    approver.keyboard.press("Enter")
    approver.wait_for_url("**/cases")
    approver.goto(case_url)
    _tab_to(approver, "form[action$='/approve'] button")
    approver.keyboard.press("Enter")
    _wait_for_status(approver, "Applied")
    assert "Confirmed" in approver.locator("main").inner_text()


def _axe(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [v for v in result["violations"] if v["impact"] in {"serious", "critical"}]


def test_key_pages_have_no_serious_accessibility_violations(stack: Stack, browser: Browser) -> None:
    node = _page(browser, bypass_csp=True)  # axe is injected into the page
    node.goto(stack.node.url + "/login")
    _shot(node, "01-login")
    pages = {"login": _axe(node)}
    _login(node, stack.node, "axe-officer")
    for name, path in (("my-cases", "/cases"), ("case-form", "/cases/new"),
                       ("catalogue", "/catalogue?q=end-user"), ("import", "/import")):  # fmt: skip
        node.goto(stack.node.url + path)
        pages[name] = _axe(node)
    _shot(node, "08-catalogue-search")
    node.goto(stack.node.url + "/cases/new")
    node.fill("#in-summary", SUMMARY_BAD)
    node.click("button[value=submit]")
    pages["case-form-errors"] = _axe(node)
    region = _page(browser, bypass_csp=True)
    _login(region, stack.region, "axe-member")
    region.goto(f"{stack.region.url}/region/AFR/{stack.month}")
    pages["dashboard"] = _axe(region)
    region.goto(f"{stack.region.url}/region/AFR/{stack.month}/checklist")
    pages["checklist"] = _axe(region)
    found = {
        name: [(v["id"], v["impact"], len(v["nodes"])) for v in violations]
        for name, violations in pages.items()
        if violations
    }
    assert found == {}


def test_screenshots_are_written(stack: Stack) -> None:
    shots = sorted(p.name for p in SHOTS.glob("*.png"))
    print("screenshots in", SHOTS, ":", ", ".join(shots))  # noqa: T201  figures printed for the test log (pytest -s)
    assert shots

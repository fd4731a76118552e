"""``dief web --party secretariat`` with the Secretariat's keyring (issue 19): the portal runs
the Secretariat service in its own process over a real embedded broker. Digests of every
region arrive on ``dief.digests``; the service keeps them and publishes no summary by
itself; an editor asks and a second editor releases the cycle's summary, which the running
Secretariat signs and sends to ``csp.reporting`` (read back and verified). A directory
version asked and released in the registry page is on ``dief.directory`` with its bulletin
group key release on ``dief.bulletins``."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from dief.aggregator.store import CaseStore
from dief.broker import EmbeddedBroker
from dief.bulletins import BULLETINS_TOPIC, GROUP_KEY_PREFIX
from dief.catalogue import load_catalogue
from dief.cli.web import _with_secretariat
from dief.database import sqlite_url
from dief.digests import issue_every_digest
from dief.kafka import CSP_TOPIC, DIRECTORY_TOPIC, KafkaRecordSink, make_broker, read_to_end
from dief.keyring import KeyRole, SimulatedForum
from dief.portal import (
    LoginLimiter,
    Party,
    Portal,
    PortalDatabase,
    Role,
    SessionCodec,
    create_app,
)
from dief.portal._releases import ReleaseKind
from dief.secretariat import verify_summary
from dief.settings import KafkaSettings, KeyringSettings, SecretariatSettings
from dief.vocab import Region
from dief.wire import BulletinGroupKeyRelease
from tests.portal.conftest import PASSWORD, TODAY, Clock, Site, call_in
from tests.portal.test_secretariat_publication import post
from tests.unit.secretariat_support import fill

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PASSPHRASE = "wired-secretariat-test-passphrase"
CYCLE = "CSP12"  # the cycle the filled histories cover (with CSP11)
ACCOUNTS = [
    ("editor", (Role.SECRETARIAT_EDITOR,)),
    ("editor2", (Role.SECRETARIAT_EDITOR,)),
    ("admin", (Role.ADMINISTRATOR,)),
    ("admin2", (Role.ADMINISTRATOR,)),
]
WAIT_SECONDS = 60.0


@pytest.fixture(scope="module")
def broker() -> Iterator[EmbeddedBroker]:
    """An embedded broker of this module's own (it outlives the event loops that use it)."""
    running = EmbeddedBroker()
    asyncio.run(running.start())
    try:
        yield running
    finally:
        asyncio.run(running.stop())


def _kafka(broker: EmbeddedBroker) -> KafkaSettings:
    return KafkaSettings(bootstrap=broker.bootstrap, embedded=True)


async def _send_digests(broker: EmbeddedBroker, forum: SimulatedForum, folder: Path) -> None:
    """Every region's digests of random histories, sealed to the Secretariat and signed by
    each region's key, on ``dief.digests`` (as the aggregators send them)."""
    async with CaseStore(sqlite_url(folder / "aggregator.sqlite")) as store:
        await fill(store, seed=19)
        producer = make_broker(_kafka(broker), client_id="test-aggregators")
        await producer.connect()
        try:
            sink = KafkaRecordSink(producer)
            _, cycles = await issue_every_digest(
                store, forum, dict.fromkeys(Region, sink), catalogue=load_catalogue()
            )
        finally:
            await producer.stop()
    assert CYCLE in cycles


def _records(broker: EmbeddedBroker, topic: str) -> list[tuple[bytes, bytes]]:
    snapshot = asyncio.run(read_to_end(_kafka(broker), [topic], time_limit=20.0))
    return [(r.key or b"", r.value or b"") for r in snapshot.records]


def _wait(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {WAIT_SECONDS} s")
        time.sleep(0.2)


def _publishing(portal: Portal) -> bool:
    """Whether *portal* holds a running Secretariat's publisher (read through a call, so that
    the type checker keeps no narrowing of the attribute across the service's start)."""
    return portal.publisher is not None


@pytest.fixture
def wired(broker: EmbeddedBroker, tmp_path: Path) -> Iterator[Site]:
    forum = SimulatedForum.create(tmp_path / "forum", PASSPHRASE, nodes=("a",))
    secretariat = SecretariatSettings(
        kafka=_kafka(broker),
        keyring=KeyringSettings(path=tmp_path / "forum"),
        database_url=SecretStr(sqlite_url(tmp_path / "secretariat.sqlite")),
    )
    clock = Clock()
    portal = Portal(
        party=Party.SECRETARIAT,
        db=PortalDatabase(sqlite_url(tmp_path / "portal.sqlite")),
        codec=SessionCodec("s" * 48, idle_seconds=600, secure=True),
        limiter=LoginLimiter(5, 900),
        regions=tuple(Region),
        today=lambda: TODAY,
        clock=clock,
    )
    _with_secretariat(portal, secretariat, SecretStr(PASSPHRASE))
    assert not _publishing(portal)  # until the service has started with the portal
    with TestClient(create_app(portal), base_url="https://testserver") as client:
        assert portal.publisher is not None
        assert portal.registry is not None
        secrets: dict[str, str] = {}

        async def create() -> None:
            for name, roles in ACCOUNTS:
                secrets[name] = await portal.accounts.create(name, PASSWORD, roles)

        call_in(client, create)
        site = Site(client, portal, secrets, None, clock)  # type: ignore[arg-type]  # no node
        site.forum = forum  # type: ignore[attr-defined]  # the test's handle
        yield site
    assert not _publishing(portal)  # stopped with the portal


def _all_regions_held(site: Site) -> bool:
    assert site.portal.summaries is not None
    found = site.call(site.portal.summaries.cycle, CYCLE)
    return len(found.regions) == len(Region)


def _second(site: Site, name: str) -> None:
    """Sign in as *name* on the same client: a client of its own would run its requests on
    another event loop than the one the running service's broker client lives on."""
    assert site.login(name).status_code == 303


def _open(site: Site, kind: ReleaseKind) -> int:
    [held] = site.call(site.portal.releases.open, kind)
    return held.id


def test_a_summary_released_by_a_second_editor_is_signed_on_csp_reporting(
    wired: Site, broker: EmbeddedBroker
) -> None:
    forum: SimulatedForum = wired.forum  # type: ignore[attr-defined]  # the test's handle, set by the fixture
    before = [k for k, _ in _records(broker, CSP_TOPIC) if k == CYCLE.encode()]
    asyncio.run(_send_digests(broker, forum, forum.path.parent))
    _wait(lambda: _all_regions_held(wired), f"every region's {CYCLE} digest at the Secretariat")
    # complete, yet not published by the service itself: it waits for a second person
    assert [k for k, _ in _records(broker, CSP_TOPIC) if k == CYCLE.encode()] == before
    assert wired.login("editor").status_code == 303
    page = wired.client.get(f"/secretariat/{CYCLE}")
    assert page.status_code == 200
    assert "dief summary" not in page.text  # the portal publishes: no pointer to the CLI
    r = post(wired, f"/secretariat/{CYCLE}/publish", f"/secretariat/{CYCLE}")
    assert r.status_code == 303, r.text
    release = _open(wired, ReleaseKind.SUMMARY)
    r = post(wired, f"/secretariat/releases/{release}/release", f"/secretariat/{CYCLE}")
    assert r.status_code == 403  # the editor who asked cannot release it
    _second(wired, "editor2")
    r = post(wired, f"/secretariat/releases/{release}/release", f"/secretariat/{CYCLE}")
    assert r.status_code == 303, r.text
    [done] = wired.call(wired.portal.releases.recent)
    assert (done.state.value, done.outcome) == ("released", "issue 1"), done.outcome
    sent = [v for k, v in _records(broker, CSP_TOPIC) if k == CYCLE.encode()]
    assert len(sent) == len(before) + 1
    verified = verify_summary(sent[-1], forum.verify_keys(KeyRole.SECRETARIAT))
    assert verified.summary.cycle == CYCLE
    assert set(verified.summary.regions) == {r.value for r in Region}
    # the page now shows the published summary (the Secretariat's store recorded it)
    found = wired.call(wired.portal.summaries.cycle, CYCLE)  # type: ignore[union-attr]  # the Secretariat's portal has its summaries
    assert found.published


def test_a_directory_version_released_in_the_registry_goes_out_with_its_group_key(
    wired: Site, broker: EmbeddedBroker
) -> None:
    forum: SimulatedForum = wired.forum  # type: ignore[attr-defined]  # the test's handle, set by the fixture
    assert wired.login("admin").status_code == 303
    page = wired.client.get("/secretariat/registry")
    assert page.status_code == 200
    assert "started without the Secretariat" not in page.text
    assert forum.node("a").registration_kid in page.text
    r = post(wired, "/secretariat/registry/directory", "/secretariat/registry")
    assert r.status_code == 303, r.text
    release = _open(wired, ReleaseKind.DIRECTORY)
    _second(wired, "admin2")
    r = post(wired, f"/secretariat/releases/{release}/release", "/secretariat/registry")
    assert r.status_code == 303, r.text
    current = SimulatedForum.load(forum.path, PASSPHRASE).secretariat().current_directory()
    assert current is not None
    version = current.version
    assert version == 2
    directory = dict(_records(broker, DIRECTORY_TOPIC))
    assert directory[f"v{version}".encode()] == current.raw
    key = GROUP_KEY_PREFIX + f"v{version}".encode()
    releases = [v for k, v in _records(broker, BULLETINS_TOPIC) if k == key]
    assert releases, "no bulletin group key release for the new version"
    group = BulletinGroupKeyRelease.model_validate_json(releases[-1])
    assert group.directory_version == version

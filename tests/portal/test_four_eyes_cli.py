"""Four eyes for ``dief post`` and the intake folder (DESIGN §13, issue 19): with
``DIEF_FOUR_EYES=true`` a case is held awaiting approval in the node portal's drafts and is
sealed and queued only when a second officer (``dief approve DRAFT --by NAME``, or the
portal) releases it; the approver is never its author.

The node behind ``dief approve`` is a real :class:`~dief.node.NationalNode` with its outbox
(no broker): "queued" means a sealed entry in the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import pytest
from typer.testing import CliRunner, Result

import dief.cli.approve as approve_cli
from dief.cli import app
from dief.crypto import Sealer
from dief.crypto.keys import KemPrivateKey
from dief.database import sqlite_url
from dief.exceptions import ConfigurationError
from dief.kafka import cases_topic
from dief.keyring import NodeSecret
from dief.node import FileResult, NationalNode, NodeIdentity, Outbox, post_files, watch_intake
from dief.portal import (
    AccountStore,
    Draft,
    DraftState,
    DraftStore,
    NodeServiceGateway,
    PortalDatabase,
    Role,
    hold_file,
    read_deliveries,
    release_draft,
    totp_code,
)
from dief.screening import default_screener
from dief.settings import NodeSettings
from dief.testing import FakeClock, FakeCredentials
from dief.vocab import Region
from dief.wire import SUITE_X25519, TYPE_CASE
from producers.node import NodeService

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator
    from pathlib import Path

PASSWORD = "a long enough test password"
ATTRIBUTING = "The rifles were re-exported through Burkina Faso without a licence."


def _case(**overrides: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "confidence": "suspected",
        "region": "AFR",
        "detected": "2026-07",
        "items": [{"category": "small_arms", "quantity": 40}],
        "transfer_stage": "in_transit",
        "methods": ["falsified_documents"],
        "detection_source": "customs_border_control",
        "tlp": "green",
    }
    doc.update(overrides)
    return doc


@dataclass
class Desk:
    """The node's portal database, its officers' authenticator secrets, and the node."""

    root: Path
    db_url: str
    secrets: dict[str, str]
    outbox: Path
    opened: list[str] = field(default_factory=list)  # the node was started (for a release)
    logins: dict[str, int] = field(default_factory=dict)

    def code(self, name: str) -> str:
        """A fresh code for *name* (a code is spent once: the next step, within the drift)."""
        self.logins[name] = self.logins.get(name, -1) + 1
        return totp_code(self.secrets[name], time.time() + 30 * self.logins[name])

    def answers(self, name: str) -> str:
        return f"{PASSWORD}\n{self.code(name)}\n"

    def drafts(self) -> list[Draft]:
        async def read() -> list[Draft]:
            db = PortalDatabase(self.db_url)
            await db.start()
            try:
                return await DraftStore(db).all()
            finally:
                await db.stop()

        return asyncio.run(read())


def _node(outbox: Outbox) -> NationalNode:
    key = KemPrivateKey.generate(SUITE_X25519)
    sealers = {
        r: Sealer(type=TYPE_CASE, region=r.value, recipients=[key.public_key]) for r in Region
    }
    return NationalNode(
        NodeIdentity(NodeSecret("n", b"s" * 32)),
        outbox,
        sealers,
        {r: cases_topic(r) for r in Region},
        credentials=FakeCredentials(b"s" * 32),
        clock=FakeClock(1_795_343_832.0),
    )


@dataclass
class _Files:
    """The node's file intake, as :class:`NodeServiceGateway` calls it."""

    node: NationalNode
    outbox: Outbox

    async def post(self, paths: list[Path], *, again: bool = False) -> list[FileResult]:
        return await post_files(self.node, self.outbox, paths, again=again)


@contextlib.asynccontextmanager
async def real_node(desk: Desk) -> AsyncGenerator[tuple[Any, Any], None]:
    desk.opened.append("node")
    outbox = Outbox(desk.outbox)
    await outbox.start()
    try:
        service = cast("Any", _Files(_node(outbox), outbox))
        gateway = NodeServiceGateway(service, desk.outbox, desk.root / "handover")

        async def publish(_seconds: float) -> int:
            return 0

        yield gateway, publish
    finally:
        await outbox.stop()


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Desk:

    for name in [n for n in os.environ if n.startswith("DIEF_")]:
        monkeypatch.delenv(name)
    db_url = sqlite_url(tmp_path / "portal-node.sqlite")
    monkeypatch.setenv("DIEF_PORTAL_DATABASE_URL", db_url)
    monkeypatch.setenv("DIEF_PORTAL_WORK_DIR", str(tmp_path))
    monkeypatch.setenv("DIEF_WORK_DIR", str(tmp_path))
    monkeypatch.setenv("DIEF_OUTBOX", str(tmp_path / "outbox.sqlite"))
    monkeypatch.setenv("DIEF_FOUR_EYES", "true")
    secrets: dict[str, str] = {}

    async def accounts() -> None:
        db = PortalDatabase(db_url)
        await db.start()
        store = AccountStore(db, time.time)
        for name, roles in (
            ("ana", (Role.OFFICER,)),
            ("ben", (Role.OFFICER, Role.APPROVER)),
            ("cai", (Role.APPROVER,)),
        ):
            secrets[name] = await store.create(name, PASSWORD, roles)
        await db.stop()

    asyncio.run(accounts())
    found = Desk(tmp_path, db_url, secrets, tmp_path / "outbox.sqlite")

    monkeypatch.setattr(approve_cli, "open_node", lambda *_a: real_node(found))
    return found


def _write(path: Path, *docs: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


def _post(desk: Desk, by: str, *docs: dict[str, object]) -> Result:
    path = _write(desk.root / "cases.jsonl", *docs)
    return CliRunner().invoke(app, ["post", str(path), "--by", by], input=desk.answers(by))


def test_dief_post_holds_the_cases_and_seals_nothing(desk: Desk) -> None:
    done = _post(desk, "ana", _case(), _case(summary=ATTRIBUTING))
    assert done.exit_code == 1, done.output  # one line refused
    assert "cases.jsonl:1: awaiting approval as draft 1" in done.output
    assert "cases.jsonl:2: refused (screening)" in done.output
    assert "Burkina" not in done.output  # where and which kind, never the text
    [held] = desk.drafts()
    assert (held.state, held.author) == (DraftState.SUBMITTED, "ana")
    assert not desk.outbox.exists()  # the node was not even started: nothing sealed
    assert desk.opened == []


def test_dief_post_under_four_eyes_needs_a_signed_in_author(desk: Desk) -> None:
    path = _write(desk.root / "cases.jsonl", _case())
    no_name = CliRunner().invoke(app, ["post", str(path)])
    assert no_name.exit_code == 1
    assert "--by" in no_name.output
    wrong = CliRunner().invoke(
        app, ["post", str(path), "--by", "ana"], input=f"not the password\n{desk.code('ana')}\n"
    )
    assert wrong.exit_code == 1
    assert "could not be signed in" in wrong.output
    assert desk.drafts() == []
    assert not desk.outbox.exists()


def test_the_author_cannot_approve_their_own_case(desk: Desk) -> None:
    assert _post(desk, "ben", _case()).exit_code == 0
    own = CliRunner().invoke(app, ["approve", "1", "--by", "ben"], input=desk.answers("ben"))
    assert own.exit_code == 1
    assert "author" in own.output
    officer = CliRunner().invoke(app, ["approve", "1", "--by", "ana"], input=desk.answers("ana"))
    assert officer.exit_code == 1
    assert "only an approver" in officer.output
    [held] = desk.drafts()
    assert held.state is DraftState.SUBMITTED
    assert held.approver is None
    assert desk.opened == []
    assert not desk.outbox.exists()


def test_a_second_officer_releases_it_and_it_is_queued(desk: Desk) -> None:
    assert _post(desk, "ana", _case()).exit_code == 0
    listing = CliRunner().invoke(app, ["approve", "--list"])
    assert "draft 1: by ana, case in AFR, detected 2026-07" in listing.output
    done = CliRunner().invoke(app, ["approve", "1", "--by", "cai"], input=desk.answers("cai"))
    assert done.exit_code == 0, done.output
    assert "draft 1: released by cai: case " in done.output
    assert "(queued)" in done.output
    [released] = desk.drafts()
    assert (released.state, released.approver) == (DraftState.RELEASED, "cai")
    deliveries = read_deliveries(desk.outbox)
    assert released.case_id in deliveries
    assert deliveries[str(released.case_id)].status == "queued"
    again = CliRunner().invoke(app, ["approve", "1", "--by", "ben"], input=desk.answers("ben"))
    assert again.exit_code == 1
    assert "not awaiting approval" in again.output


def test_the_intake_folder_holds_a_file_until_a_second_officer_approves(desk: Desk) -> None:
    intake = desk.root / "intake"
    intake.mkdir()
    _write(intake / "drop.jsonl", _case(), _case(summary=ATTRIBUTING))

    async def scenario() -> tuple[list[Draft], dict[str, Any], Draft]:
        db = PortalDatabase(desk.db_url)
        await db.start()
        try:
            drafts = DraftStore(db)
            stop = asyncio.Event()

            async def hold(path: Path) -> FileResult:
                try:
                    return await hold_file(drafts, path, default_screener())
                finally:
                    stop.set()

            await asyncio.wait_for(watch_intake(intake, hold, stop, settle_seconds=0), 30)
            held = await drafts.all()
            before = read_deliveries(desk.outbox)
            approver = await AccountStore(db, time.time).verify("cai", PASSWORD, desk.code("cai"))
            assert approver is not None
            async with real_node(desk) as (gateway, _publish):
                after, _ = await release_draft(drafts, gateway, held[0], approver)
            return held, before, after
        finally:
            await db.stop()

    held, before, after = asyncio.run(scenario())
    assert (intake / "done" / "drop.jsonl").exists()
    rejected = (intake / "done" / "drop.jsonl.rejected.jsonl").read_text(encoding="utf-8")
    assert '"line": 2' in rejected
    assert "Burkina" not in rejected
    [draft] = held
    assert draft.state is DraftState.SUBMITTED
    assert draft.author == getpass.getuser()  # the file's owner: they cannot approve it
    assert before == {}  # held: nothing sealed, nothing queued
    assert after.state is DraftState.RELEASED
    assert read_deliveries(desk.outbox)[str(after.case_id)].status == "queued"


def test_the_node_never_posts_the_folder_directly_under_four_eyes(tmp_path: Path) -> None:

    settings = NodeSettings(
        four_eyes=True, intake_dir=tmp_path / "intake", outbox=tmp_path / "outbox.sqlite"
    )
    with pytest.raises(ConfigurationError, match="four eyes"):
        NodeService(settings, None)._intake_post()

"""``dief alerts`` and ``dief alerts watch`` through typer's CliRunner (node-local files)."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from typer.testing import CliRunner

from dief.bulletins import BULLETINS_TOPIC, BulletinStore, OpenedBulletins
from dief.cli import app
from dief.node import Outbox
from dief.wire import BulletinEntry

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()

_ENTRY = BulletinEntry(
    bulletin_id="a" * 32,
    action="publish",
    kind="alert",
    item_categories=("small_arms",),
    end_user_type="criminal_organization",
    transfer_stage="in_transit",
    methods=("falsified_documents",),
    route_regions=("AFR", "WEOG"),
    risk_indicators=("DOC-01",),
    month="2026-07",
    lesson="Check the end-user certificate against the issuing authority.",
)


def _keep(outbox: Path, *entries: BulletinEntry) -> None:
    """Put *entries* in the node's store, as its follower does."""

    async def keep() -> None:
        box = Outbox(outbox)
        await box.start()
        try:
            batch = OpenedBulletins("AFR", "2026-07-01T10:00Z", entries)
            await BulletinStore(box).apply([batch], [], {0: 1}, topic=BULLETINS_TOPIC)
        finally:
            await box.stop()

    asyncio.run(keep())


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_watches_are_added_listed_matched_and_removed(tmp_path: Path) -> None:
    outbox = str(tmp_path / "outbox.sqlite")
    _keep(tmp_path / "outbox.sqlite", _ENTRY)
    hit = _run(
        "alerts",
        "watch",
        "add",
        "--item-category",
        "small_arms",
        "--route-region",
        "weog",
        "--outbox",
        outbox,
    ).strip()
    _run("alerts", "watch", "add", "--indicator", "END-01", "--outbox", outbox)
    listed = _run("alerts", "watch", "list", "--outbox", outbox)
    assert hit in listed
    assert "route regions: WEOG" in listed
    shown = _run("alerts", "--outbox", outbox)  # the store, not the topic: no broker
    assert f"watch {hit}" in shown
    assert "item categories: small_arms; route regions: WEOG" in shown
    assert "DOC-01:" in shown
    (row,) = [
        json.loads(line)
        for line in _run("alerts", "--no-read", "--json", "--outbox", outbox).splitlines()
    ]
    assert [w["watch"] for w in row["watches"]] == [hit]
    assert row["questions"][0]["indicator"] == "DOC-01"
    assert row["questions"][0]["question"]
    _run("alerts", "watch", "remove", hit, "--outbox", outbox)
    assert hit not in _run("alerts", "watch", "list", "--outbox", outbox)
    assert runner.invoke(app, ["alerts", "watch", "remove", hit, "--outbox", outbox]).exit_code != 0


def test_a_watch_with_no_value_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["alerts", "watch", "add", "--outbox", str(tmp_path / "o.sqlite")])
    assert result.exit_code != 0


def test_no_bulletins_says_so(tmp_path: Path) -> None:
    assert "No bulletins" in _run("alerts", "--no-read", "--outbox", str(tmp_path / "o.sqlite"))

"""``dief audit --outbox``: the bulletins a reader knows, read from its node's store (the
bulletin store in the node's outbox file, which the running node's follower writes and
``dief alerts`` lists) rather than from a board file nothing writes any more."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from dief.bulletins import BULLETINS_TOPIC, BulletinStore, OpenedBulletins
from dief.cli import app
from dief.node import Outbox
from dief.wire import BulletinEntry
from tests.unit.test_audit_bulletins import _facts, _folder

if TYPE_CHECKING:
    from pathlib import Path


def _entry(n: int, *, action: str = "publish") -> BulletinEntry:
    facts = {k: v for k, v in _facts("b", bulletin_id=f"{n:032x}").items() if v is not None}
    if action == "retract":
        return BulletinEntry(bulletin_id=facts["bulletin_id"], action="retract")
    return BulletinEntry.model_validate(facts)


def _keep(outbox: Path, *entries: BulletinEntry) -> None:
    """Put *entries* in the node's store, as its follower does."""

    async def keep() -> None:
        box = Outbox(outbox)
        await box.start()
        try:
            batch = OpenedBulletins("AFR", "2025-11-02T10:00Z", entries)
            await BulletinStore(box).apply([batch], [], {0: 1}, topic=BULLETINS_TOPIC)
        finally:
            await box.stop()

    asyncio.run(keep())


def _audit(tmp_path: Path, *options: str) -> tuple[int, str]:
    out = _folder(tmp_path)  # October: transfer_stage b hidden, in [1, 4]
    result = CliRunner().invoke(app, ["audit", str(out), "--region", "AFR", *options])
    return result.exit_code, result.output


@pytest.mark.parametrize(("published", "retracted", "code"), [(0, 0, 0), (4, 0, 1), (4, 1, 0)])
def test_the_cli_reads_the_bulletins_in_force_from_the_nodes_store(
    tmp_path: Path, published: int, retracted: int, code: int
) -> None:
    """Four bulletins of stage b pin October's b at 4 (exit 1); with one retracted, three
    leave it in [3, 4] (narrowed, not determined: exit 0)."""
    outbox = tmp_path / "outbox.sqlite"
    entries = [_entry(n) for n in range(published)]
    entries += [_entry(n, action="retract") for n in range(retracted)]
    _keep(outbox, *(entries or [_entry(99, action="retract")]))
    assert _audit(tmp_path, "--outbox", str(outbox))[0] == code


def test_a_missing_outbox_or_two_sources_are_refused(tmp_path: Path) -> None:
    code, output = _audit(tmp_path, "--outbox", str(tmp_path / "none.sqlite"))
    assert (code, "no node outbox file" in output) == (1, True)
    assert not (tmp_path / "none.sqlite").exists()  # never created by reading
    board = tmp_path / "board.json"
    board.write_text('{"live": [], "retracted": []}', encoding="utf-8")
    outbox = tmp_path / "outbox.sqlite"
    _keep(outbox, _entry(1))
    code, output = _audit(tmp_path, "--outbox", str(outbox), "--bulletins", str(board))
    assert (code, "not both" in output) == (1, True)
    assert _audit(tmp_path, "--bulletins", str(board))[0] == 0

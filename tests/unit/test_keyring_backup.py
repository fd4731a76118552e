"""A national node's backup (DESIGN §4 ⚑): ``dief keys backup`` / ``dief keys restore``.

The backup holds everything the node needs to go on — its secret, registration and KEM keys,
its case index (derived ids, index, region, cycle, latest revision, the practitioner's own
reference) and its contributor tokens — sealed under the node's passphrase. The test posts,
backs up, wipes the node's folder, outbox and wallet, restores, and revises every case, by
the practitioner's reference and by the derived id: the same case ids, revisions continue,
owner signatures that verify, no token asked again.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import stat
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from dief.catalogue import load_catalogue
from dief.cli import app
from dief.credentials import Issuer, IssuerKey, MemoryLedger, TokenWallet, registrations_of
from dief.crypto import Opener
from dief.keyring import KeyRole, NodeKeys, SimulatedForum
from dief.node import NationalNode, NodeIdentity, Outbox, SubmitReport
from dief.periods import CspCycle, Month
from dief.vocab import Region
from dief.wire import CaseRecord, ownership_problem, parse_case
from tests.unit.record_helpers import clear_text

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

PASS = "node backup passphrase"
REFERENCE = "0b6a3f7e-1111-4222-8333-444455556666"
TODAY = date(2026, 11, 22)
DETECTED = "2026-07-14"
CYCLE = str(CspCycle.of(Month(2026, 7)))
REGIONS = (Region.AFR, Region.EEG)
ENV: dict[str, str | None] = {
    "DIEF_KEYRING__PASSPHRASE": PASS,
    "DIEF_KEYRING__PASSPHRASE_FILE": None,
    "DIEF_KEYRING__PATH": None,
    "DIEF_OUTBOX": None,
    "DIEF_CREDENTIALS_FILE": None,
    "DIEF_DIRECTORY__FILE": None,
    "DIEF_DIRECTORY__ROOT_FINGERPRINT": None,
    "DIEF_DIRECTORY__ROOT_FINGERPRINT_FILE": None,
    "COLUMNS": "200",
}


def _case(**overrides: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "confidence": "suspected",
        "region": "AFR",
        "detected": DETECTED,
        "items": [{"category": "small_arms", "quantity": 40}],
        "transfer_stage": "in_transit",
        "methods": ["falsified_documents"],
        "detection_source": "customs_border_control",
        "risk_indicators": ["DOC-01"],
    }
    doc.update(overrides)
    return doc


@dataclass
class Node:
    """One running node: its folder, outbox and wallet files."""

    folder: Path
    outbox_path: Path
    wallet_path: Path


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory) -> SimulatedForum:
    return SimulatedForum.create(
        tmp_path_factory.mktemp("forum") / "forum", PASS, nodes=["n1"], cycles=[CYCLE]
    )


async def _issue_tokens(forum: SimulatedForum, keys: NodeKeys, wallet: TokenWallet) -> None:
    sec = forum.secretariat()
    issuer = Issuer(
        [
            IssuerKey(CYCLE, r.value, sec.issuer_private_key(CYCLE, r.value), simulation=True)
            for r in REGIONS
        ],
        registrations_of(sec),
        MemoryLedger(),
    )
    for region in REGIONS:
        request = wallet.request(CYCLE, region.value)
        blind = await issuer.sign(
            keys.registration_kid, request.issuer_kid, CYCLE, region.value, request.blinded
        )
        wallet.accept(request.issuer_kid, blind)


async def _submit(
    forum: SimulatedForum, node: Node, *docs: Mapping[str, object], issue: bool = False
) -> tuple[SubmitReport, list[CaseRecord], int]:
    """Post *docs* from *node* (its own keyring, outbox and wallet; with *issue*, the issuer
    signs its tokens first); what it said, the records now in the outbox (opened with the
    regions' keys) and the cases held for a token."""
    keys = NodeKeys.load(node.folder, passphrase=PASS)
    secret = keys.node_secret("node")
    outbox = Outbox(node.outbox_path)
    await outbox.start()
    try:
        with TokenWallet(
            secret, forum.directory.issuer_key, path=node.wallet_path, simulation=True
        ) as wallet:
            if issue:
                await _issue_tokens(forum, keys, wallet)
            national = NationalNode.for_regions(
                NodeIdentity(secret),
                outbox,
                {r: forum.sealing_keys(KeyRole.REGION, r.value) for r in Region},
                credentials=wallet,
                start_month=9,
                catalogue_version=load_catalogue().version,
            )
            items = [(n, parse_case(dict(d), line=n, today=TODAY)) for n, d in enumerate(docs, 1)]
            report = await national.submit(items)
        records = []
        for pending in await outbox.pending(100):
            region = pending.entry.topic.split(".")[1].upper()
            opened = Opener(forum.opening_keys(KeyRole.REGION, region)).open(pending.entry.value)
            record = json.loads(opened.payload)
            assert ownership_problem(record, opened.id) is None  # an aggregator accepts it
            records.append(CaseRecord.model_validate(record))
        return report, records, outbox.held_count
    finally:
        await outbox.stop()


async def _keys(*args: str, env: Mapping[str, str | None] | None = None) -> tuple[int, str]:
    """``dief keys ARGS`` as from a shell (in a thread: the command runs its own loop)."""
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["keys", *args], env={**ENV, **(env or {})}
    )
    return result.exit_code, result.output


def _node(base: Path, forum: SimulatedForum) -> Node:
    folder = base / "node"
    shutil.copytree(forum.node_path("n1"), folder)
    return Node(folder, base / "outbox.sqlite", base / "outbox.tokens.sqlite")


def _files(node: Node) -> list[str]:
    return ["--outbox", str(node.outbox_path), "--wallet", str(node.wallet_path)]


def _pinned(forum: SimulatedForum) -> list[str]:
    return [
        "--directory",
        str(forum.path / "directory.json"),
        "--root-fingerprint",
        forum.root_fingerprint,
    ]


def _wipe(node: Node) -> None:
    shutil.rmtree(node.folder)
    for path in node.outbox_path.parent.glob(node.outbox_path.name + "*"):
        path.unlink()
    for path in node.wallet_path.parent.glob(node.wallet_path.name + "*"):
        path.unlink()


async def _post_and_back_up(forum: SimulatedForum, base: Path) -> tuple[Node, Path, list[str]]:
    node = _node(base, forum)
    first, _records, held = await _submit(
        forum,
        node,
        _case(case_id=REFERENCE),
        _case(region="EEG", confidence="confirmed"),
        issue=True,
    )
    assert held == 0
    ids = [a.case_id for a in first.accepted]
    second, _records, _held = await _submit(forum, node, _case(case_id=REFERENCE, tlp="green"))
    assert [(a.case_id, a.revision) for a in second.accepted] == [(ids[0], 2)]
    backup = base / "node.backup"
    code, output = await _keys("backup", str(node.folder), "--out", str(backup), *_files(node))
    assert code == 0, output
    assert "2 cases" in output
    assert "2 tokens" in output
    return node, backup, ids


async def test_a_restored_node_revises_every_case_it_posted(
    forum: SimulatedForum, tmp_path: Path
) -> None:
    node, backup, ids = await _post_and_back_up(forum, tmp_path)
    raw = backup.read_bytes()
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    for clear in (REFERENCE, *ids):  # the index is sealed, not in clear
        assert clear.encode() not in raw
    # (the five-letter cycle, outside the random fields: in them it turns up by chance)
    assert CYCLE not in clear_text(raw)
    _wipe(node)
    code, output = await _keys(
        "restore", str(backup), str(node.folder), *_files(node), *_pinned(forum)
    )
    assert code == 0, output
    assert "2 cases" in output
    assert "2 tokens" in output
    report, records, held = await _submit(
        forum,
        node,
        _case(case_id=REFERENCE, confidence="confirmed"),  # the practitioner's own reference
        _case(case_id=ids[1], region="EEG", status="withdrawn"),  # the derived id
    )
    assert report.rejected == []
    assert [(a.case_id, a.revision) for a in report.accepted] == [(ids[0], 3), (ids[1], 2)]
    assert held == 0  # the tokens came back: nothing waits for the issuer
    assert {(r.case_id, r.revision) for r in records} == {(ids[0], 3), (ids[1], 2)}
    # a new case after the restore is a new case, with an index of its own
    fresh, _records, _held = await _submit(forum, node, _case())
    assert fresh.accepted[0].case_id not in ids


async def test_restored_with_unknown_revisions_a_revision_must_be_given(
    forum: SimulatedForum, tmp_path: Path
) -> None:
    """A backup older than the last revision posted: restore with --unknown-revisions, and
    the node refuses to revise a case until the practitioner gives the revision."""
    node, backup, ids = await _post_and_back_up(forum, tmp_path)
    _wipe(node)
    args = ["restore", str(backup), str(node.folder), *_files(node), *_pinned(forum)]
    code, output = await _keys(*args, "--unknown-revisions")
    assert code == 0, output
    refused, _records, _held = await _submit(forum, node, _case(case_id=REFERENCE))
    assert [r.reason for r in refused.rejected] == ["unknown_revision"]
    refused, _records, _held = await _submit(forum, node, _case(case_id=ids[1], region="EEG"))
    assert [r.reason for r in refused.rejected] == ["unknown_revision"]
    given, records, _held = await _submit(forum, node, _case(case_id=REFERENCE, revision=7))
    assert [(a.case_id, a.revision) for a in given.accepted] == [(ids[0], 7)]
    assert [(r.case_id, r.revision) for r in records] == [(ids[0], 7)]


async def test_backup_and_restore_refusals(forum: SimulatedForum, tmp_path: Path) -> None:
    node = _node(tmp_path, forum)
    backup = tmp_path / "node.backup"
    # no outbox: refused, unless the keys alone are wanted (a node that never posted)
    code, output = await _keys("backup", str(node.folder), "--out", str(backup), *_files(node))
    assert code == 1
    assert "--keys-only" in output
    assert not backup.exists()
    code, output = await _keys(
        "backup", str(node.folder), "--out", str(backup), *_files(node), "--keys-only"
    )
    assert code == 0, output
    # a region's keyring is not a node's
    region = forum.path / "regions" / "AFR"
    code, output = await _keys("backup", str(region), "--out", str(tmp_path / "x"), "--keys-only")
    assert code == 1
    # the backup is sealed under the node's passphrase: another one does not open it
    code, output = await _keys(
        "restore",
        str(backup),
        str(tmp_path / "other"),
        *_files(node),
        env={"DIEF_KEYRING__PASSPHRASE": "not the passphrase"},
    )
    assert code == 1
    assert "--backup-passphrase-file" in output
    assert not (tmp_path / "other" / "keys.json").exists()
    # never over an existing keyring
    code, output = await _keys("restore", str(backup), str(node.folder), *_files(node))
    assert code == 1
    assert "exists" in output


async def test_tokens_need_the_signed_directory_to_come_back(
    forum: SimulatedForum, tmp_path: Path
) -> None:
    """Restored tokens are checked under the directory's issuer keys; without a directory
    they are left out and the restore says so (the node then asks the issuer again, with
    the identical request, which the issuer answers again)."""
    node, backup, ids = await _post_and_back_up(forum, tmp_path)
    _wipe(node)
    code, output = await _keys("restore", str(backup), str(node.folder), *_files(node))
    assert code == 0, output
    assert "tokens not restored" in " ".join(output.split())
    report, _records, held = await _submit(forum, node, _case(case_id=REFERENCE))
    assert [(a.case_id, a.revision) for a in report.accepted] == [(ids[0], 3)]
    assert held == 1  # the revision waits for its token

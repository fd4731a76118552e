"""The node never misreports what became of a file's cases.

Issue: aggregator integrity and node intake. Each test is a reproduction of a misreport of
the earlier node:

- a file whose cases were refused was recorded as posted, so posting it again said
  "already posted (same bytes); skipped" and exited 0;
- re-posting a corrected, partly refused file posted its good case a second time, under a
  new case id, without a word;
- and a fix must not merge two cases of one file that read alike.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING

import pytest

from dief.crypto import Sealer
from dief.crypto.keys import KemPrivateKey
from dief.kafka import cases_topic
from dief.keyring import NodeSecret
from dief.node import NationalNode, NodeIdentity, Outbox
from dief.testing import FakeClock, FakeCredentials
from dief.vocab import Region
from dief.wire import SUITE_X25519, TYPE_CASE, CaseInput, load_cases

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from dief.exceptions import ValidationError

TODAY = date(2026, 11, 22)
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
    }
    doc.update(overrides)
    return doc


@pytest.fixture
async def outbox(tmp_path: Path) -> AsyncIterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite")
    await box.start()
    yield box
    await box.stop()


@pytest.fixture
def node(outbox: Outbox) -> NationalNode:
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


def _file(path: Path, *docs: dict[str, object]) -> list[tuple[int, CaseInput | ValidationError]]:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return list(load_cases(path, today=TODAY))


async def test_a_file_with_a_refused_line_is_not_recorded_as_posted(
    node: NationalNode, outbox: Outbox, tmp_path: Path
) -> None:
    items = _file(tmp_path / "mixed.jsonl", _case(), _case(summary=ATTRIBUTING))
    first = await node.submit(items, source="digest-of-the-file")
    assert [a.line for a in first.accepted] == [1]
    assert [r.line for r in first.rejected] == [2]
    outbox = node._outbox
    assert not await outbox.seen("digest-of-the-file")


async def test_reposting_a_corrected_file_does_not_send_its_good_case_twice(
    node: NationalNode, outbox: Outbox, tmp_path: Path
) -> None:
    first = await node.submit(_file(tmp_path / "a.jsonl", _case(), _case(summary=ATTRIBUTING)))
    [sent] = first.accepted
    fixed = _case(summary="The shipment was re-exported without a licence.")
    second = await node.submit(_file(tmp_path / "a.jsonl", _case(), fixed))
    assert [(p.line, p.case_id, p.revision) for p in second.already] == [(1, sent.case_id, 1)]
    assert [a.line for a in second.accepted] == [2]
    assert second.rejected == []
    outbox = node._outbox
    assert (await outbox.counts())[0] == 2  # two records pending, not three


async def test_the_same_input_twice_is_two_cases_and_both_are_known_on_a_repost(
    node: NationalNode, tmp_path: Path
) -> None:
    # Two incidents can read alike: each line of a file is a case of its own. Posting the
    # file again finds both, each with the id it received.
    first = await node.submit(_file(tmp_path / "twice.jsonl", _case(), _case()))
    assert len({a.case_id for a in first.accepted}) == 2
    again = await node.submit(_file(tmp_path / "twice.jsonl", _case(), _case(), _case()))
    assert [(p.line, p.case_id) for p in again.already] == [
        (a.line, a.case_id) for a in first.accepted
    ]
    assert [a.line for a in again.accepted] == [3]


async def test_again_posts_a_known_case_as_a_new_one(node: NationalNode, tmp_path: Path) -> None:
    first = await node.submit(_file(tmp_path / "a.jsonl", _case()))
    again = await node.submit(_file(tmp_path / "a.jsonl", _case()), again=True)
    assert again.already == []
    assert [a.case_id for a in again.accepted] != [a.case_id for a in first.accepted]


async def test_revisions_and_withdrawals_are_never_taken_for_reposts(
    node: NationalNode, tmp_path: Path
) -> None:
    [sent] = (await node.submit(_file(tmp_path / "a.jsonl", _case()))).accepted
    withdraw = _case(case_id=sent.case_id, status="withdrawn")
    report = await node.submit(_file(tmp_path / "b.jsonl", withdraw, _case(case_id=sent.case_id)))
    assert [(a.line, a.revision) for a in report.accepted] == [(1, 2), (2, 3)]
    assert report.already == []

"""Poison records (DESIGN §2, §8 ⚑): each bad record on ``dief.afr.cases`` goes to
``dief.afr.dlq`` unchanged, with its reason code and source coordinates in the headers;
the good records around it are applied; the dead-letter counts are in the store."""

from __future__ import annotations

import base64
import json
import uuid
from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CaseStore
from dief.database import sqlite_url
from dief.kafka import cases_topic, dlq_topic
from dief.seams import DLQ_HEADERS, OutboxEntry
from dief.vocab import Region
from tests.integration._pipeline_helpers import (
    Forum,
    Nodes,
    case_doc,
    expected_cells,
    periods_of,
    publish_raw,
    read_topic,
    running_aggregators,
    store_cells,
)

if TYPE_CHECKING:
    from pathlib import Path

    from tests.integration._brokers import BrokerStack

pytestmark = pytest.mark.integration

AFR_CASES = cases_topic(Region.AFR)
MAX_VALUE = 256 * 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def flip_ciphertext_byte(value: bytes) -> bytes:
    envelope = json.loads(value)
    raw = bytearray(_unb64(envelope["ciphertext"]))
    raw[len(raw) // 2] ^= 0x01
    envelope["ciphertext"] = _b64(bytes(raw))
    return json.dumps(envelope, separators=(",", ":")).encode()


def entry(value: bytes, key: bytes | None = None) -> OutboxEntry:
    return OutboxEntry(AFR_CASES, key or str(uuid.uuid4()).encode(), value, 0)


async def test_poison_records_are_dead_lettered(tmp_path: Path, broker_stack: BrokerStack) -> None:
    forum = Forum(tmp_path / "keys")
    good = [case_doc(f"N{i % 3}", "AFR", methods=["corruption"]) for i in range(6)]
    # Documents only ever published in a spoiled form (never counted).
    spoiled = [case_doc("N0", "AFR") for _ in range(4)]
    apg_case = case_doc("N1", "APG")
    async with (
        broker_stack.running() as broker,
        CaseStore(sqlite_url(tmp_path / "a.sqlite")) as store,
    ):
        nodes = Nodes(forum, broker, tmp_path / "nodes")
        try:
            await nodes.post(good[:3])
            base = [nodes.seal_as("N0", d) for d in spoiled]
            wrong_key = forum.sealer("AFR", keys_of="APG")
            mislabelled = forum.sealer("APG", keys_of="AFR")
            # An APG case sealed to AFR's key and sent on AFR's topic.
            apg_on_afr = nodes.seal_as("N1", apg_case, sealer=forum.sealer("AFR"))
            bad: dict[str, tuple[str, OutboxEntry]] = {
                "tampered": ("authentication_failed", entry(flip_ciphertext_byte(base[0].value))),
                "truncated": ("malformed", entry(base[1].value[: len(base[1].value) // 2])),
                "wrong_key": ("no_recipient_key", entry(wrong_key.seal(b"{}"))),
                "oversized": ("oversized", entry(base[2].value + b" " * MAX_VALUE)),
                "non_json": ("malformed", entry(b"\xff\xfe this is not JSON")),
                "wrong_region_envelope": (
                    "wrong_region",
                    entry(mislabelled.seal(json.dumps({"x": 1}).encode())),
                ),
                "apg_case_on_afr": ("wrong_region", entry(apg_on_afr.value, key=apg_on_afr.key)),
                "key_mismatch": ("key_mismatch", entry(base[3].value, key=b"not-the-case-id")),
            }
            placed = await publish_raw(broker, [e for _, e in bad.values()])
            await nodes.post(good[3:])
            total = 6 + len(bad)

            async with running_aggregators(broker, forum, store, regions=[Region.AFR]) as processed:
                await processed.wait_for(total)
            assert processed.outcomes["applied"] == 6
            assert processed.outcomes.total() == total

            letters = await read_topic(broker, dlq_topic(Region.AFR), len(bad))
            assert len(letters) == len(bad)
            by_key = {r.key: r for r in letters}
            for (name, (reason, sent)), meta in zip(bad.items(), placed, strict=True):
                letter = by_key[sent.key]
                headers = {k: v.decode() for k, v in letter.headers}
                assert set(DLQ_HEADERS) <= set(headers), name
                assert headers["dief-reason"] == reason, name
                assert headers["dief-source-topic"] == AFR_CASES, name
                assert int(headers["dief-source-partition"]) == meta.partition, name
                assert int(headers["dief-source-offset"]) == meta.offset, name
                assert letter.value == sent.value, name  # unchanged, byte for byte
                assert letter.timestamp % 3_600_000 == 0, name  # coarsened to the hour
            oversized = by_key[bad["oversized"][1].key]
            assert len(oversized.value) > MAX_VALUE

            assert await store.dead_letter_counts("AFR") == {
                "authentication_failed": 1,
                "malformed": 2,
                "no_recipient_key": 1,
                "oversized": 1,
                "wrong_region": 2,
                "key_mismatch": 1,
            }
            expected = expected_cells(good)
            assert await store_cells(store, "AFR", periods_of(expected)) == expected["AFR"]
        finally:
            await nodes.close()

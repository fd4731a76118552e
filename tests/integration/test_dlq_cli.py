"""``dief dlq list|show|replay`` on the real embedded broker, through typer's CliRunner.

One broker for the module (``module_broker``: empty DIEF topics, the aggregator's consumer
groups to ourselves). Bad records are published to the AFR and APG cases topics and a real
:class:`RegionAggregator` dead-letters them; one valid record is put on the AFR DLQ directly
(as if the database had refused it, and remembered so in the store), so a replay can be
applied. The aggregators keep running for the whole module, so a replayed record that is
still bad comes back on the DLQ.

The CLI runs in a worker thread (``asyncio.to_thread``): it runs its own event loop, while
the module's loop keeps the aggregators alive. Every check that a payload never shows looks
for the key, the value's base64 and hex, and the envelope's fields in the output.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner, Result

import dief.cli.dlq as dlq_cli
from dief.aggregator import REASONS, dedupe_key
from dief.aggregator.store import CaseStore
from dief.cli import app
from dief.database import sqlite_url
from dief.exceptions import BrokerError
from dief.kafka import (
    KafkaDeadLetterSink,
    TopicSpec,
    cases_topic,
    ensure_topics,
    make_broker,
    read_to_end,
)
from dief.seams import HOUR_MS, DeadLetter, InboundRecord, OutboxEntry
from dief.settings import KafkaSettings
from dief.vocab import Region
from tests.integration._pipeline_helpers import (
    Forum,
    Nodes,
    Processed,
    case_doc,
    publish_raw,
    running_aggregators,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence
    from pathlib import Path

    from dief.broker import EmbeddedBroker

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

AFR_CASES = cases_topic(Region.AFR)
APG_CASES = cases_topic(Region.APG)
REPLAY_WAIT = 30.0  # a still-bad record comes back in well under a second


@dataclass(frozen=True, slots=True)
class Bad:
    """A record on the DLQ: the entry that was sent, the reason, where it came from."""

    reason: str
    region: Region
    entry: OutboxEntry
    source_partition: int
    source_offset: int

    @property
    def ref(self) -> str:
        return dedupe_key(self.entry.value)


@dataclass(frozen=True, slots=True)
class Stack:
    bootstrap: str
    bad: dict[str, Bad]
    processed: Processed

    def cli(self, *args: str, input: str | None = None) -> Result:  # noqa: A002  the name CliRunner.invoke gives the standard input
        return CliRunner().invoke(
            app, ["dlq", *args, "--bootstrap", self.bootstrap, "--embedded"], input=input
        )

    async def run(self, *args: str, input: str | None = None) -> Result:  # noqa: A002  the name CliRunner.invoke gives the standard input
        return await asyncio.to_thread(self.cli, *args, input=input)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _tampered(value: bytes) -> bytes:
    envelope = json.loads(value)
    raw = bytearray(_unb64(envelope["ciphertext"]))
    raw[len(raw) // 2] ^= 0x01
    envelope["ciphertext"] = _b64(bytes(raw))
    return json.dumps(envelope, separators=(",", ":")).encode()


def _entry(topic: str, value: bytes, key: bytes | None = None) -> OutboxEntry:
    return OutboxEntry(topic, key or str(uuid.uuid4()).encode(), value, 0)


def _secrets(entries: Sequence[OutboxEntry]) -> list[str]:
    """Strings that would show a key or a payload: the key, the value's base64 (both
    alphabets) and hex, a readable stretch of it, every long string in its envelope."""
    found: list[str] = []
    for e in entries:
        found.append(e.key.decode("utf-8", errors="replace"))
        for encoded in (
            base64.b64encode(e.value).decode(),
            base64.urlsafe_b64encode(e.value).decode(),
        ):
            found.extend(encoded[i : i + 24] for i in range(0, min(len(encoded), 480), 24))
        found.extend((e.value.hex()[:24], e.value.hex()[-24:]))
        try:
            envelope = json.loads(e.value)
        except ValueError:
            text = e.value.decode("utf-8", errors="ignore").strip()
            if len(text) >= 8:
                found.append(text[:16])
            continue
        if isinstance(envelope, dict):
            found.extend(
                v[:24] for v in _strings(envelope) if len(v) >= 16 and not v.startswith("dief.")
            )
    return found


def _strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


def assert_no_payload(output: str, stack: Stack) -> None:
    for secret in _secrets([b.entry for b in stack.bad.values()]):
        assert secret not in output, f"a key or payload fragment is in the output: {secret!r}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    module_broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    tmp: Path = tmp_path_factory.mktemp("dlq")
    bootstrap = module_broker.bootstrap
    forum = Forum(tmp / "keys")
    nodes = Nodes(forum, bootstrap, tmp / "nodes")
    try:
        async with (
            CaseStore(sqlite_url(tmp / "aggregator.sqlite")) as store,
            running_aggregators(
                bootstrap, forum, store, regions=[Region.AFR, Region.APG]
            ) as processed,
        ):
            sealed = [nodes.seal_as("N0", case_doc("N0", "AFR")) for _ in range(2)]
            bad = {
                "tampered": (
                    "authentication_failed",
                    _entry(AFR_CASES, _tampered(sealed[0].value)),
                ),
                "non_json": ("malformed", _entry(AFR_CASES, b"\xff\xfe this is not JSON at all")),
                "key_mismatch": (
                    "key_mismatch",
                    _entry(AFR_CASES, sealed[1].value, key=b"not-the-case-id"),
                ),
                "wrong_key": (
                    "no_recipient_key",
                    _entry(APG_CASES, forum.sealer("APG", keys_of="AFR").seal(b"{}")),
                ),
            }
            placed = await publish_raw(bootstrap, [e for _, e in bad.values()])
            stored = {
                name: Bad(
                    reason,
                    Region.AFR if e.topic == AFR_CASES else Region.APG,
                    e,
                    m.partition,
                    m.offset,
                )
                for (name, (reason, e)), m in zip(bad.items(), placed, strict=True)
            }
            await processed.wait_for(len(bad))
            assert processed.outcomes.total() == len(bad), processed.outcomes

            # A valid record, never applied, on the DLQ as if the database had refused it.
            valid = nodes.seal_as("N1", case_doc("N1", "AFR"))
            sink_broker = make_broker(KafkaSettings(bootstrap=bootstrap, embedded=True))
            await sink_broker.start()
            try:
                source = InboundRecord(AFR_CASES, 0, 4242, valid.key, valid.value)
                letter = DeadLetter(source, "database_refused", "test: refused once")
                await KafkaDeadLetterSink(sink_broker, Region.AFR).send([letter])
            finally:
                await sink_broker.stop()
            # ... and remembered as dead-lettered, as the aggregator does in that transaction
            await store.apply_batch("AFR", [], dead=[(dedupe_key(valid.value), letter.reason)])
            stored["valid"] = Bad("database_refused", Region.AFR, valid, 0, 4242)
            yield Stack(bootstrap, stored, processed)
    finally:
        await nodes.close()


def _rows(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


async def test_list_shows_reasons_and_coordinates_never_payloads(stack: Stack) -> None:
    result = await stack.run("list", "--region", "AFR", "--region", "APG")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for bad in stack.bad.values():
        assert bad.ref in out
        assert bad.reason in out
    assert f"{AFR_CASES}[{stack.bad['tampered'].source_partition}]" in out
    assert "5 dead letters: authentication_failed 1, database_refused 1, key_mismatch 1, " in out
    assert "malformed 1, no_recipient_key 1" in out
    assert_no_payload(result.output, stack)

    result = await stack.run("list", "--json", "--region", "AFR", "--region", "APG")
    assert result.exit_code == 0, result.output
    rows = {str(row["ref"]): row for row in _rows(result)}
    assert set(rows) == {b.ref for b in stack.bad.values()}
    for bad in stack.bad.values():
        row = rows[bad.ref]
        assert row["region"] == bad.region.value
        assert row["reason"] == bad.reason
        assert row["source_topic"] == bad.entry.topic
        assert row["source_partition"] == bad.source_partition
        assert row["source_offset"] == bad.source_offset
        assert row["value_size"] == len(bad.entry.value)
        assert str(row["hour"]).endswith(":00Z")
        assert set(row) == {
            "ref", "region", "dlq_topic", "partition", "offset", "hour", "reason", "detail",
            "source_topic", "source_partition", "source_offset", "value_size",
        }  # fmt: skip
    assert_no_payload(result.output, stack)


async def test_list_filters_by_region_reason_and_time(stack: Stack) -> None:
    result = await stack.run("list", "--json", "--region", "APG")
    assert result.exit_code == 0, result.output
    assert [row["ref"] for row in _rows(result)] == [stack.bad["wrong_key"].ref]

    result = await stack.run(
        "list", "--json", "--region", "AFR", "--reason", "malformed", "--reason", "key_mismatch"
    )
    assert result.exit_code == 0, result.output
    assert {row["ref"] for row in _rows(result)} == {
        stack.bad["non_json"].ref,
        stack.bad["key_mismatch"].ref,
    }

    result = await stack.run("list", "--json", "--region", "AFR", "--region", "APG")
    hours = sorted({str(row["hour"]) for row in _rows(result)})
    first = datetime.fromisoformat(hours[0])
    after_last = datetime.fromisoformat(hours[-1]) + timedelta(hours=1)
    since = await stack.run("list", "--json", "--region", "AFR", "--since", first.isoformat())
    assert len(_rows(since)) == 4  # the AFR letters
    until = await stack.run("list", "--json", "--region", "AFR", "--until", first.isoformat())
    assert _rows(until) == []
    later = await stack.run("list", "--json", "--region", "AFR", "--since", after_last.isoformat())
    assert _rows(later) == []
    assert later.exit_code == 0
    assert "no dead letters" in later.stderr

    unknown = await stack.run("list", "--reason", "no_such_reason")
    assert unknown.exit_code == 2
    assert "unknown reason code no_such_reason" in unknown.output
    bad_time = await stack.run("list", "--since", "yesterday")
    assert bad_time.exit_code == 2


async def test_show_by_reference_and_by_coordinates(stack: Stack) -> None:
    tampered = stack.bad["tampered"]
    result = await stack.run("show", tampered.ref)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert tampered.ref in out
    assert f"authentication_failed: {REASONS['authentication_failed']}" in out
    assert f"{len(tampered.entry.value)} bytes, sealed (never shown)" in out
    assert f"{AFR_CASES}[{tampered.source_partition}]@{tampered.source_offset}" in out
    for header in ("dief-reason", "dief-detail", "dief-source-topic", "dief-source-offset"):
        assert header in out
    assert_no_payload(result.output, stack)

    listed = _rows(await stack.run("list", "--json", "--region", "APG"))
    coordinates = f"apg:{listed[0]['partition']}:{listed[0]['offset']}"
    result = await stack.run("show", coordinates, "--json")
    assert result.exit_code == 0, result.output
    (row,) = _rows(result)
    assert row["ref"] == stack.bad["wrong_key"].ref
    assert row["meaning"] == REASONS["no_recipient_key"]
    headers = row["headers"]
    assert isinstance(headers, dict)
    assert headers["dief-reason"] == "no_recipient_key"
    assert_no_payload(result.output, stack)

    missing = await stack.run("show", "AFR:0:999999")
    assert missing.exit_code == 1
    assert "no dead letter AFR:0:999999" in missing.output
    assert (await stack.run("show", "not-a-reference")).exit_code == 2


async def _copies(bootstrap: str, entry: OutboxEntry) -> list[int]:
    """Timestamps of the records on *entry*'s topic with its key and value."""
    settings = KafkaSettings(bootstrap=bootstrap, embedded=True)
    snapshot = await read_to_end(settings, [entry.topic], time_limit=15.0)
    return [
        r.timestamp_ms for r in snapshot.records if r.key == entry.key and r.value == entry.value
    ]


async def test_replay_refuses_without_yes_when_no_one_can_answer(stack: Stack) -> None:
    valid = stack.bad["valid"]
    result = await stack.run("replay", "--ref", valid.ref)
    assert result.exit_code == 2
    assert "--yes" in result.output
    assert await _copies(stack.bootstrap, valid.entry) == []


async def test_replay_asks_first(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dlq_cli, "_interactive", lambda: True)
    valid = stack.bad["valid"]
    result = await stack.run("replay", "--ref", valid.ref, input="n\n")
    assert result.exit_code == 1  # aborted
    assert valid.ref in result.stdout  # what it would send was listed first
    assert "Re-send 1 record to their cases topics?" in result.output
    assert await _copies(stack.bootstrap, valid.entry) == []
    assert_no_payload(result.output, stack)


async def test_replay_still_bad_records_are_dead_lettered_again(stack: Stack) -> None:
    tampered, non_json = stack.bad["tampered"], stack.bad["non_json"]
    result = await stack.run(
        "replay",
        "--region", "AFR",
        "--reason", "authentication_failed",
        "--reason", "malformed",
        "--yes",
        "--wait", str(REPLAY_WAIT),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"{tampered.ref}: re-sent to {AFR_CASES}" in out
    assert "dead-lettered again: authentication_failed" in out
    assert "dead-lettered again: malformed" in out
    assert "re-sent 2 of 2: 2 dead-lettered again, 0 not" in out
    assert_no_payload(result.output, stack)
    for bad in (tampered, non_json):
        stamps = await _copies(stack.bootstrap, bad.entry)
        assert len(stamps) == 2  # the original and the replay: same key, same value
        assert stamps[-1] % HOUR_MS == 0


async def test_replay_of_a_record_whose_cause_is_gone_is_applied(stack: Stack) -> None:
    """The aggregator remembers the record as dead-lettered; replayed, it is judged afresh
    (only applied bytes are a duplicate) and applied."""
    valid = stack.bad["valid"]
    applied, processed = stack.processed.outcomes["applied"], stack.processed.total
    result = await stack.run("replay", "--ref", valid.ref, "--yes", "--wait", "2")
    assert result.exit_code == 0, result.output
    assert f"{valid.ref}: re-sent to {AFR_CASES}" in result.stdout
    assert "not dead-lettered again within 2 s (applied, or a duplicate)" in result.stdout
    assert_no_payload(result.output, stack)
    stamps = await _copies(stack.bootstrap, valid.entry)
    assert len(stamps) == 1
    assert stamps[0] % HOUR_MS == 0
    await stack.processed.wait_for(processed + 1)  # the aggregator took it
    assert stack.processed.outcomes["applied"] == applied + 1


async def test_reader_stops_at_the_fetch_high_watermark(module_broker: EmbeddedBroker) -> None:
    """Five records in one producer batch, where Tansu's ``end_offsets()`` says 1: the
    reader reads all five, stops there, and a later read from its ends sees only what came
    since."""
    topic = f"test.dlq-reader.{uuid.uuid4().hex[:8]}"
    await ensure_topics(module_broker.bootstrap, [TopicSpec(topic)], time_limit=10.0)
    settings = KafkaSettings(bootstrap=module_broker.bootstrap, embedded=True)

    async def send(values: Sequence[bytes]) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=module_broker.bootstrap, enable_idempotence=False, linger_ms=50
        )
        await producer.start()
        try:
            futures = [await producer.send(topic, v, key=b"k") for v in values]
            await asyncio.gather(*futures)
        finally:
            await producer.stop()

    empty = await read_to_end(settings, [topic], time_limit=10.0)
    assert empty.records == ()
    assert empty.ends == {(topic, 0): 0}

    await send([f"r{i}".encode() for i in range(5)])
    first = await read_to_end(settings, [topic], time_limit=10.0)
    assert [r.value for r in first.records] == [f"r{i}".encode() for i in range(5)]
    assert first.ends == {(topic, 0): 5}

    await send([b"r5", b"r6"])
    later = await read_to_end(settings, [topic], start=first.ends, time_limit=10.0)
    assert [r.offset for r in later.records] == [5, 6]
    assert later.ends == {(topic, 0): 7}

    with pytest.raises(BrokerError, match="no topic"):
        await read_to_end(settings, [f"{topic}.missing"], time_limit=10.0)

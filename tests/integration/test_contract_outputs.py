"""Every real output and every real record validates against the published contracts
(DESIGN §9 ⚑: the schemas are as strict as the code, and true of what it writes).

One small ``dief run`` on a broker of this module's own writes the output folder (digests,
summaries, ``run.json``, ``accepted.jsonl``, ``rejected.jsonl``) and the records of the cases,
receipts, digests, route-table and CSP-reporting topics. Then a regional aggregator
dead-letters two poison records (one without a key), a node gets its contributor tokens
from the issuer service over ``dief.credentials.*`` and the next directory is published on
``dief.directory``. Every file is checked against its JSON Schema in ``schemas/``; every
record of every DIEF topic against its AsyncAPI message: the key against the Kafka key
binding, the headers against the message's headers schema, the value against its payload
schema, the partition of a keyed case record against murmur2 (the Java client's).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from aiokafka.partitioner import murmur2
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.credentials import (
    CredentialClient,
    IssuanceStore,
    Issuer,
    IssuerKey,
    IssuerService,
    TokenWallet,
    register_issuer,
    registrations_of,
)
from dief.database import sqlite_url
from dief.kafka import (
    CREDENTIAL_ANSWERS_TOPIC,
    ConsumedRecord,
    KafkaRecordFeed,
    KafkaRecordSink,
    cases_topic,
    dief_topics,
    make_broker,
)
from dief.keyring import KeyRole, SimulatedForum, publish_directory
from dief.pipeline import RunOptions, run_pipeline
from dief.seams import ContributorCredential, OutboxEntry
from dief.settings import KafkaSettings
from dief.synthetic import generate_cases
from dief.testing import FakeClock, read_topics
from dief.vocab import Region
from dief.wire.schemas import ASYNCAPI_FILE, generate_schemas
from tests.integration._pipeline_helpers import Forum, publish_raw, running_aggregators, wait_until

if TYPE_CHECKING:
    from pathlib import Path

    from dief.broker import EmbeddedBroker

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCHEMAS: dict[str, Any] = {name: json.loads(t) for name, t in generate_schemas().items()}
REGISTRY: Registry[Any] = Registry().with_resources(
    (name, DRAFT202012.create_resource(schema)) for name, schema in SCHEMAS.items()
)
ASYNCAPI = SCHEMAS[ASYNCAPI_FILE]
#: 2026-10-01, in CSP13: the node asks for CSP13 and CSP12 (cycles start in September).
EXCHANGE_START = datetime(2026, 10, 1, tzinfo=UTC).timestamp()
EXCHANGE_CYCLES = ("CSP12", "CSP13")


def problems(schema: Any, document: object) -> list[str]:  # noqa: ANN401  a JSON schema, or a $ref string into the registry
    """What *document* breaks in *schema* (a schema, or a ``$ref`` into the registry)."""
    checker = Draft202012Validator(schema, registry=REGISTRY)
    return [f"{list(e.absolute_path)}: {e.message[:160]}" for e in checker.iter_errors(document)]


def file_problems(name: str, document: object) -> list[str]:
    return problems({"$ref": name}, document)


# -- the run -----------------------------------------------------------------------------


def _write_input(path: Path) -> None:
    today = datetime.now(UTC).date()
    ids = list(load_catalogue().ids)
    cases = [c.document for c in generate_cases(16, seed=9, indicator_ids=ids, today=today)]
    lines = [json.dumps(c) for c in cases]
    lines.insert(3, json.dumps({**cases[0], "case_id": str(uuid.uuid4()), "region": "EU"}))
    lines.insert(7, '{"not": "a case"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _check_outputs(out: Path) -> int:
    checked = 0
    for path in sorted(out.glob("digests/*/*.json")):
        assert file_problems("digest.schema.json", json.loads(path.read_bytes())) == [], path
        checked += 1
    summaries = sorted(out.glob("summary/*.json"))
    assert summaries
    for path in summaries:
        assert file_problems("csp-summary.schema.json", json.loads(path.read_bytes())) == [], path
        checked += 1
    assert file_problems("run.schema.json", json.loads((out / "run.json").read_bytes())) == []
    for name, schema in (("accepted.jsonl", "accepted-line"), ("rejected.jsonl", "rejected-line")):
        lines = (out / name).read_text(encoding="utf-8").splitlines()
        assert lines, name
        for line in lines:
            assert file_problems(f"{schema}.schema.json", json.loads(line)) == [], name
        checked += len(lines)
    return checked + 1


# -- dead letters and the trust topics --------------------------------------------------------


async def _dead_letters(bootstrap: str, tmp_path: Path) -> set[tuple[str, int, int]]:
    """A regional aggregator dead-letters a value that is not JSON and has no key, and a
    sealed record whose payload is not a case record. Returns where the two poison records
    are on the cases topic (hostile input, not DIEF's records: they break the contract on
    purpose)."""
    forum = Forum(tmp_path / "dlq-forum")
    poison = [
        OutboxEntry(cases_topic(Region.AFR), None, b"not an envelope", 0),  # type: ignore[arg-type]  # a record without a key, as a hostile client sends it
        OutboxEntry(
            cases_topic(Region.AFR),
            str(uuid.uuid4()).encode(),
            forum.sealer(Region.AFR).seal(b'{"not":"a case record"}'),
            0,
        ),
    ]
    async with (
        CaseStore(sqlite_url(tmp_path / "dlq.sqlite")) as store,
        running_aggregators(bootstrap, forum, store, [Region.AFR]) as processed,
    ):
        landed = await publish_raw(bootstrap, poison)

        def both_dead_lettered() -> bool:
            reasons = {k for k, n in processed.outcomes.items() if k.startswith("dlq:") and n}
            return {"dlq:malformed", "dlq:invalid_payload"} <= reasons

        await wait_until(both_dead_lettered, 60.0, "the two poison records dead-lettered")
    return {(m.topic, m.partition, m.offset) for m in landed}


async def _credentials_and_directory(bootstrap: str, tmp_path: Path) -> None:
    """One node gets its tokens for every region of two cycles over the broker; the next
    directory version is published."""
    forum = SimulatedForum.create(
        tmp_path / "forum", "pw", nodes=["node-a"], cycles=EXCHANGE_CYCLES
    )
    directory = forum.directory
    sec = forum.secretariat()
    wanted = {(c, r.value) for c in EXCHANGE_CYCLES for r in Region}
    settings = KafkaSettings(bootstrap=bootstrap, embedded=True)
    async with IssuanceStore(sqlite_url(tmp_path / "ledger.sqlite")) as ledger:
        issuer = Issuer(
            [IssuerKey(c, r, sec.issuer_private_key(c, r), simulation=True) for c, r in wanted],
            registrations_of(sec),
            ledger,
        )
        issuer_broker = make_broker(settings, client_id="dief-issuer")
        service = IssuerService(
            issuer,
            opening_keys=forum.opening_keys(KeyRole.SECRETARIAT),
            registrations=registrations_of(sec),
            sink=KafkaRecordSink(issuer_broker),
            on_counts=sec.set_token_counts,
        )
        register_issuer(issuer_broker, service, embedded=True)
        node_broker = make_broker(settings, client_id="dief-node")
        keys = forum.node("node-a")
        wallet = TokenWallet(keys.node_secret("node-a"), directory.issuer_key, simulation=True)
        complete = asyncio.Event()

        def on_token(_: ContributorCredential) -> None:
            if {(c.cycle, c.region) for c in wallet.credentials()} >= wanted:
                complete.set()

        client = CredentialClient(
            wallet,
            registration_key=keys.registration_key(),
            kem_key=keys.kem_key(),
            directory=lambda: directory,
            sink=KafkaRecordSink(node_broker),
            feed=KafkaRecordFeed(settings, CREDENTIAL_ANSWERS_TOPIC, client_id="dief-node"),
            clock=FakeClock(EXCHANGE_START),
            max_delay=0.0,
            on_token=on_token,
        )
        await issuer_broker.start()
        await node_broker.connect()
        stop = asyncio.Event()
        task = asyncio.create_task(client.run(stop))
        try:
            async with asyncio.timeout(90.0):
                await complete.wait()
            await publish_directory(KafkaRecordSink(issuer_broker), forum.issue_directory())
        finally:
            stop.set()
            await asyncio.wait_for(task, 30.0)
            await node_broker.stop()
            await issuer_broker.stop()


# -- records against the AsyncAPI messages -----------------------------------------------------


#: Channels a ``dief run`` writes nothing to: bulletins are off unless a forum turns them on
#: (their records are checked by the bulletin tests).
_SILENT = frozenset({"dief.bulletins"})


def _messages_by_topic() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Each topic's messages (a topic may carry more than one kind)."""
    messages = ASYNCAPI["components"]["messages"]
    return {
        channel["address"]: [(name, messages[name]) for name in channel["messages"]]
        for channel in ASYNCAPI["channels"].values()
    }


def _record_problems(record: ConsumedRecord, name: str, message: dict[str, Any]) -> list[str]:
    found: list[str] = []
    key = None if record.key is None else record.key.decode("utf-8")
    found += [f"key {p}" for p in problems(message["bindings"]["kafka"]["key"], key)]
    headers = {n: v.decode("utf-8") for n, v in record.headers}
    assert len(headers) == len(record.headers), "a header name repeats"
    found += [f"headers {p}" for p in problems(message["headers"], headers)]
    payload = message["payload"]
    if "$ref" in payload:  # a dead letter's value is whatever was refused
        found += [f"value {p}" for p in problems(payload, json.loads(record.value or b""))]
    if name == "SealedCase":
        partitions = message_partitions(record.topic)
        assert record.key is not None
        assert record.partition == (murmur2(record.key) & 0x7FFFFFFF) % partitions
    return found


def message_partitions(topic: str) -> int:
    for channel in ASYNCAPI["channels"].values():
        if channel["address"] == topic:
            partitions: int = channel["bindings"]["kafka"]["partitions"]
            return partitions
    raise AssertionError(topic)


async def test_every_output_and_record_matches_the_published_contracts(
    module_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    bootstrap = module_broker.bootstrap
    source = tmp_path / "cases.jsonl"
    _write_input(source)
    result = await run_pipeline(
        RunOptions(
            input=source,
            out=tmp_path / "out",
            work_dir=tmp_path / "work",
            bootstrap=bootstrap,
            today=datetime.now(UTC).date(),
            timeout=180.0,
        )
    )
    assert result.rejected == 2
    assert result.applied == result.published > 0
    assert _check_outputs(tmp_path / "out") > 10

    poison = await _dead_letters(bootstrap, tmp_path)
    await _credentials_and_directory(bootstrap, tmp_path)

    topics = [spec.name for spec in dief_topics()]
    records = await read_topics(bootstrap, topics, expected=2 * result.published + 2, idle=1.0)
    by_topic = _messages_by_topic()
    counts: dict[str, int] = dict.fromkeys(("DeadLetter", "SignedDirectory"), 0)
    failures: dict[str, list[str]] = {}
    for record in records:
        if (record.topic, record.partition, record.offset) in poison:
            continue
        checked = [(name, _record_problems(record, name, m)) for name, m in by_topic[record.topic]]
        name, found = min(checked, key=lambda pair: len(pair[1]))  # the message it is
        counts[name] = counts.get(name, 0) + 1
        if found:
            failures[f"{record.topic}[{record.partition}]@{record.offset}"] = found
    assert failures == {}
    # every kind of message was seen, a dead letter without a key among them
    kinds = {name for topic, pairs in by_topic.items() if topic not in _SILENT for name, _ in pairs}
    assert set(counts) == kinds, counts
    assert all(n > 0 for n in counts.values()), counts
    assert any(r.key is None for r in records if r.topic.endswith(".dlq"))


def test_the_checks_catch_a_contract_break() -> None:
    """The record check fails on what the issue found: a dead letter's client headers, a
    null key where none is allowed, an undeclared header."""
    messages = ASYNCAPI["components"]["messages"]
    letter = messages["DeadLetter"]
    headers = {
        "dief-reason": "malformed",
        "dief-detail": "not JSON",
        "dief-source-topic": "dief.afr.cases",
        "dief-source-partition": "0",
        "dief-source-offset": "7",
        "content-type": "",
        "correlation_id": str(uuid.uuid4()),
    }
    assert problems(letter["headers"], headers) == []
    assert problems(letter["headers"], {**headers, "x-sender": "a State"}) != []
    assert problems(letter["headers"], {**headers, "dief-reason": "whatever"}) != []
    assert problems(letter["bindings"]["kafka"]["key"], None) == []
    assert problems(messages["SealedCase"]["bindings"]["kafka"]["key"], None) != []
    assert problems(messages["SealedCase"]["headers"], {"content-type": ""}) != []
    assert problems(messages["SealedDigest"]["headers"], {"content-type": ""}) == []

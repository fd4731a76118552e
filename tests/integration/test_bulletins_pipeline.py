"""Bulletins over a broker (issue 18, DESIGN §13 ⚑), end to end: the Secretariat's group key
issuer publishes one release per directory version (a node removed by the second gets no
copy), the aggregator service (bulletins set through its settings) seals the applied green
alert to the newest release, and every registered node's follower opens it into the node's
own store — no unregistered or removed node does; a forged batch is ignored; a watch at a
third node fires with its reason; TLP red and amber make none; a withdrawal is retracted;
the canary finds no State, pseudonym, owner key or case id in the bulletins on the topic.
One body on the embedded broker and (marked ``kafka``) on Apache Kafka, each party as its
own Kafka user. Also: the Secretariat service publishes the same release again after a
restart; the aggregator service alone sends a bulletin."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from pydantic import SecretStr

from consumers.aggregator import AggregatorService
from consumers.secretariat import SecretariatService
from dief.aggregator.store import CaseStore, ReleasedBulletins
from dief.bulletins import (
    BULLETINS_TOPIC,
    GROUP_KEY_PREFIX,
    BulletinBoard,
    BulletinFollower,
    BulletinReader,
    BulletinSealer,
    BulletinStore,
    StoredBulletin,
    WatchStore,
    publish_group_key,
    read_bulletins,
)
from dief.crypto import KemPrivateKey, Opener, SigningKey
from dief.database import sqlite_url
from dief.exceptions import EnvelopeError
from dief.kafka import (
    KafkaRecordFeed,
    KafkaRecordSink,
    TopicSpec,
    ensure_topics,
    make_broker,
    read_to_end,
)
from dief.keyring import ForumDirectory, issue_bulletin_group_key, open_bulletin_group_key
from dief.node import Outbox
from dief.secretariat import GroupKeyIssuer, GroupKeyStore
from dief.settings import (
    AggregatorSettings,
    KafkaSettings,
    KeyringSettings,
    SecretariatSettings,
)
from dief.vocab import Region
from dief.wire import (
    TYPE_BULLETIN,
    BulletinEntry,
    BulletinGroupKeyRelease,
    CaseRecord,
    SignedBulletinBatch,
    parse_case,
)
from tests.integration._pipeline_helpers import (
    DATABASE_KINDS,
    PASSPHRASE,
    TODAY,
    Doc,
    Forum,
    Nodes,
    Processed,
    case_doc,
    database_url,
    read_topic,
    revise,
    target_settings,
    wait_until,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from dief.broker import EmbeddedBroker
    from tests.integration._brokers import BrokerStack

pytestmark = pytest.mark.slow

REGISTERED = ("poster", "reader-1", "watcher")
_FORGED = BulletinEntry(bulletin_id="f" * 32, action="publish", kind="alert")


def _signer(forum: Forum) -> SigningKey:
    ring = forum.ring.secretariat().ring
    return ring.signing_key(forum.ring.directory.document.certificate.subject_kid)


def _revoke(forum: Forum, name: str) -> None:
    sec = forum.ring.secretariat()
    kid = forum.ring.node(name).kem_key().kid
    gone = next(r for r in sec.state().registry if r.kem.kid == kid)
    sec.revoke_node(gone.registration_kid)


class _Reader:
    """One node following dief.bulletins into its own outbox file (the code the running
    node runs: :func:`~dief.bulletins.node_follower`), holding *directory*."""

    def __init__(
        self,
        stack: BrokerStack,
        work: Path,
        name: str,
        key: KemPrivateKey,
        directory: ForumDirectory,
    ) -> None:
        self.held = [directory]
        self.outbox = Outbox(work / f"{name}.sqlite")
        self.store = BulletinStore(self.outbox)
        self.watches = WatchStore(work / f"{name}-watches.json")
        self.follower = BulletinFollower(
            self.store,
            KafkaRecordFeed(target_settings(stack, "node"), BULLETINS_TOPIC, client_id=name),
            directory=lambda: self.held[0],
            node_key=key,
            watches=self.watches.all,
        )

    async def in_force(self) -> list[StoredBulletin]:
        return await self.store.bulletins()


async def _run_all(readers: dict[str, _Reader], stop: asyncio.Event) -> list[asyncio.Task[None]]:
    for reader in readers.values():
        await reader.outbox.start()
    return [asyncio.create_task(r.follower.run(stop), name=n) for n, r in readers.items()]


async def test_an_alert_reaches_every_registered_node_and_no_unregistered_or_removed_one(
    broker_stack: BrokerStack, tmp_path: Path
) -> None:
    """The whole exchange with the Secretariat-issued group key: the Secretariat's issuer
    publishes a release per directory version (a node removed in the second gets no copy),
    the aggregator service (bulletins through its settings) seals to the newest, every
    registered node's follower opens the bulletin into its own store; an unregistered or
    removed node opens nothing; a forged batch is ignored; a watch at a third node fires with
    its reason; TLP red makes none; a withdrawal is retracted everywhere; the canary finds no
    State, pseudonym, owner key or case id in the bulletins on the topic."""
    forum = Forum(tmp_path / "forum")
    nodes = Nodes(forum, broker_stack, tmp_path)
    alert = case_doc("N1", "AFR", kind="alert", tlp="green", related_regions=["WEOG"])
    red = case_doc("N1", "AFR", kind="alert", tlp="red")
    amber = case_doc("N3", "AFR", kind="alert", tlp="amber")
    others = [case_doc(f"N{i}", "AFR") for i in (2, 3)]
    cycle = str(parse_case(alert, today=TODAY).detected_month.cycle())
    for submitter in ("N1", "N2", "N3"):
        await nodes.tokens(submitter, [cycle])
    for name in (*REGISTERED, "removed"):
        forum.ring.add_node(name)
    old_directory = forum.ring.issue_directory()

    secretariat = make_broker(target_settings(broker_stack, "secretariat"))
    group_keys = GroupKeyStore(sqlite_url(tmp_path / "secretariat.sqlite"))
    await group_keys.start()
    await secretariat.start()
    issuer = GroupKeyIssuer(
        group_keys,
        lambda d: forum.ring.secretariat().ring.signing_key(d.document.certificate.subject_kid),
        KafkaRecordSink(secretariat),
    )
    readers = {
        name: _Reader(broker_stack, tmp_path, name, forum.ring.node(name).kem_key(), old_directory)
        for name in (*REGISTERED, "removed")
    }
    readers["unregistered"] = _Reader(
        broker_stack, tmp_path, "unregistered", KemPrivateKey.generate(), old_directory
    )
    stop = asyncio.Event()
    tasks = await _run_all(readers, stop)
    service: AggregatorService | None = None
    try:
        old = await issuer.publish(old_directory)
        # the node about to be removed takes its copy of the old version's key
        await readers["removed"].follower.wait_for(
            lambda: _true(readers["removed"].follower.group_keys == 1), 30.0
        )
        _revoke(forum, "removed")
        directory = forum.ring.issue_directory()
        release = await issuer.publish(directory)
        assert release.group_kid != old.group_kid
        assert await issuer.publish(directory) == release  # never a new key for a version
        for reader in readers.values():
            reader.held[0] = directory
        watcher = readers["watcher"]
        watch = watcher.watches.add(item_categories=["small_arms"], route_regions=["WEOG"])

        settings = AggregatorSettings(
            regions=[Region.AFR],
            kafka=target_settings(broker_stack, "aggregator-afr"),
            keyring=KeyringSettings(path=forum.path),
            database_url=SecretStr(sqlite_url(tmp_path / "agg.sqlite")),
            digest_interval=0,
            bulletin_interval=0.3,
            bulletin_jitter=0,
        )
        service = AggregatorService(settings, SecretStr(PASSPHRASE))
        await service.start()
        await nodes.post([alert, red, amber, *others])
        group = open_bulletin_group_key(release, directory, forum.ring.node("poster").kem_key())
        forged = BulletinSealer("AFR", SigningKey.generate(), group.public_key)
        admin = make_broker(target_settings(broker_stack, "admin"))
        await admin.start()
        try:
            await KafkaRecordSink(admin).send(BULLETINS_TOPIC, b"x", forged.seal([_FORGED]))
        finally:
            await admin.stop()

        for name in REGISTERED:
            reader = readers[name]
            await reader.follower.wait_for(_in_force(reader, 1), 60.0)
            await reader.follower.wait_for(_ignored(reader.follower, 1), 60.0)
            (kept,) = await reader.in_force()
            assert (kept.region, kept.entry.kind) == ("AFR", "alert"), name
            assert kept.entry.route_regions == ("AFR", "WEOG")
            assert kept.bulletin_id != _FORGED.bulletin_id
        (match,) = await readers["watcher"].store.matches()
        assert match.watch_id == watch.watch_id
        assert match.reason == "item categories: small_arms; route regions: WEOG"
        (line,) = await readers["watcher"].store.listing(readers["watcher"].watches.all())
        assert [m.reason for m in line.matches] == [match.reason]
        assert await readers["poster"].store.matches() == []  # no watch there

        # the removed node holds the old version's key: it opens nothing sealed after; the
        # unregistered one has no key at all
        assert readers["removed"].follower.group_keys == 1
        assert readers["unregistered"].follower.group_keys == 0
        for name in ("removed", "unregistered"):
            follower = readers[name].follower
            await follower.wait_for(_ignored(follower, 2), 60.0)
            assert await readers[name].in_force() == [], name
            assert follower.added == 0

        # withdrawn: retracted at every registered node
        await nodes.post([revise(alert, 2, status="withdrawn")])
        for name in REGISTERED:
            reader = readers[name]
            await reader.follower.wait_for(_in_force(reader, 0), 60.0)
            (gone,) = await reader.store.bulletins(include_retracted=True)
            assert gone.retracted_at is not None

        # the canary, on what is on the topic (each batch opened with the group key)
        await _canary(broker_stack, nodes, forum, group, [alert, red, amber, *others])
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        if service is not None:
            await service.stop()
        for reader in readers.values():
            await reader.outbox.stop()
        await secretariat.stop()
        await group_keys.stop()
        await nodes.close()


async def _true(value: bool) -> bool:
    return value


async def _count(reader: _Reader, n: int) -> bool:
    return len(await reader.in_force()) == n


def _in_force(reader: _Reader, n: int) -> Callable[[], Awaitable[bool]]:
    """A condition for ``wait_for``: *reader* holds *n* bulletins in force."""
    return lambda: _count(reader, n)


def _ignored(follower: BulletinFollower, n: int) -> Callable[[], Awaitable[bool]]:
    """A condition for ``wait_for``: *follower* has ignored at least *n* records."""
    return lambda: _true(follower.ignored >= n)


async def _canary(
    stack: BrokerStack, nodes: Nodes, forum: Forum, group: KemPrivateKey, docs: list[Doc]
) -> None:
    canaries = {*REGISTERED, "removed", "N1", "N2", "N3"}
    opener = forum.opener(Region.AFR)
    for entry in nodes.sent:
        record = CaseRecord.model_validate_json(opener.open(entry.value).payload)
        canaries |= {record.case_id, record.contributor, record.owner_key}
    canaries |= {str(d["case_id"]) for d in docs}
    canaries |= {nodes.case_id(d) for d in docs}
    records = await read_topic(stack, BULLETINS_TOPIC, 6)
    batches = 0
    for rec in records:
        if (rec.key or b"").startswith(GROUP_KEY_PREFIX):
            continue
        try:
            payload = Opener([group], schemas={TYPE_BULLETIN: {1}}).open(rec.value).payload
        except EnvelopeError:
            continue  # the forged one, sealed to the same key, opens; others do not
        batch = SignedBulletinBatch.model_validate_json(payload).batch
        text = batch.model_dump_json()
        batches += 1
        found = sorted(c for c in canaries if c and c in text)
        assert found == [], found
    assert batches >= 2  # the bulletin and its retraction (and the forged one)


async def test_the_aggregator_service_sends_bulletins_when_configured(
    module_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """``dief aggregate`` with DIEF_BULLETIN_INTERVAL set: the group key release is read
    from dief.bulletins, an applied green alert goes out in the next batch."""
    bootstrap = module_broker.bootstrap
    await ensure_topics(bootstrap, [TopicSpec(BULLETINS_TOPIC)], time_limit=30.0)
    forum = Forum(tmp_path / "keys")
    nodes = Nodes(forum, bootstrap, tmp_path)
    alert = case_doc("S1", "AFR", kind="alert", tlp="clear")
    docs = [alert, case_doc("S2", "AFR"), case_doc("S3", "AFR")]
    cycle = str(parse_case(alert, today=TODAY).detected_month.cycle())
    for submitter in ("S1", "S2", "S3"):
        await nodes.tokens(submitter, [cycle])
    forum.ring.add_node("reader")
    forum.ring.issue_directory()
    directory = forum.ring.directory
    release, _ = issue_bulletin_group_key(directory, _signer(forum))
    settings = AggregatorSettings(
        regions=[Region.AFR],
        kafka=KafkaSettings(bootstrap=bootstrap, embedded=True),
        keyring=KeyringSettings(path=forum.path),
        database_url=SecretStr(sqlite_url(tmp_path / "agg.sqlite")),
        digest_interval=0,
        bulletin_interval=0.2,
        bulletin_jitter=0,
    )
    sink_broker = make_broker(settings.kafka)
    await sink_broker.start()
    try:
        await publish_group_key(KafkaRecordSink(sink_broker), release)
    finally:
        await sink_broker.stop()
    service = AggregatorService(settings, SecretStr(PASSPHRASE))
    await service.start()
    try:
        await nodes.post(docs)
        key = open_bulletin_group_key(release, directory, forum.ring.node("reader").kem_key())
        reader, board = BulletinReader([key], directory), BulletinBoard()

        async def arrived() -> bool:
            await read_bulletins(settings.kafka, reader, board)
            return len(board.entries()) == 1

        await wait_until(arrived, 60.0, "the alert's bulletin", every=0.5)
        ((region, _, entry),) = board.entries()
        assert (region, entry.kind, entry.route_regions) == ("AFR", "alert", ("AFR",))
    finally:
        await service.stop()
        await nodes.close()


async def test_the_secretariat_service_publishes_one_group_key_per_directory_version(
    module_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """``dief secretariat`` issues the held directory's group key at start and keeps it: a
    restart publishes the same release again (never a new key for the version); a node
    registered in that version opens its copy."""
    forum = Forum(tmp_path / "keys")
    forum.ring.add_node("reader")
    directory = forum.ring.issue_directory()
    settings = SecretariatSettings(
        kafka=KafkaSettings(bootstrap=module_broker.bootstrap, embedded=True),
        keyring=KeyringSettings(path=forum.path),
        database_url=SecretStr(sqlite_url(tmp_path / "secretariat.sqlite")),
    )
    key = GROUP_KEY_PREFIX + f"v{directory.version}".encode()
    before = len(await _releases(module_broker.bootstrap, key))
    values: list[bytes] = []
    for _restart in range(2):
        service = SecretariatService(settings, SecretStr(PASSPHRASE))
        await service.start()
        try:

            async def published(n: int = len(values) + 1) -> bool:
                return len(await _releases(module_broker.bootstrap, key)) >= before + n

            await wait_until(published, 30.0, "the group key release", every=0.2)
        finally:
            await service.stop()
        values = await _releases(module_broker.bootstrap, key)
        values = values[before:]
    assert len(values) == 2
    assert values[0] == values[1]  # the same release, byte for byte
    release = BulletinGroupKeyRelease.model_validate_json(values[0])
    assert release.directory_version == directory.version
    opened = open_bulletin_group_key(release, directory, forum.ring.node("reader").kem_key())
    assert opened.kid == release.group_kid


async def _releases(bootstrap: str, key: bytes) -> list[bytes]:

    snapshot = await read_to_end(
        KafkaSettings(bootstrap=bootstrap, embedded=True), [BULLETINS_TOPIC], time_limit=10.0
    )
    return [r.value or b"" for r in snapshot.records if r.key == key]


async def test_by_default_the_service_keeps_back_the_alert_that_would_pin_a_hidden_cell(
    module_broker: EmbeddedBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``dief aggregate`` with its default settings (no DIEF_BULLETIN_AUDIT_FOLDER) audits
    each bulletin against its own documents. AFR's January: six green in-transit alerts by
    six nodes, one stockpile case by a seventh; the digests hide both stages. Every alert
    let out is a case all readers know: enough of them pin the stockpile cell, so the last
    ones wait. Restarted on the same database, the service still counts those it let out
    (the one waiting still waits) and lets none out again."""
    forum = Forum(tmp_path / "keys")
    nodes = Nodes(forum, module_broker.bootstrap, tmp_path)
    alerts = [
        case_doc(f"T{i}", "AFR", kind="alert", tlp="green", transfer_stage="in_transit")
        for i in range(6)
    ]
    docs = [*alerts, case_doc("T6", "AFR", tlp="green", transfer_stage="stockpile")]
    cycle = str(parse_case(alerts[0], today=TODAY).detected_month.cycle())
    for i in range(7):
        await nodes.tokens(f"T{i}", [cycle])
    settings = AggregatorSettings(
        regions=[Region.AFR],
        kafka=KafkaSettings(bootstrap=module_broker.bootstrap, embedded=True),
        keyring=KeyringSettings(path=forum.path),
        database_url=SecretStr(sqlite_url(tmp_path / "agg.sqlite")),
        digest_interval=0,
    )
    assert settings.bulletin_interval > 0  # bulletins are on by default
    assert settings.bulletin_audit_folder is None
    processed = Processed()
    service = AggregatorService(settings, SecretStr(PASSPHRASE))
    await service.start(on_report=processed)
    try:
        await nodes.post(docs)
        await processed.wait_for(len(docs), 60.0)
        assert service.bulletins is not None
        collector = service.bulletins.collectors["AFR"]
        sent = await collector.take(force=True)  # no group key: the service sends nothing
        assert 1 <= len(sent) < len(alerts)
        assert collector.queued == len(alerts) - len(sent)
        # the audit half is on: no warning that it is not checked
        assert not [r for r in caplog.records if "not checked" in r.getMessage()]
    finally:
        await service.stop()

    again = AggregatorService(settings, SecretStr(PASSPHRASE))
    await again.start()
    try:
        assert again.bulletins is not None
        collector = again.bulletins.collectors["AFR"]
        ledger = CaseStore(sqlite_url(tmp_path / "agg.sqlite"))
        await ledger.start()
        try:
            out = {b.case_id for b in await ReleasedBulletins(ledger).released("AFR")}
        finally:
            await ledger.stop()
        assert len(out) == len(sent)
        opener = forum.opener(Region.AFR)
        records = [CaseRecord.model_validate_json(opener.open(e.value).payload) for e in nodes.sent]
        waiting = [r for r in records if r.kind == "alert" and r.case_id not in out]
        assert len(waiting) == len(alerts) - len(sent)
        collector.offer(waiting[0])  # asked about again after the restart
        assert await collector.take(force=True) == []
    finally:
        await again.stop()
        await nodes.close()


@pytest.mark.parametrize("kind", DATABASE_KINDS)
async def test_released_bulletins_survive_a_restart_on_both_databases(
    kind: str, tmp_path: Path
) -> None:
    """``released_bulletins`` (migration 0012) on SQLite and PostgreSQL: the first write of
    an id wins, a fresh store on the same database gives back what was kept (in force only,
    or with the retracted ones), never a lesson."""
    async with database_url(kind, tmp_path) as url:
        facts = '{"bulletin_id":"' + "a" * 32 + '","kind":"alert"}'
        async with CaseStore(url) as store:
            ledger = ReleasedBulletins(store)
            for n, body in ((1, facts), (2, "{}")):
                kept = await ledger.keep(
                    bulletin_id="a" * 32,
                    region="AFR",
                    case_id="00000000-0000-8000-8000-000000000001",
                    revision=n,
                    cycle="CSP12",
                    facts=body,
                )
                assert kept == (n == 1)
            await ledger.keep(
                bulletin_id="b" * 32,
                region="AFR",
                case_id="00000000-0000-8000-8000-000000000002",
                revision=1,
                cycle="CSP12",
                facts="{}",
            )
            await ledger.retract("b" * 32)
        async with CaseStore(url) as store:
            ledger = ReleasedBulletins(store)
            (held,) = await ledger.released("AFR")
            assert (held.bulletin_id, held.revision, held.facts) == ("a" * 32, 1, facts)
            every = await ledger.released("AFR", include_retracted=True)
            assert sorted((b.bulletin_id[0], b.retracted) for b in every) == [
                ("a", False),
                ("b", True),
            ]
            assert await ledger.released("EEG") == []

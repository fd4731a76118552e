"""Bulletins over a broker (issue 18, DESIGN §13 ⚑): an alert posted at one node reaches
every other registered node through the region's aggregator and ``dief.bulletins``, and no
removed or unregistered one; a forged batch is ignored; a watch at a third node fires; TLP
red never becomes a bulletin; a withdrawal is retracted. One body on the embedded broker
and (marked ``kafka``) on Apache Kafka, as the admin user (the ACL grants for
``dief.bulletins`` are the integrator's: nodes read, region aggregators write)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _brokers import BrokerStack
from _pipeline_helpers import (
    PASSPHRASE,
    TODAY,
    Forum,
    Nodes,
    Processed,
    case_doc,
    revise,
    target_settings,
    wait_until,
)

from dief.aggregator import RegionAggregator
from dief.aggregator.store import CaseStore
from dief.broker import EmbeddedBroker
from dief.bulletins import (
    BULLETINS_TOPIC,
    BulletinBoard,
    BulletinCollector,
    BulletinPublisher,
    BulletinReader,
    BulletinSealer,
    ContributorRelease,
    WatchStore,
    alert_listing,
    publish_group_key,
    read_bulletins,
)
from dief.crypto import KemPrivateKey, SigningKey
from dief.database import sqlite_url
from dief.exceptions import DirectoryError
from dief.kafka import KafkaDeadLetterSink, KafkaRecordSink, TopicSpec, ensure_topics, make_broker
from dief.keyring import KeyRole, issue_bulletin_group_key, open_bulletin_group_key
from dief.vocab import Region
from dief.wire import BulletinEntry, parse_case

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


async def test_an_alert_reaches_every_registered_node_and_no_other(
    broker_stack: BrokerStack, tmp_path: Path
) -> None:
    forum = Forum(tmp_path / "forum")
    for name in (*REGISTERED, "removed"):
        forum.ring.add_node(name)
    forum.ring.issue_directory()
    old_release, _ = issue_bulletin_group_key(forum.ring.directory, _signer(forum))
    removed_old_key = open_bulletin_group_key(
        old_release, forum.ring.directory, forum.ring.node("removed").kem_key()
    )
    _revoke(forum, "removed")
    forum.ring.issue_directory()
    directory = forum.ring.directory
    release, group = issue_bulletin_group_key(directory, _signer(forum))

    options = broker_stack.client_options("admin")
    bootstrap = str(options.pop("bootstrap_servers"))
    await ensure_topics(bootstrap, [TopicSpec(BULLETINS_TOPIC)], time_limit=30.0, **options)

    store = CaseStore(sqlite_url(tmp_path / "agg.sqlite"))
    await store.start()
    collector = BulletinCollector("AFR", release=ContributorRelease(store))
    settings = target_settings(broker_stack, "admin")
    broker = make_broker(settings)
    processed = Processed()
    from consumers.aggregator import register_aggregators

    aggregator = RegionAggregator(
        Region.AFR,
        forum.opener(Region.AFR),
        store,
        KafkaDeadLetterSink(broker, Region.AFR),
        credentials=forum.verifier(),
        applied=collector.offer,
    )
    register_aggregators(
        broker, {Region.AFR: aggregator}, embedded=settings.embedded, on_report=processed
    )
    publisher = BulletinPublisher(
        collector,
        BulletinSealer("AFR", forum.ring.signing_key(KeyRole.REGION, "AFR"), group.public_key),
        KafkaRecordSink(broker),
    )
    nodes = Nodes(forum, broker_stack, tmp_path)
    await broker.start()
    try:
        alert = case_doc("N1", "AFR", kind="alert", tlp="green", related_regions=["WEOG"])
        red = case_doc("N1", "AFR", kind="alert", tlp="red")
        others = [case_doc(f"N{i}", "AFR") for i in (2, 3)]
        await nodes.post([alert, red, *others])
        await processed.wait_for(4)
        await publish_group_key(KafkaRecordSink(broker), release)
        assert await publisher.tick(force=True)  # one bulletin: the green alert only
        forged = BulletinSealer("AFR", SigningKey.generate(), group.public_key)
        await KafkaRecordSink(broker).send(BULLETINS_TOPIC, b"x", forged.seal([_FORGED]))

        # every registered node takes its copy of the group key from the topic
        readers: dict[str, tuple[BulletinReader, BulletinBoard]] = {}
        ends = {}
        for name in REGISTERED:
            reader = BulletinReader([], directory)
            board = BulletinBoard(tmp_path / f"{name}-bulletins.json")
            readers[name] = (reader, board)
            read = await read_bulletins(
                settings,
                reader,
                board,
                directory=directory,
                node_key=forum.ring.node(name).kem_key(),
            )
            assert (read.group_keys, read.opened, read.added, read.ignored) == (1, 1, 1, 1), name
            ends[name] = read.ends
        (entry,) = [e for _, _, e in readers["watcher"][1].entries()]
        assert entry.route_regions == ("AFR", "WEOG")
        assert entry.kind == "alert"

        # the removed node: no copy of the new key; its old key opens nothing new
        with pytest.raises(DirectoryError):
            open_bulletin_group_key(release, directory, forum.ring.node("removed").kem_key())
        for outsider in (removed_old_key, KemPrivateKey.generate()):
            read = await read_bulletins(
                settings, BulletinReader([outsider], directory), BulletinBoard()
            )
            assert (read.opened, read.ignored) == (0, 2)
        removed_node = forum.ring.node("removed").kem_key()
        read = await read_bulletins(
            settings,
            BulletinReader([removed_old_key], directory),
            BulletinBoard(),
            directory=directory,
            node_key=removed_node,
        )
        assert (read.group_keys, read.opened) == (0, 0)

        # a watch at a third node fires, with its reason
        watches = WatchStore(tmp_path / "watcher-watches.json")
        watches.add(item_categories=["small_arms"], route_regions=["WEOG"])
        (line,) = alert_listing(readers["watcher"][1], watches.all())
        assert [m.reason for m in line.matches] == [
            "item categories: small_arms; route regions: WEOG"
        ]

        # withdrawn: retracted at every node
        await nodes.post([revise(alert, 2, status="withdrawn")])
        await processed.wait_for(5)
        (retract,) = await publisher.tick(force=True)
        assert (retract.action, retract.bulletin_id) == ("retract", entry.bulletin_id)
        for name, (reader, board) in readers.items():
            read = await read_bulletins(settings, reader, board, start=ends[name])
            assert (read.opened, read.retracted) == (1, 1), name
            assert board.entries() == []
    finally:
        await broker.stop()
        await nodes.close()
        await store.stop()


async def test_the_aggregator_service_sends_bulletins_when_configured(
    module_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """``dief aggregate`` with DIEF_BULLETIN_INTERVAL set: the group key release is read
    from dief.bulletins, an applied green alert goes out in the next batch."""
    from pydantic import SecretStr

    from consumers.aggregator import AggregatorService
    from dief.settings import AggregatorSettings, KafkaSettings, KeyringSettings

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

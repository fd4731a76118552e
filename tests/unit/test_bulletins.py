"""Bulletins (DESIGN §13 ⚑, issue 18): the group key, sealing and signing, the collector's
rules, retractions, watches and the canary. Broker-free; the pipeline over a broker is in
tests/integration/test_bulletins_pipeline.py."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CellRow
from dief.bulletins import (
    BULLETINS_TOPIC,
    DEFAULT_INTERVAL,
    DEFAULT_JITTER,
    BulletinBoard,
    BulletinCollector,
    BulletinPublisher,
    BulletinReader,
    BulletinSealer,
    ContributorRelease,
    OpenedBulletins,
    RegionBulletins,
    WatchStore,
    alert_listing,
    match_watches,
)
from dief.crypto import KemPrivateKey, Opener, SigningKey
from dief.exceptions import BrokerError, DirectoryError
from dief.keyring import (
    KeyRole,
    SimulatedForum,
    issue_bulletin_group_key,
    open_bulletin_group_key,
)
from dief.keyring._party import Purpose
from dief.testing import FakeBulletinAudit, FakeClock, MemoryRecordSink
from dief.vocab import CaseStatus, Tlp
from dief.wire import TYPE_BULLETIN, BulletinEntry, BulletinGroupKeyRelease, CaseRecord
from tests.unit.record_helpers import case_doc, clear_text, signed_record

if TYPE_CHECKING:
    from pathlib import Path

PASSPHRASE = "bulletin-test-passphrase"
NODES = ("node-a", "node-b", "node-c", "node-d")


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory) -> SimulatedForum:
    return SimulatedForum.create(tmp_path_factory.mktemp("forum"), PASSPHRASE, nodes=NODES)


def _directory_signer(forum: SimulatedForum) -> SigningKey:
    ring = forum.secretariat().ring
    return ring.signing_key(forum.directory.document.certificate.subject_kid)


def _group(forum: SimulatedForum) -> tuple[BulletinGroupKeyRelease, KemPrivateKey]:
    return issue_bulletin_group_key(forum.directory, _directory_signer(forum))


def _alert(tlp: str = "green", **more: object) -> CaseRecord:
    doc = case_doc(kind="alert", tlp=tlp, **more)
    return signed_record(doc, index=random.randrange(1 << 30))


async def _batch(collector: BulletinCollector) -> list[BulletinEntry]:
    return await collector.take(force=True)


def _reader(forum: SimulatedForum, node: str, release: BulletinGroupKeyRelease) -> BulletinReader:
    key = open_bulletin_group_key(release, forum.directory, forum.node(node).kem_key())
    return BulletinReader([key], forum.directory)


# -- the group key ----------------------------------------------------------------------


def test_every_registered_node_opens_a_bulletin_and_an_unregistered_one_cannot(
    forum: SimulatedForum,
) -> None:
    release, group = _group(forum)
    sealer = BulletinSealer("AFR", forum.signing_key(KeyRole.REGION, "AFR"), group.public_key)
    entry = BulletinEntry(bulletin_id="0" * 32, action="publish", kind="alert")
    value = sealer.seal([entry])
    for node in NODES:
        opened = _reader(forum, node, release).open(value)
        assert opened is not None, node
        assert opened.entries == (entry,), node
    outsider = KemPrivateKey.generate()
    with pytest.raises(DirectoryError) as why:
        open_bulletin_group_key(release, forum.directory, outsider)
    assert why.value.code == "not_registered"
    # nor can it open the bulletin with its own key, or with a copy meant for another node
    assert BulletinReader([outsider], forum.directory).open(value) is None


def test_a_removed_node_cannot_open_bulletins_after_the_renewal(
    tmp_path: Path,
) -> None:
    forum = SimulatedForum.create(tmp_path / "forum", PASSPHRASE, nodes=("n1", "n2", "n3"))
    old_release, _ = _group(forum)
    removed = forum.node("n3")
    old_key = open_bulletin_group_key(old_release, forum.directory, removed.kem_key())
    sec = forum.secretariat()
    gone = next(r for r in sec.state().registry if r.kem.kid == removed.kem_key().kid)
    sec.revoke_node(gone.registration_kid)
    forum.issue_directory()
    directory = forum.directory
    assert removed.kem_key().kid not in {k.kid for k in directory.node_kem_keys()}
    release, group = issue_bulletin_group_key(directory, _directory_signer(forum))
    value = BulletinSealer("AFR", forum.signing_key(KeyRole.REGION, "AFR"), group.public_key).seal(
        [BulletinEntry(bulletin_id="1" * 32, action="publish")]
    )
    with pytest.raises(DirectoryError):
        open_bulletin_group_key(release, directory, removed.kem_key())
    assert BulletinReader([old_key], directory).open(value) is None
    for node in ("n1", "n2"):
        key = open_bulletin_group_key(release, directory, forum.node(node).kem_key())
        assert BulletinReader([key], directory).open(value) is not None


def test_a_group_key_release_not_signed_by_the_directory_signer_is_refused(
    forum: SimulatedForum,
) -> None:
    release, _ = _group(forum)
    forged = release.model_copy(update={"group_public": release.group_public[:-4] + "AAAA"})
    with pytest.raises(DirectoryError):
        open_bulletin_group_key(forged, forum.directory, forum.node("node-a").kem_key())
    with pytest.raises(DirectoryError):
        issue_bulletin_group_key(forum.directory, SigningKey.generate())


# -- signatures -------------------------------------------------------------------------


def test_a_bulletin_not_signed_by_its_region_is_ignored(forum: SimulatedForum) -> None:
    release, group = _group(forum)
    entry = BulletinEntry(bulletin_id="2" * 32, action="publish", kind="alert")
    forgeries = {
        "stranger": BulletinSealer("AFR", SigningKey.generate(), group.public_key),
        "another region": BulletinSealer(
            "AFR", forum.signing_key(KeyRole.REGION, "WEOG"), group.public_key
        ),
    }
    reader = _reader(forum, "node-b", release)
    for name, sealer in forgeries.items():
        assert reader.open(sealer.seal([entry])) is None, name
    assert reader.ignored["bad_signature"] == 2
    genuine = BulletinSealer("AFR", forum.signing_key(KeyRole.REGION, "AFR"), group.public_key)
    assert reader.open(genuine.seal([entry])) is not None
    assert reader.open(b'{"v": 1}') is None
    assert reader.total_ignored == 3


# -- the collector's rules ----------------------------------------------------------------


@pytest.mark.parametrize("tlp", ["amber", "amber_strict", "red"])
async def test_an_amber_or_red_alert_makes_no_bulletin(tlp: str) -> None:
    collector = BulletinCollector("AFR")
    collector.offer(_alert(tlp))
    assert await _batch(collector) == []


@pytest.mark.parametrize("tlp", ["clear", "green"])
async def test_a_clear_or_green_alert_makes_a_bulletin_a_plain_case_only_by_setting(
    tlp: str,
) -> None:
    collector = BulletinCollector("AFR")
    collector.offer(_alert(tlp))
    collector.offer(signed_record(case_doc(kind="case", tlp=tlp), index=7))
    (entry,) = await _batch(collector)
    assert entry.action == "publish"
    assert entry.kind == "alert"
    every = BulletinCollector("AFR", any_case=True)
    every.offer(signed_record(case_doc(kind="case", tlp=tlp), index=8))
    assert [e.kind for e in await _batch(every)] == ["case"]


async def test_a_withdrawn_alert_is_retracted_without_its_case_id() -> None:
    collector = BulletinCollector("AFR")
    alert = _alert()
    collector.offer(alert)
    (sent,) = await _batch(collector)
    withdrawn = alert.model_copy(update={"revision": 2, "status": CaseStatus.WITHDRAWN})
    collector.offer(withdrawn)
    (retract,) = await _batch(collector)
    assert retract.action == "retract"
    assert retract.bulletin_id == sent.bulletin_id
    assert alert.case_id not in retract.model_dump_json()
    assert retract.model_dump(exclude_defaults=True) == {
        "bulletin_id": sent.bulletin_id,
        "action": "retract",
    }


async def test_a_revised_alert_is_retracted_and_published_again_under_a_new_id() -> None:
    collector = BulletinCollector("AFR")
    alert = _alert()
    collector.offer(alert)
    (first,) = await _batch(collector)
    collector.offer(alert.model_copy(update={"revision": 2, "tlp": Tlp.CLEAR}))
    retract, again = await _batch(collector)
    assert (retract.action, retract.bulletin_id) == ("retract", first.bulletin_id)
    assert again.action == "publish"
    assert again.bulletin_id != first.bulletin_id
    # revised to amber: retracted, nothing new
    collector.offer(alert.model_copy(update={"revision": 3, "tlp": Tlp.AMBER}))
    assert [(e.action, e.bulletin_id) for e in await _batch(collector)] == [
        ("retract", again.bulletin_id)
    ]


async def test_a_bulletin_revised_before_its_batch_goes_out_is_never_sent() -> None:
    collector = BulletinCollector("AFR")
    alert = _alert()
    collector.offer(alert)
    collector.offer(alert.model_copy(update={"revision": 2, "status": CaseStatus.WITHDRAWN}))
    assert await _batch(collector) == []


async def test_batches_fall_due_every_interval_plus_jitter_on_the_clock() -> None:
    clock = FakeClock()
    collector = BulletinCollector(
        "AFR", clock=clock, rng=random.Random(4), interval=DEFAULT_INTERVAL
    )
    first = collector.due_at - clock.now()
    assert DEFAULT_INTERVAL <= first <= DEFAULT_INTERVAL + DEFAULT_JITTER
    collector.offer(_alert())
    assert await collector.take() == []
    assert collector.queued == 1
    clock.advance(first)
    assert len(await collector.take()) == 1
    second = collector.due_at - clock.now()
    assert DEFAULT_INTERVAL <= second <= DEFAULT_INTERVAL + DEFAULT_JITTER
    assert second != first


class _Cells:
    def __init__(self, contributors: int) -> None:
        self.contributors = contributors

    async def cell_rows(
        self, region: str, periods: list[str], *, include_red: bool = True
    ) -> list[CellRow]:
        return [CellRow(periods[0], "_total", "_all", periods[0], 5, self.contributors)]


async def test_a_bulletin_waits_until_the_cycle_counts_three_contributors_and_the_audit_holds() -> (
    None
):
    cells = _Cells(2)
    audit = FakeBulletinAudit(holds=False)
    collector = BulletinCollector("AFR", release=ContributorRelease(cells, audit=audit))
    collector.offer(_alert())
    assert await _batch(collector) == []
    assert collector.queued == 1
    assert audit.asked == []  # the audit is asked only once the cycle counts 3
    cells.contributors = 3
    assert await _batch(collector) == []
    assert len(audit.asked) == 1
    region, _cycle, facts = audit.asked[0]
    assert region == "AFR"
    assert "case_id" not in facts
    assert "contributor" not in facts
    assert facts["action"] == "publish"
    audit.holds = True
    assert len(await _batch(collector)) == 1
    assert collector.queued == 0


async def test_a_bulletin_the_audit_refuses_is_kept_back_while_retractions_go() -> None:
    """Refused by the rule: kept (not lost) and retried in a later batch; a retraction due
    meanwhile is never held back by it."""
    audit = FakeBulletinAudit(holds=True)
    collector = BulletinCollector("AFR", release=ContributorRelease(_Cells(5), audit=audit))
    sent_alert = _alert()
    collector.offer(sent_alert)
    (first,) = await _batch(collector)
    audit.holds = False
    collector.offer(_alert())  # a new alert the audit refuses
    collector.offer(sent_alert.model_copy(update={"revision": 2, "status": CaseStatus.WITHDRAWN}))
    batch = await _batch(collector)
    assert [(e.action, e.bulletin_id) for e in batch] == [("retract", first.bulletin_id)]
    assert collector.queued == 1
    for _ in range(3):  # refused again and again: still kept
        assert await _batch(collector) == []
    assert collector.queued == 1
    audit.holds = True
    (late,) = await _batch(collector)
    assert late.action == "publish"
    assert late.bulletin_id != first.bulletin_id
    assert len(audit.asked) == 1 + 1 + 3 + 1


# -- watches and the listing ----------------------------------------------------------------


async def test_a_watch_at_a_third_node_fires_with_its_reason(
    forum: SimulatedForum, tmp_path: Path
) -> None:
    release, group = _group(forum)
    collector = BulletinCollector("AFR")
    collector.offer(
        _alert(items=[{"category": "small_arms", "quantity": 3}], risk_indicators=["DOC-01"])
    )
    value = BulletinSealer("AFR", forum.signing_key(KeyRole.REGION, "AFR"), group.public_key).seal(
        await _batch(collector)
    )
    watches = WatchStore(tmp_path / "watches.json")
    hit = watches.add(item_categories=["small_arms"], route_regions=["afr"], label="SALW")
    watches.add(item_categories=["ammunition"])
    watches.add(indicators=["DOC-01"], stages=["post_shipment"])
    board = BulletinBoard(tmp_path / "bulletins.json")
    opened = _reader(forum, "node-c", release).open(value)
    assert opened is not None
    board.take(opened)
    (line,) = alert_listing(board, watches.all())
    assert [m.watch_id for m in line.matches] == [hit.watch_id]
    assert line.matches[0].reason == "item categories: small_arms; route regions: AFR"
    assert line.questions
    assert line.questions[0][0] == "DOC-01"
    assert line.questions[0][1]
    watches.remove(hit.watch_id)
    assert match_watches(watches.all(), line.entry) == []


async def test_a_retraction_removes_the_bulletin_at_the_node(tmp_path: Path) -> None:
    collector = BulletinCollector("AFR")
    alert = _alert()
    collector.offer(alert)
    board = BulletinBoard(tmp_path / "b.json")
    board.take(OpenedBulletins("AFR", "h", tuple(await _batch(collector))))
    assert len(board.entries()) == 1
    collector.offer(alert.model_copy(update={"revision": 2, "status": CaseStatus.WITHDRAWN}))
    board.take(OpenedBulletins("AFR", "h", tuple(await _batch(collector))))
    assert BulletinBoard(tmp_path / "b.json").entries() == []


# -- the canary ---------------------------------------------------------------------------


async def test_the_canary_finds_no_state_pseudonym_owner_key_or_case_id_in_bulletins(
    forum: SimulatedForum,
) -> None:
    _release, group = _group(forum)
    records = [
        _alert(
            related_regions=["WEOG", "APG"],
            summary="Falsified end-user certificate; consignee unknown to the licensing office.",
        )
        for _ in range(5)
    ]
    collector = BulletinCollector("AFR")
    for record in records:
        collector.offer(record)
    entries = await _batch(collector)
    assert len(entries) == 5
    value = BulletinSealer("AFR", forum.signing_key(KeyRole.REGION, "AFR"), group.public_key).seal(
        entries
    )
    plain = Opener([group], schemas={TYPE_BULLETIN: {1}}).open(value).payload.decode()
    canaries: set[str] = set()
    for record in records:
        canaries |= {
            record.case_id,
            record.contributor,
            record.owner_key,
            record.envelope_id,
            record.owner_sig,
            record.contributor_token[:40],
        }
    for canary in canaries:
        assert canary not in plain, canary
        assert canary not in value.decode(), canary
    # the node labels, short: outside the random fields (signatures, ciphertext, wrapped keys),
    # where one of six characters turns up by chance in about one run in a million
    for name in ("node-a", "node-b", "node-c", "node-d", "test-node"):
        assert name not in clear_text(plain), name
        assert name not in clear_text(value), name
    # and the entry has no field for them
    fields = set(BulletinEntry.model_fields)
    assert not fields & {"case_id", "contributor", "owner_key", "envelope_id", "revision"}


def test_the_directory_signer_key_comes_from_the_secretariat(forum: SimulatedForum) -> None:
    ring = forum.secretariat().ring
    assert _directory_signer(forum).kid in {k.kid for k in ring.list_keys(Purpose.DIRECTORY)}


# -- beside the aggregator service ----------------------------------------------------------


class _Sink:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        self.sent.append((topic, key, value))


async def test_region_bulletins_wait_for_the_held_directorys_group_key(
    forum: SimulatedForum,
) -> None:
    sink = _Sink()
    bulletins = RegionBulletins(
        ["AFR", "WEOG"],
        signing_key=lambda region: forum.signing_key(KeyRole.REGION, region),
        directory=lambda: forum.directory,
        sink=sink,
    )
    bulletins.offer(_alert())
    assert await bulletins.tick(force=True) == 0  # no group key yet: the bulletin waits
    assert bulletins.collectors["AFR"].queued == 1
    release, _ = _group(forum)
    stale = release.model_copy(update={"directory_version": release.directory_version + 1})
    assert not bulletins.take_release(stale.model_dump_json().encode())
    assert bulletins.take_release(release.model_dump_json().encode())
    assert await bulletins.tick(force=True) == 1
    ((topic, key, value),) = sink.sent
    assert topic == BULLETINS_TOPIC
    assert len(key) == 32
    reader = _reader(forum, "node-d", release)
    opened = reader.open(value)
    assert opened is not None
    assert opened.region == "AFR"


async def test_a_batch_whose_sending_fails_is_sent_with_the_next_one(
    forum: SimulatedForum,
) -> None:
    """Taken from the queue, then the broker refused it: not lost, the next batch has it."""
    _release, group = _group(forum)
    sink = MemoryRecordSink()
    collector = BulletinCollector("AFR")
    publisher = BulletinPublisher(
        collector,
        BulletinSealer("AFR", forum.signing_key(KeyRole.REGION, "AFR"), group.public_key),
        sink,
    )
    collector.offer(_alert())
    sink.faults.fail(times=1)
    with pytest.raises(BrokerError):
        await publisher.tick(force=True)
    assert collector.queued == 1
    collector.offer(_alert())
    sent = await publisher.tick(force=True)
    assert len(sent) == 2
    assert len(sink.sent) == 1

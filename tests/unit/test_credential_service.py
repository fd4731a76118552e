"""The credential exchange as services (DESIGN §5 ⚑; issue 12 "Requests travel over Kafka"):
the Secretariat's :class:`IssuerService` and a node's :class:`CredentialClient`, over
in-memory sinks and feeds, with a fake clock (nothing here sleeps).

The attacks: a lost answer must not lock a node out (the identical request is answered
again); a forged request (an unregistered key, garbage, a different blinded message under
a registration that already has its token) gets no answer and stops nothing; another
node's answer, or a copy of it under this node's key, gives this node nothing."""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import starmap
from typing import TYPE_CHECKING

from dief.credentials import (
    CREDENTIAL_ANSWERS_TOPIC,
    CREDENTIAL_REQUESTS_TOPIC,
    CredentialClient,
    Issuer,
    IssuerService,
    MemoryLedger,
    TokenCounts,
    TokenVerifier,
    TokenWallet,
    build_request,
    request_hash,
    seal_request,
)
from dief.crypto import KemPrivateKey, KemPublicKey, SigningKey
from dief.kafka import dief_topics
from dief.seams import Backoff, ContributorCredential, InboundRecord
from dief.testing import FakeClock, MemoryRecordFeed, MemoryRecordSink
from dief.vocab import Region
from dief.wire import ForumParameters
from tests.unit.test_credentials_support import Registry, issuer_key, node_secret

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from cryptography.hazmat.primitives.asymmetric import rsa

REGIONS = tuple(r.value for r in Region)
#: 2026-10-01: CSP13 (cycles start in September), so the node asks for CSP12 and CSP13.
START = datetime(2026, 10, 1, tzinfo=UTC).timestamp()
CYCLES = ("CSP12", "CSP13")
PAIRS = tuple((c, r) for c in (*CYCLES, "CSP11", "CSP14") for r in REGIONS)
SECRETARIAT = KemPrivateKey.generate()
PARAMETERS = ForumParameters(regions=REGIONS, cycle_start_month=9, k_meeting=3, k_csp=3)


def _lookup(cycle: str, region: str) -> rsa.RSAPublicKey | None:
    return issuer_key(cycle, region).public_key if (cycle, region) in PAIRS else None


@dataclass
class FakeDirectory:
    """What the signed directory gives the client."""

    parameters: ForumParameters = PARAMETERS
    secretariat: list[KemPublicKey] = field(default_factory=lambda: [SECRETARIAT.public_key])

    def issuer_key(self, cycle: str, region: str) -> rsa.RSAPublicKey | None:
        return _lookup(cycle, region)

    def secretariat_kem_keys(self) -> list[KemPublicKey]:
        return list(self.secretariat)


@dataclass
class Node:
    client: CredentialClient
    wallet: TokenWallet
    registration: SigningKey
    kem: KemPrivateKey
    sink: MemoryRecordSink
    tokens: list[ContributorCredential]


class Forum:
    """The issuer service and the answers topic, with nodes made on demand."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock(START)
        self.registry = Registry()
        self.issuer = Issuer(list(starmap(issuer_key, PAIRS)), self.registry, MemoryLedger())
        self.answers = MemoryRecordSink()
        self.counts: list[TokenCounts] = []
        self.service = IssuerService(
            self.issuer,
            opening_keys=[SECRETARIAT],
            registrations=self.registry,
            sink=self.answers,
            on_counts=self.counts.append,
        )
        self.feed_records: list[MemoryRecordFeed] = []
        self.requests_read = 0

    def node(self, byte: int, *, max_delay: float = 0.0, seed: int = 0) -> Node:
        wallet = TokenWallet(node_secret(byte), _lookup, simulation=True)
        registration = self.registry.register()
        kem = KemPrivateKey.generate()
        sink = MemoryRecordSink()
        feed = MemoryRecordFeed(CREDENTIAL_ANSWERS_TOPIC)
        self.feed_records.append(feed)
        tokens: list[ContributorCredential] = []
        client = CredentialClient(
            wallet,
            registration_key=registration,
            kem_key=kem,
            directory=FakeDirectory,
            sink=sink,
            feed=feed,
            clock=self.clock,
            max_delay=max_delay,
            resend_after=600.0,
            on_token=tokens.append,
            rng=random.Random(seed),
        )
        return Node(client, wallet, registration, kem, sink, tokens)

    async def serve(self, *nodes: Node, drop: frozenset[str] | set[str] = frozenset()) -> int:
        """The issuer answers every request the nodes sent since last time; the answers go
        to every node's feed, except those whose request hash is in *drop* (lost)."""
        records = [
            InboundRecord(CREDENTIAL_REQUESTS_TOPIC, 0, i, rec.key, rec.value)
            for i, rec in enumerate(r for n in nodes for r in n.sink.on(CREDENTIAL_REQUESTS_TOPIC))
        ]
        for node in nodes:
            node.sink.sent.clear()
        before = len(self.answers.sent)
        report = await self.service.handle(records)
        for answer in self.answers.sent[before:]:
            if answer.key.decode() not in drop:
                for feed in self.feed_records:
                    feed.append(answer.key, answer.value)
        return report.answered


def _verifies(credential: ContributorCredential) -> bool:
    return TokenVerifier(_lookup, simulation=True).verify(credential)


def _sent_hashes(node: Node) -> list[str]:
    return [r.key.decode() for r in node.sink.on(CREDENTIAL_REQUESTS_TOPIC)]


# -- topics --------------------------------------------------------------------------------


def test_the_credential_topics_are_created_with_the_others() -> None:
    names = {spec.name: spec for spec in dief_topics()}
    assert CREDENTIAL_REQUESTS_TOPIC == "dief.credentials.requests"
    assert CREDENTIAL_ANSWERS_TOPIC == "dief.credentials.answers"
    assert names[CREDENTIAL_REQUESTS_TOPIC].partitions == 1
    assert names[CREDENTIAL_ANSWERS_TOPIC].partitions == 1


# -- a node gets its tokens -------------------------------------------------------------


async def test_a_node_gets_a_verifying_token_for_every_region_of_this_and_the_previous_cycle() -> (
    None
):
    forum = Forum()
    node = forum.node(1)
    assert node.client.current_cycle() == "CSP13"
    assert await node.client.step() == 0
    assert len(_sent_hashes(node)) == 10  # all five regions, two cycles, no delay
    assert await forum.serve(node) == 10
    assert await node.client.step() == 10
    held = {(c.cycle, c.region) for c in node.wallet.credentials()}
    assert held == {(c, r) for c in CYCLES for r in REGIONS}
    assert sorted((t.cycle, t.region) for t in node.tokens) == sorted(held)
    assert all(_verifies(t) for t in node.tokens)
    assert node.client.outstanding() == []
    # the directory is told how many tokens each (cycle, region) key signed
    assert forum.counts[-1]["CSP13", "AFR"] == (1, 0)
    assert sum(n for n, _ in forum.counts[-1].values()) == 10
    # nothing more is asked once every token is there
    forum.clock.advance(10_000)
    await node.client.step()
    assert _sent_hashes(node) == []


async def test_requests_wait_their_random_delays_on_the_clock() -> None:
    forum = Forum()
    node = forum.node(2, max_delay=3600.0, seed=7)
    await node.client.step()
    assert _sent_hashes(node) == []  # every delay is still running
    forum.clock.advance(1800)
    await node.client.step()
    halfway = len(_sent_hashes(node))
    assert 0 < halfway < 10  # independent delays: some are due, some not
    forum.clock.advance(1800)
    await node.client.step()
    sent = _sent_hashes(node)
    assert len(set(sent)) == 10  # every pair once; the early ones, unanswered, once more
    assert len(sent) == 10 + halfway


async def test_a_new_cycle_asks_for_its_five_tokens() -> None:
    forum = Forum()
    node = forum.node(3)
    await node.client.step()
    await forum.serve(node)
    await node.client.step()
    forum.clock.jump_to(datetime(2027, 9, 2, tzinfo=UTC).timestamp())  # CSP14 begins
    await node.client.step()
    assert node.client.outstanding() == [("CSP14", r) for r in sorted(REGIONS)]
    await forum.serve(node)
    assert await node.client.step() == 5


async def test_a_token_of_an_older_cycle_is_asked_for_on_demand() -> None:
    forum = Forum()
    node = forum.node(4)
    await node.client.request_now("CSP11", "GRULAC")
    assert len(_sent_hashes(node)) == 1  # at once, before the cycle's own plan
    await forum.serve(node)
    assert await node.client.step() == 1
    assert node.wallet.credential("CSP11", "GRULAC") is not None
    await node.client.request_now("CSP11", "GRULAC")  # held: nothing is sent
    assert len(_sent_hashes(node)) == 10  # only the cycle's ten from that step


# -- a lost answer ------------------------------------------------------------------------


async def test_a_lost_answer_is_asked_for_again_identically_and_answered() -> None:
    forum = Forum()
    node = forum.node(5)
    await node.client.step()
    first = _sent_hashes(node)
    lost = {first[0], first[3]}
    await forum.serve(node, drop=lost)
    assert await node.client.step() == 8
    assert len(node.client.outstanding()) == 2
    forum.clock.advance(599)
    await node.client.step()
    assert _sent_hashes(node) == []  # not before resend_after
    forum.clock.advance(2)
    await node.client.step()
    again = _sent_hashes(node)
    assert set(again) == lost  # the identical requests (same hash)
    assert await forum.serve(node) == 2  # answered again, not refused as already_issued
    assert await node.client.step() == 2
    assert len(node.wallet.credentials()) == 10
    assert sum(n for n, _ in forum.counts[-1].values()) == 10  # still one token per pair


async def test_a_restarted_node_takes_answers_that_came_while_it_was_down_without_asking() -> None:
    forum = Forum()
    node = forum.node(6)
    await node.client.step()
    await forum.serve(node)  # answered while the node is down: it never read them
    restarted = CredentialClient(
        node.wallet,
        registration_key=node.registration,
        kem_key=node.kem,
        directory=FakeDirectory,
        sink=node.sink,
        feed=forum.feed_records[0],
        clock=forum.clock,
        max_delay=0.0,
    )
    await forum.feed_records[0].close()
    assert await restarted.step() == 10
    assert _sent_hashes(node) == []  # recognised by their keys before anything was resent
    assert restarted.positions == {0: 10}


# -- forged requests --------------------------------------------------------------------


async def test_forged_requests_get_no_answer_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    forum = Forum()
    node = forum.node(7)
    await node.client.step()
    await forum.serve(node)
    await node.client.step()
    genuine = forum.node(8)
    await genuine.client.step()

    wallet = TokenWallet(node_secret(9), _lookup, simulation=True)
    stranger = SigningKey.generate()  # registered nowhere
    kem = KemPrivateKey.generate().public_key
    unregistered = build_request(
        wallet.request("CSP13", "AFR"), registration_key=stranger, node_kem_key=kem
    )
    # the first node asks for a second, different token under its registration
    other = build_request(
        wallet.request("CSP13", "AFR"), registration_key=node.registration, node_kem_key=kem
    )
    revoked_key = forum.registry.register()
    forum.registry.revoke(revoked_key.kid)
    revoked = build_request(
        wallet.request("CSP13", "EEG"), registration_key=revoked_key, node_kem_key=kem
    )
    forged = [
        seal_request(unregistered, SECRETARIAT.public_key),
        seal_request(other, SECRETARIAT.public_key),
        seal_request(revoked, SECRETARIAT.public_key),
        seal_request(unregistered, KemPrivateKey.generate().public_key),  # not to us
        b"not an envelope",
        None,
    ]
    records = [
        InboundRecord(CREDENTIAL_REQUESTS_TOPIC, 0, i, b"k", value)
        for i, value in enumerate(forged)
    ] + [
        InboundRecord(CREDENTIAL_REQUESTS_TOPIC, 0, 100 + i, r.key, r.value)
        for i, r in enumerate(genuine.sink.on(CREDENTIAL_REQUESTS_TOPIC))
    ]
    before = len(forum.answers.sent)
    with caplog.at_level(logging.INFO, logger="dief.credentials"):
        report = await forum.service.handle(records)
    assert report.answered == 10  # the genuine node's requests, after the forged ones
    assert report.refused == {
        "unknown_registration": 1,
        "already_issued": 1,
        "revoked_registration": 1,
        "no_recipient_key": 1,
        "malformed": 2,
    }
    answered = {r.key.decode() for r in forum.answers.sent[before:]}
    for request in (unregistered, other, revoked):
        assert request_hash(request) not in answered
    assert answered == set(_sent_hashes(genuine))
    # the log names reasons, never a registration
    for key in (stranger, node.registration, revoked_key):
        assert key.kid not in caplog.text
    assert "already_issued" in caplog.text


# -- another node's answers -------------------------------------------------------------


async def test_another_nodes_answers_and_copies_of_them_are_ignored() -> None:
    forum = Forum()
    alice, bob = forum.node(10), forum.node(11)
    await alice.client.step()
    await bob.client.step()
    alice_hashes = _sent_hashes(alice)
    bob_requests = list(bob.sink.on(CREDENTIAL_REQUESTS_TOPIC))
    bob.sink.sent.clear()
    await forum.service.handle(
        [
            InboundRecord(CREDENTIAL_REQUESTS_TOPIC, 0, i, r.key, r.value)
            for i, r in enumerate(bob_requests)
        ]
    )
    bob_answers = list(forum.answers.sent)
    feed = forum.feed_records[0]  # alice's
    for answer in bob_answers:
        feed.append(answer.key, answer.value)  # bob's answers, under bob's keys
        feed.append(alice_hashes[0].encode(), answer.value)  # copied under alice's key
    assert await alice.client.step() == 0
    assert alice.wallet.credentials() == []
    assert alice.tokens == []
    # alice's own answers still work afterwards
    await forum.serve(alice)
    assert await alice.client.step() == 10
    assert all(_verifies(t) for t in alice.tokens)
    # and bob's wallet takes bob's
    for answer in bob_answers:
        forum.feed_records[1].append(answer.key, answer.value)
    assert await bob.client.step() == 10
    alice_tokens = {t.token for t in alice.wallet.credentials()}
    assert alice_tokens.isdisjoint(t.token for t in bob.wallet.credentials())


# -- offline ------------------------------------------------------------------------------


async def test_offline_requests_and_answers_travel_as_files(tmp_path: Path) -> None:
    forum = Forum()
    node = forum.node(12)
    out, back = tmp_path / "out", tmp_path / "back"
    out.mkdir()
    back.mkdir()
    paths = node.client.write_requests(out)
    assert len(paths) == 10
    assert all("CSP" not in p.name for p in paths)  # file names say nothing of the pair
    for path in paths:
        await forum.service.answer_file(path, back)
    (back / "junk.answer").write_bytes(b"{}")
    taken = await node.client.read_answers(sorted(back.iterdir()))
    assert len(taken) == 10
    assert len(node.tokens) == 10
    assert all(_verifies(t) for t in taken)
    assert forum.counts[-1]["CSP12", "WEOG"] == (1, 0)


def test_reprs_show_counts_only() -> None:
    forum = Forum()
    node = forum.node(13)
    for text in (repr(node.client), repr(forum.service)):
        assert node.registration.kid not in text
        assert "CSP" not in text


# -- the issuer following a feed ----------------------------------------------------------


class _CountingSink(MemoryRecordSink):
    """A sink that sets :attr:`enough` once it holds *n* records."""

    __slots__ = ("enough", "n")

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.enough = asyncio.Event()

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        await super().send(topic, key, value)
        if len(self.sent) >= self.n:
            self.enough.set()


async def test_the_issuer_follows_a_feed_and_reads_a_failed_batch_again() -> None:
    forum = Forum()
    node = forum.node(14)
    await node.client.step()
    requests = MemoryRecordFeed(CREDENTIAL_REQUESTS_TOPIC)
    for rec in node.sink.on(CREDENTIAL_REQUESTS_TOPIC):
        requests.append(rec.key, rec.value)
    sink = _CountingSink(10)
    sink.faults.fail(times=1)  # the broker refuses the first answer
    service = IssuerService(
        forum.issuer,
        opening_keys=lambda: [SECRETARIAT],
        registrations=forum.registry,
        sink=sink,
        backoff=Backoff(initial=0.001, maximum=0.001),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(service.follow(requests, stop))
    try:
        await asyncio.wait_for(sink.enough.wait(), 30.0)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30.0)
    assert {r.key for r in sink.sent} == {r.key for r in node.sink.on(CREDENTIAL_REQUESTS_TOPIC)}
    assert service.positions == {0: 10}
    assert requests.starts == 2  # closed after the failure, started again where it was

"""Contributor credentials over a real broker (the embedded one and Apache Kafka; issue 12,
"Requests travel over Kafka"): the Secretariat's issuer service in its consumer group on
``dief.credentials.requests`` and two nodes' clients following ``dief.credentials.answers``,
on a simulated forum's per-party keys. Every node ends with a verifying token for each
region of this and the previous cycle, and the directory publishes the counts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from itertools import starmap
from typing import TYPE_CHECKING

import pytest

from dief.credentials import (
    CREDENTIAL_ANSWERS_TOPIC,
    CredentialClient,
    Issuer,
    IssuerKey,
    IssuerReport,
    IssuerService,
    MemoryLedger,
    Registration,
    TokenVerifier,
    TokenWallet,
    register_issuer,
)
from dief.crypto import VerifyKey, b64url_decode
from dief.kafka import KafkaRecordFeed, KafkaRecordSink, make_broker
from dief.keyring import KeyRole, SecretariatKeys, SimulatedForum
from dief.testing import FakeClock
from dief.vocab import Region
from dief.wire import KeyStatus

if TYPE_CHECKING:
    from pathlib import Path

    from dief.seams import ContributorCredential
    from tests.integration._brokers import BrokerStack

pytestmark = pytest.mark.integration

REGIONS = tuple(r.value for r in Region)
CYCLES = ("CSP12", "CSP13")
#: 2026-10-01: in CSP13 (cycles start in September).
START = datetime(2026, 10, 1, tzinfo=UTC).timestamp()
WANTED = {(c, r) for c in CYCLES for r in REGIONS}
TIME_LIMIT = 90.0


def _registry(sec: SecretariatKeys) -> dict[str, Registration]:
    """The Secretariat's registry as the issuer sees it (key ids and public keys only)."""
    return {
        entry.registration_kid: Registration(
            entry.registration_kid,
            verify_key=VerifyKey(b64url_decode(entry.registration_public)),
            revoked=entry.status is KeyStatus.REVOKED,
            reregistration=entry.replaces is not None,
        )
        for entry in sec.state().registry
    }


async def test_two_nodes_get_every_token_from_the_issuer_service_over_the_broker(
    broker_stack: BrokerStack, tmp_path: Path
) -> None:
    forum = SimulatedForum.create(
        tmp_path / "forum", "pw", nodes=("node-a", "node-b"), cycles=CYCLES
    )
    directory = forum.directory
    sec = forum.secretariat()
    registry = _registry(sec)
    issuer_keys = [
        IssuerKey(c, r, sec.issuer_private_key(c, r), simulation=True) for c, r in sorted(WANTED)
    ]
    issuer = Issuer(issuer_keys, registry.get, MemoryLedger())
    settings = broker_stack.settings("node")

    issuer_broker = make_broker(broker_stack.settings("secretariat"), client_id="dief-issuer")
    service = IssuerService(
        issuer,
        opening_keys=forum.opening_keys(KeyRole.SECRETARIAT),
        registrations=registry.get,
        sink=KafkaRecordSink(issuer_broker),
        on_counts=sec.set_token_counts,
    )
    reports: list[IssuerReport] = []
    register_issuer(
        issuer_broker, service, embedded=broker_stack.embedded, on_report=reports.append
    )
    node_broker = make_broker(settings, client_id="dief-node")

    wallets: list[TokenWallet] = []
    done: list[asyncio.Event] = []
    clients: list[CredentialClient] = []
    for name in forum.node_names():
        keys = forum.node(name)
        wallet = TokenWallet(keys.node_secret(), directory.issuer_key, simulation=True)
        complete = asyncio.Event()

        def on_token(
            _: ContributorCredential,
            wallet: TokenWallet = wallet,
            complete: asyncio.Event = complete,
        ) -> None:
            if {(c.cycle, c.region) for c in wallet.credentials()} >= WANTED:
                complete.set()

        clients.append(
            CredentialClient(
                wallet,
                registration_key=keys.registration_key(),
                kem_key=keys.kem_key(),
                directory=lambda: directory,
                sink=KafkaRecordSink(node_broker),
                feed=KafkaRecordFeed(settings, CREDENTIAL_ANSWERS_TOPIC, client_id="dief-node"),
                clock=FakeClock(START),
                max_delay=0.0,
                on_token=on_token,
            )
        )
        wallets.append(wallet)
        done.append(complete)

    await issuer_broker.start()
    await node_broker.connect()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(client.run(stop)) for client in clients]
    try:
        async with asyncio.timeout(TIME_LIMIT):
            await asyncio.gather(*(event.wait() for event in done))
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30.0)
        await node_broker.stop()
        await issuer_broker.stop()

    verifier = TokenVerifier(directory.issuer_key, simulation=True)
    pseudonyms: list[set[str]] = []
    for wallet in wallets:
        held = wallet.credentials()
        assert {(c.cycle, c.region) for c in held} == WANTED
        assert all(verifier.verify(c) for c in held)
        pseudonyms.append({c.contributor for c in held})
    assert pseudonyms[0].isdisjoint(pseudonyms[1])
    assert sum(r.answered for r in reports) >= 2 * len(WANTED)
    assert not any(r.refused for r in reports)
    # the counts reach the next directory: two tokens per (cycle, region) key
    published = forum.issue_directory()
    assert set(starmap(published.tokens_issued, WANTED)) == {2}

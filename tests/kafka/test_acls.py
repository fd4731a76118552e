"""The ACLs of DESIGN §2 enforced by a real Apache Kafka cluster: every grant and every
refusal for a national node, a regional aggregator (its own region only), the Secretariat,
and a client without credentials.

The expectations are written out here from DESIGN §2, not read from the ACL matrix, so a
wrong matrix fails them; ``test_the_cluster_holds_exactly_the_matrix`` ties the matrix to
what the cluster holds.
"""

from __future__ import annotations

import ssl
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaClient, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError, KafkaError

from dief.bulletins import BULLETINS_TOPIC as BULLETINS
from dief.kafka import (
    CREDENTIAL_ANSWERS_TOPIC as ANSWERS,
)
from dief.kafka import (
    CREDENTIAL_REQUESTS_TOPIC as REQUESTS,
)
from dief.kafka import (
    CSP_TOPIC,
    DIGESTS_TOPIC,
    DIRECTORY_TOPIC,
    RECEIPTS_TOPIC,
    ROUTES_TOPIC,
    cases_topic,
    dlq_topic,
)
from dief.kafka_cluster import KafkaCluster, acl_matrix, describe_acls, expected_acls
from dief.vocab import Region
from tests.kafka._access import Writer, can_read, quiet_aiokafka, visible_topics

pytestmark = [pytest.mark.kafka, pytest.mark.integration]

AFR, APG = Region.AFR, Region.APG
SHARED = (DIGESTS_TOPIC, CSP_TOPIC, RECEIPTS_TOPIC, ROUTES_TOPIC, REQUESTS, ANSWERS, BULLETINS)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def seeded(kafka_cluster: KafkaCluster) -> KafkaCluster:
    """Every DIEF topic holds a record in partition 0 (written by the admin), so a read
    that is allowed returns something."""
    producer = AIOKafkaProducer(**kafka_cluster.client_options(), acks="all")
    await producer.start()
    try:
        for spec in kafka_cluster.topics:
            await producer.send_and_wait(spec.name, b"seed", key=b"seed", partition=0)
    finally:
        await producer.stop()
    return kafka_cluster


async def _writes(cluster: KafkaCluster, user: str, topics: list[str]) -> dict[str, bool]:
    async with Writer(cluster, user) as writer:
        return {topic: await writer.write(topic) for topic in topics}


def _mismatches(got: dict[str, bool], allowed: set[str]) -> list[str]:
    return [
        f"{topic}: {'allowed' if ok else 'refused'}, expected "
        f"{'allowed' if topic in allowed else 'refused'}"
        for topic, ok in got.items()
        if ok != (topic in allowed)
    ]


ALL_TOPICS = [
    *(cases_topic(r) for r in Region),
    *(dlq_topic(r) for r in Region),
    *SHARED,
    DIRECTORY_TOPIC,
]


@pytest.mark.parametrize(
    ("user", "may_write"),
    [
        ("node", {*(cases_topic(r) for r in Region), REQUESTS}),
        (
            "aggregator-afr",
            {dlq_topic(AFR), DIGESTS_TOPIC, RECEIPTS_TOPIC, ROUTES_TOPIC, BULLETINS},
        ),
        (
            "secretariat",
            {CSP_TOPIC, DIRECTORY_TOPIC, ANSWERS, BULLETINS, *(dlq_topic(r) for r in Region)},
        ),
    ],
)
async def test_each_principal_writes_exactly_its_topics(
    seeded: KafkaCluster, user: str, may_write: set[str]
) -> None:
    with quiet_aiokafka():
        got = await _writes(seeded, user, ALL_TOPICS)
    assert _mismatches(got, may_write) == []


READS = {
    # (user, topic, group) -> allowed; DESIGN §2: nodes read the directory, receipts and
    # credential answers without a group, and nothing else.
    "node": [
        (DIRECTORY_TOPIC, None, True),
        (RECEIPTS_TOPIC, None, True),
        (ANSWERS, None, True),
        (BULLETINS, None, True),
        (cases_topic(AFR), None, False),
        (dlq_topic(AFR), None, False),
        (DIGESTS_TOPIC, None, False),
        (CSP_TOPIC, None, False),
        (ROUTES_TOPIC, None, False),
        (REQUESTS, None, False),
        (DIRECTORY_TOPIC, "dief-node", False),  # no consumer group at all
    ],
    # A region's aggregator reads its own region's topics, the directory, csp.reporting
    # and the route topic, in its own groups; no other region's.
    "aggregator-afr": [
        (cases_topic(AFR), "dief-aggregator-afr", True),
        (dlq_topic(AFR), None, True),
        (ROUTES_TOPIC, "dief-routes-afr", True),
        (DIRECTORY_TOPIC, None, True),
        (CSP_TOPIC, None, True),
        (BULLETINS, None, True),  # the group key releases
        (cases_topic(APG), None, False),
        (cases_topic(APG), "dief-aggregator-afr", False),
        (dlq_topic(APG), None, False),
        (cases_topic(AFR), "dief-aggregator-apg", False),
        (ROUTES_TOPIC, "dief-routes-apg", False),
        (DIGESTS_TOPIC, None, False),
        (RECEIPTS_TOPIC, None, False),
        (REQUESTS, None, False),
        (ANSWERS, None, False),
    ],
    # The Secretariat reads digests (and credential requests, as the issuer) in its own
    # groups, and the directory it signs; no case, DLQ, receipt or route.
    "secretariat": [
        (DIGESTS_TOPIC, "dief-secretariat", True),
        (REQUESTS, "dief-issuer", True),
        (DIRECTORY_TOPIC, None, True),
        (cases_topic(AFR), None, False),
        (dlq_topic(AFR), None, False),
        (RECEIPTS_TOPIC, None, False),
        (ROUTES_TOPIC, None, False),
        (ANSWERS, None, False),
        (CSP_TOPIC, None, False),
        (BULLETINS, None, False),
        (DIGESTS_TOPIC, "dief-aggregator-afr", False),
    ],
}


@pytest.mark.parametrize("user", sorted(READS))
async def test_each_principal_reads_exactly_its_topics(seeded: KafkaCluster, user: str) -> None:
    wrong = []
    with quiet_aiokafka():
        for topic, group, allowed in READS[user]:
            if await can_read(seeded, user, topic, group) != allowed:
                verb = "refused" if allowed else "allowed"
                wrong.append(f"{topic} (group {group}): {verb}")
    assert wrong == []


@pytest.mark.parametrize("region", list(Region))
async def test_every_aggregator_sees_only_its_own_region(
    seeded: KafkaCluster, region: Region
) -> None:
    shared = {DIGESTS_TOPIC, RECEIPTS_TOPIC, ROUTES_TOPIC, DIRECTORY_TOPIC, CSP_TOPIC, BULLETINS}
    user = f"aggregator-{region.topic_code}"
    visible = await visible_topics(seeded, user)
    assert visible == {cases_topic(region), dlq_topic(region), *shared}


async def test_nodes_and_the_secretariat_see_only_their_topics(seeded: KafkaCluster) -> None:
    node = await visible_topics(seeded, "node")
    assert node == {
        *(cases_topic(r) for r in Region),
        REQUESTS,
        ANSWERS,
        RECEIPTS_TOPIC,
        DIRECTORY_TOPIC,
        BULLETINS,
    }
    secretariat = await visible_topics(seeded, "secretariat")
    assert secretariat == {
        DIGESTS_TOPIC,
        CSP_TOPIC,
        DIRECTORY_TOPIC,
        REQUESTS,
        ANSWERS,
        BULLETINS,
        *(dlq_topic(r) for r in Region),
    }


async def test_a_client_without_credentials_gets_nothing(seeded: KafkaCluster) -> None:
    plain_tls = seeded.client_options(None)  # TLS, no SASL
    wrong_password = {**seeded.client_options("node"), "sasl_plain_password": "not-it"}
    no_tls = {"bootstrap_servers": seeded.bootstrap, "security_protocol": "PLAINTEXT"}
    untrusted = {**seeded.client_options("node"), "ssl_context": ssl.create_default_context()}
    for options in (plain_tls, wrong_password, no_tls, untrusted):
        with quiet_aiokafka(), pytest.raises((KafkaConnectionError, KafkaError, ssl.SSLError)):
            await _list_topics(options)


async def _list_topics(options: dict[str, Any]) -> list[str]:
    admin = AIOKafkaAdminClient(**options, request_timeout_ms=5000)
    try:
        await admin.start()
        return list(await admin.list_topics())
    finally:
        await admin.close()


async def test_the_cluster_holds_exactly_the_matrix(seeded: KafkaCluster) -> None:
    client = AIOKafkaClient(**seeded.client_options(), request_timeout_ms=10_000)
    await client.bootstrap()
    try:
        held = await describe_acls(client)
    finally:
        await client.close()
    assert held == expected_acls(acl_matrix())

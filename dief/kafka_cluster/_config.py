"""The Apache Kafka broker configuration, once, for production and for the tests (DESIGN §9,
§12).

:data:`SHARED_BROKER_SETTINGS` and :func:`replication_settings` are what ``compose.yaml``
sets on its three brokers (as ``KAFKA_*`` variables, checked in ``tests/kafka``) and what
:class:`~dief.kafka_cluster.KafkaCluster` writes into each broker's ``server.properties``:
KRaft with combined broker and controller roles, SASL_SSL with SCRAM-SHA-512 for clients
and between brokers, an SSL controller listener that only a broker certificate can use,
the StandardAuthorizer with nothing allowed without an ACL, ``User:admin`` a super user.
:data:`LEAN_SETTINGS` are for the throw-away clusters only: few threads, small internal
topics, no group-join delay (two cores run the whole test suite).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from dief.kafka import DEFAULT_CASE_PARTITIONS, TopicSpec, dief_topics
from dief.kafka_cluster._tls import BROKER_CERT_SUBJECT

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "ADMIN_USER",
    "CLIENT_LISTENER",
    "CONTROLLER_LISTENER",
    "LEAN_SETTINGS",
    "SCRAM_MECHANISM",
    "SHARED_BROKER_SETTINGS",
    "compose_env_name",
    "deployed_topics",
    "render_properties",
    "replication_settings",
]

#: The SCRAM user the brokers use between themselves and the operator uses for setup.
ADMIN_USER: Final = "admin"
SCRAM_MECHANISM: Final = "SCRAM-SHA-512"
CLIENT_LISTENER: Final = "SASL_SSL"
CONTROLLER_LISTENER: Final = "CONTROLLER"

#: Every broker of every cluster, production and tests alike.
SHARED_BROKER_SETTINGS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "process.roles": "broker,controller",
        "controller.listener.names": CONTROLLER_LISTENER,
        "listener.security.protocol.map": f"{CONTROLLER_LISTENER}:SSL,{CLIENT_LISTENER}:SASL_SSL",
        "inter.broker.listener.name": CLIENT_LISTENER,
        "sasl.enabled.mechanisms": SCRAM_MECHANISM,
        "sasl.mechanism.inter.broker.protocol": SCRAM_MECHANISM,
        # Clients authenticate with SCRAM; the controller listener only with a broker
        # certificate (SCRAM cannot serve the controllers: its credentials live in the
        # metadata log they serve).
        "ssl.client.auth": "none",
        "listener.name.controller.ssl.client.auth": "required",
        "ssl.keystore.type": "PKCS12",
        "ssl.truststore.type": "PEM",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{ADMIN_USER};User:{BROKER_CERT_SUBJECT}",
        "auto.create.topics.enable": "false",
        "log.message.timestamp.type": "CreateTime",
    }
)

#: Throw-away clusters only (tests, ``dief kafka``): lean on two cores.
LEAN_SETTINGS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "num.network.threads": "2",
        "num.io.threads": "2",
        "background.threads": "2",
        "num.replica.fetchers": "1",
        "num.recovery.threads.per.data.dir": "1",
        "log.cleaner.threads": "1",
        "log.cleaner.dedupe.buffer.size": str(8 << 20),
        "offsets.topic.num.partitions": "3",
        "transaction.state.log.num.partitions": "3",
        "group.initial.rebalance.delay.ms": "0",
        "num.partitions": "1",
        "log.segment.bytes": str(16 << 20),
        "controller.quorum.election.timeout.ms": "1000",
        "controller.quorum.fetch.timeout.ms": "2000",
        "broker.session.timeout.ms": "6000",
        "broker.heartbeat.interval.ms": "1000",
    }
)


def replication_settings(brokers: int) -> dict[str, str]:
    """Replication of a cluster of *brokers*: factor 3 and ``min.insync.replicas=2`` from
    three brokers on (DESIGN §12), everything on the one broker of a single-broker cluster."""
    factor = min(3, brokers)
    isr = 2 if factor >= 3 else 1  # noqa: PLR2004  three brokers is the design's replicated cluster (DESIGN §12)
    return {
        "default.replication.factor": str(factor),
        "min.insync.replicas": str(isr),
        "offsets.topic.replication.factor": str(factor),
        "transaction.state.log.replication.factor": str(factor),
        "transaction.state.log.min.isr": str(isr),
    }


def deployed_topics(
    partitions: int = DEFAULT_CASE_PARTITIONS, replication_factor: int = 3
) -> tuple[TopicSpec, ...]:
    """The topics a cluster is set up with: :func:`dief.kafka.dief_topics`, replicated."""
    return dief_topics(partitions=partitions, replication_factor=replication_factor)


def compose_env_name(key: str) -> str:
    """The apache/kafka image's environment variable for the property *key*
    (``.`` → ``_``, ``_`` → ``__``, ``-`` → ``___``, upper case, ``KAFKA_`` prefix)."""
    mapped = key.replace("_", "__").replace("-", "___").replace(".", "_")
    return "KAFKA_" + mapped.upper()


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("=", "\\=").replace(":", "\\:")


def render_properties(settings: Mapping[str, str]) -> str:
    """*settings* as a Java properties file (keys sorted; values escaped)."""
    return "".join(f"{key}={_escape(settings[key])}\n" for key in sorted(settings))

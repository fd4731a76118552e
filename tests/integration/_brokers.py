"""One test body, two brokers (DESIGN §12): the embedded Tansu and a real Apache Kafka.

A test takes the ``broker_stack`` fixture (tests/conftest.py; parameters ``embedded`` and
``kafka``, the latter marked ``kafka``) and gets a :class:`BrokerStack`: where to connect,
and DIEF's settings or aiokafka's options for a principal of the ACL matrix. The embedded
broker is a fresh one per test; the Kafka cluster is the session's, emptied first (its
topics and consumer groups), so fixed group ids start from the beginning of empty topics.
``proxied_stack`` puts a :class:`dief.testing.TcpProxy` in front of the broker (on Kafka a
one-broker cluster of the test's own that advertises the proxy).

Helpers in ``_pipeline_helpers`` take a stack wherever they take a bootstrap string.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from dief.broker import EmbeddedBroker, pick_free_port
from dief.kafka_cluster import KafkaCluster, KafkaRuntime, find_runtime
from dief.settings import KafkaRuntimeSettings, KafkaSettings
from dief.testing import TcpProxy, broker_behind_proxy

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator
    from contextlib import AbstractAsyncContextManager

#: The ``broker_stack`` parameters.
BROKER_KINDS = ("embedded", "kafka")
Kind = Literal["embedded", "kafka"]


@dataclass(frozen=True)
class BrokerStack:
    """A broker to run one test body on: the embedded Tansu or Apache Kafka."""

    kind: Kind
    bootstrap: str
    cluster: KafkaCluster | None = None
    proxy: TcpProxy | None = None

    @property
    def embedded(self) -> bool:
        """No idempotent producers, Tansu's group timing (DESIGN §9)."""
        return self.cluster is None

    @asynccontextmanager
    async def running(self) -> AsyncGenerator[BrokerStack, None]:
        """Yield this stack, in place of ``async with EmbeddedBroker() as broker`` in a test body
        (the fixture owns the broker's lifetime)."""
        yield self

    def settings(self, user: str = "admin") -> KafkaSettings:
        """DIEF's settings as *user* (on the embedded broker: anyone, PLAINTEXT)."""
        if self.cluster is None:
            return KafkaSettings(bootstrap=self.bootstrap, embedded=True)
        return self.cluster.settings(user)

    def client_options(self, user: str = "admin") -> dict[str, Any]:
        """The aiokafka keyword arguments as *user*, ``bootstrap_servers`` included."""
        if self.cluster is None:
            return {"bootstrap_servers": self.bootstrap}
        return self.cluster.client_options(user)

    def env(self, user: str = "admin") -> dict[str, str]:
        """``DIEF_KAFKA__*`` for a ``dief`` service run as a subprocess (tests only: the
        password is in it)."""
        settings = self.settings(user)
        env = {"DIEF_KAFKA__BOOTSTRAP": settings.bootstrap}
        if settings.embedded:
            return {**env, "DIEF_KAFKA__EMBEDDED": "true"}
        assert settings.password is not None
        return {
            **env,
            "DIEF_KAFKA__SECURITY_PROTOCOL": settings.security_protocol,
            "DIEF_KAFKA__SASL_MECHANISM": str(settings.sasl_mechanism),
            "DIEF_KAFKA__USERNAME": str(settings.username),
            "DIEF_KAFKA__PASSWORD": settings.password.get_secret_value(),
            "DIEF_KAFKA__CA_FILE": str(settings.ca_file),
        }


def local_runtime() -> KafkaRuntime:
    """Java and the cached Kafka jars as the environment names them
    (:class:`KafkaRuntimeSettings`). :raises KafkaUnavailableError: either is missing."""
    env = KafkaRuntimeSettings()
    return find_runtime(java=env.java, cache_dir=env.cache_dir)


@asynccontextmanager
async def embedded_stack() -> AsyncGenerator[BrokerStack, None]:
    """A fresh embedded broker with the DIEF topics."""
    async with EmbeddedBroker() as broker:
        yield BrokerStack("embedded", broker.bootstrap)


@asynccontextmanager
async def kafka_stack(cluster: KafkaCluster) -> AsyncGenerator[BrokerStack, None]:
    """The session's Kafka cluster, emptied for this test."""
    await cluster.reset()
    yield BrokerStack("kafka", cluster.bootstrap, cluster)


@asynccontextmanager
async def proxied_embedded_stack() -> AsyncGenerator[BrokerStack, None]:
    """An embedded broker without topics behind a proxy."""
    async with broker_behind_proxy() as stack:
        yield BrokerStack("embedded", stack.bootstrap, proxy=stack.proxy)


@asynccontextmanager
async def proxied_kafka_stack() -> AsyncGenerator[BrokerStack, None]:
    """A one-broker Kafka cluster of its own, advertising a proxy in front of it (the
    DIEF topics and ACLs, created through the proxy)."""
    port = pick_free_port()
    async with TcpProxy(("127.0.0.1", port)) as proxy:
        cluster = KafkaCluster(
            client_ports=[port], advertised_ports=[proxy.listen_port], runtime=local_runtime()
        )
        async with cluster:
            yield BrokerStack("kafka", cluster.bootstrap, cluster, proxy)


def stack_for(kind: str, cluster: KafkaCluster | None) -> AbstractAsyncContextManager[BrokerStack]:
    """The context manager of ``broker_stack``'s parameter *kind*."""
    if kind == "kafka":
        assert cluster is not None
        return kafka_stack(cluster)
    return embedded_stack()

"""A throw-away Apache Kafka cluster of one or three KRaft brokers on loopback ports.

Start: TLS material and SCRAM passwords are made, each broker's ``server.properties``
written (:mod:`dief.kafka_cluster._config`), the storage formatted with the SCRAM users
(``kafka.tools.StorageTool format --add-scram``), the brokers spawned; ready once the
metadata (asked as ``admin`` over SASL_SSL) lists every broker. Then the DIEF topics and
the ACL matrix are created. Stop: SIGTERM, SIGKILL after a time limit, the folder removed.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import shutil
import ssl
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from aiokafka import AIOKafkaClient
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from pydantic import SecretStr

from dief.broker import accepts, format_tail
from dief.exceptions import BrokerError, BrokerStartError, ConfigurationError
from dief.kafka import (
    DEFAULT_CASE_PARTITIONS,
    TopicSpec,
    ensure_topics,
    probe_capabilities,
)
from dief.kafka_cluster._acl_admin import create_acls
from dief.kafka_cluster._acls import AclGrant, acl_matrix
from dief.kafka_cluster._config import ADMIN_USER, SCRAM_MECHANISM, deployed_topics
from dief.kafka_cluster._prepare import prepare_brokers
from dief.kafka_cluster._reset import empty_topics_and_groups
from dief.kafka_cluster._runtime import KafkaRuntime, find_runtime
from dief.settings import KafkaSettings

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

    from dief.kafka_cluster._node import BrokerProcess, NodeLayout
    from dief.kafka_cluster._tls import TlsFiles

__all__ = ["KafkaCluster"]

_HOST = "127.0.0.1"
_MIN_HEAP_MB = 128  # a broker does not start with less
_RESET_ATTEMPTS = 3  # reset() on a retriable error (a partition leader just moved)


class KafkaCluster:  # noqa: PLR0904  one object owns the cluster's life cycle; its public methods are its API
    """One or three Apache Kafka brokers for tests and development (DESIGN §12).

    ``async with KafkaCluster(brokers=3) as cluster:`` — :attr:`bootstrap` lists every
    broker (on *client_ports* if given, else free ones; each broker tells clients to use
    its port in *advertised_ports* instead, if given: a proxy in front of it);
    :meth:`settings` gives DIEF's :class:`KafkaSettings` for one principal of the ACL
    matrix (``"admin"``, ``"node"``, ``"secretariat"``, ``"aggregator-afr"``, …).
    *topics* default to the DIEF topics with *partitions* per case topic, replicated on
    up to three brokers; *acls* (default: the whole matrix) are applied after them.

    Records are on disk in a temporary folder, so a broker killed with :meth:`kill` and
    started again with :meth:`restart` keeps them. Passwords are random per cluster and
    never in a repr.
    """

    def __init__(  # noqa: PLR0913  a keyword signature of settings, each with its default
        self,
        *,
        brokers: int = 1,
        partitions: int = DEFAULT_CASE_PARTITIONS,
        topics: Sequence[TopicSpec] | None = None,
        acls: Sequence[AclGrant] | None = None,
        heap_mb: int = 512,
        start_timeout: float = 120.0,
        stop_timeout: float = 20.0,
        runtime: KafkaRuntime | None = None,
        client_ports: Sequence[int] | None = None,
        advertised_ports: Sequence[int] | None = None,
    ) -> None:
        if brokers not in {1, 3}:
            raise ConfigurationError(f"a development cluster has 1 or 3 brokers, not {brokers}")
        for ports in (client_ports, advertised_ports):
            if ports is not None and len(ports) != brokers:
                raise ConfigurationError(f"give one client port per broker ({brokers})")
        if start_timeout <= 0 or stop_timeout <= 0 or heap_mb < _MIN_HEAP_MB:
            raise ConfigurationError("timeouts must be positive and the heap at least 128 MB")
        replicas = min(3, brokers)
        self._brokers = brokers
        self._topics = tuple(deployed_topics(partitions, replicas) if topics is None else topics)
        self._acls = tuple(acl_matrix() if acls is None else acls)
        self._heap_mb = heap_mb
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._runtime = runtime
        self._client_ports = tuple(client_ports) if client_ports is not None else None
        self._advertised_ports = tuple(advertised_ports) if advertised_ports is not None else None
        self._folder: Path | None = None
        self._tls: TlsFiles | None = None
        self._passwords: dict[str, str] = {}
        self._nodes: list[BrokerProcess] = []
        self._startup_seconds: float | None = None

    def __repr__(self) -> str:
        if not self._nodes:
            return f"KafkaCluster(brokers={self._brokers}, stopped)"
        return f"KafkaCluster(brokers={self._brokers}, bootstrap={self.bootstrap!r})"

    # -- public state -------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        """``127.0.0.1:PORT[,…]``: every broker's client (SASL_SSL) listener, as advertised
        (the proxy's ports when *advertised_ports* were given)."""
        if not self._nodes:
            raise BrokerError("the Kafka cluster is not started")
        return ",".join(f"{_HOST}:{self._advertised(n.layout)}" for n in self._nodes)

    def _advertised(self, layout: NodeLayout) -> int:
        if self._advertised_ports is None:
            return layout.client_port
        return self._advertised_ports[layout.node_id - 1]

    @property
    def node_ids(self) -> tuple[int, ...]:
        return tuple(n.layout.node_id for n in self._nodes)

    @property
    def ca_file(self) -> Path:
        if self._tls is None:
            raise BrokerError("the Kafka cluster is not started")
        return self._tls.ca_file

    @property
    def topics(self) -> tuple[TopicSpec, ...]:
        return self._topics

    @property
    def users(self) -> tuple[str, ...]:
        """The SCRAM user names (``admin`` and every principal of the ACL matrix)."""
        return tuple(self._passwords)

    @property
    def startup_seconds(self) -> float | None:
        return self._startup_seconds

    @property
    def folder(self) -> Path | None:
        """The temporary folder with every broker's configuration, data and log."""
        return self._folder

    def broker(self, node_id: int) -> BrokerProcess:
        for node in self._nodes:
            if node.layout.node_id == node_id:
                return node
        raise ConfigurationError(f"no broker {node_id} in {self!r}")

    def settings(self, user: str = ADMIN_USER) -> KafkaSettings:
        """DIEF's Kafka settings for *user* (SASL_SSL, SCRAM-SHA-512, the cluster's CA)."""
        return KafkaSettings(
            bootstrap=self.bootstrap,
            security_protocol="SASL_SSL",
            sasl_mechanism=SCRAM_MECHANISM,
            username=user,
            password=SecretStr(self._password(user)),
            ca_file=self.ca_file,
        )

    def client_options(self, user: str | None = ADMIN_USER) -> dict[str, Any]:
        """The keyword arguments of aiokafka for *user*; ``None``: TLS without any credentials."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        options: dict[str, Any] = {"bootstrap_servers": self.bootstrap, "ssl_context": context}
        if user is None:
            return {**options, "security_protocol": "SSL"}
        return {
            **options,
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": SCRAM_MECHANISM,
            "sasl_plain_username": user,
            "sasl_plain_password": self._password(user),
        }

    def _password(self, user: str) -> str:
        try:
            return self._passwords[user]
        except KeyError:
            raise ConfigurationError(f"no SCRAM user {user!r} in this cluster") from None

    # -- lifecycle ----------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Format, spawn, wait until every broker is in the metadata, create the topics
        and ACLs.

        :raises KafkaUnavailableError: no Java or no resolved jars.
        :raises BrokerStartError: a broker did not start (its last output quoted); nothing
            is left running and the folder is removed.
        """
        if self._nodes:
            raise BrokerError(f"{self!r} is already started")
        began = time.monotonic()
        runtime: KafkaRuntime = (
            self._runtime if self._runtime is not None else await asyncio.to_thread(find_runtime)
        )
        self._folder = Path(tempfile.mkdtemp(prefix="dief-kafka-"))
        atexit.register(self._kill_at_exit)
        try:  # noqa: PLW0717  every failure of the step maps to one error
            await asyncio.to_thread(self._prepare, runtime)
            for node in self._nodes:
                node.start()
            await self.wait_ready()
            options = self.client_options()
            del options["bootstrap_servers"]
            await ensure_topics(self.bootstrap, self._topics, time_limit=60.0, **options)
            await self._apply_acls()
            await self._wait_idempotence()
        except BaseException:
            await self._kill_all()
            raise
        self._startup_seconds = time.monotonic() - began

    async def stop(self) -> None:
        """SIGTERM every broker (in parallel), SIGKILL after *stop_timeout*, remove the
        folder. Safe to repeat."""
        try:
            await asyncio.gather(*(n.stop(self._stop_timeout) for n in self._nodes))
        finally:
            self._forget()

    async def kill(self, node_id: int) -> None:
        """SIGKILL one broker (its data stays for :meth:`restart`)."""
        await self.broker(node_id).kill()

    async def terminate(self, node_id: int) -> None:
        """Stop one broker cleanly (SIGTERM; SIGKILL after *stop_timeout*)."""
        await self.broker(node_id).stop(self._stop_timeout)

    async def restart(self, node_id: int) -> None:
        """Start a stopped or killed broker again; returns once the metadata lists it."""
        node = self.broker(node_id)
        await node.stop(self._stop_timeout)
        node.start()
        await self.wait_ready()

    async def wait_ready(self, time_limit: float | None = None) -> None:
        """Until the metadata lists every broker that is running.

        :raises BrokerStartError: a broker exited, or the time ran out.
        """
        limit = time_limit or self._start_timeout
        deadline = time.monotonic() + limit
        delay = 0.1
        while True:
            for node in self._nodes:
                if node.crashed:
                    raise BrokerStartError(
                        f"Kafka broker {node.layout.node_id} exited with code "
                        f"{node.exit_code}.{format_tail(node.output_tail())}"
                    )
            wanted = {n.layout.node_id for n in self._nodes if n.wanted}
            if wanted and wanted <= await self._listed_brokers():
                return
            if time.monotonic() >= deadline:
                tails = "".join(
                    f"\nbroker {n.layout.node_id}:{format_tail(n.output_tail())}"
                    for n in self._nodes
                )
                raise BrokerStartError(
                    f"the Kafka cluster at {self.bootstrap} was not ready within {limit:g} s "
                    f"(waiting for brokers {sorted(wanted)}).{tails}"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    async def wait_fully_replicated(self, time_limit: float = 120.0) -> None:
        """Until every partition of :attr:`topics` has all its replicas in sync (before a
        rolling restart takes the next broker down).

        :raises BrokerError: not within *time_limit* seconds.
        """
        names = [t.name for t in self._topics]
        deadline = time.monotonic() + time_limit
        while True:
            lagging = await self._under_replicated(names)
            if not lagging:
                return
            if time.monotonic() >= deadline:
                raise BrokerError(
                    f"partitions still under-replicated after {time_limit:g} s: "
                    + ", ".join(lagging[:10])
                )
            await asyncio.sleep(0.5)

    async def reset(self) -> None:
        """Empty every topic of :attr:`topics` and delete every consumer group: the next
        test sees a fresh cluster (nothing may be consuming). Compacted topics (the
        directory) keep their records: Kafka deletes no records from them.

        :raises BrokerError: the broker refused.
        """
        deletable = [t.name for t in self._topics if ("cleanup.policy", "compact") not in t.configs]
        for attempt in range(_RESET_ATTEMPTS):
            # a new client each time: fresh metadata after a leader moved (a retriable
            # error, which Kafka's own clients retry the same way)
            options = {**self.client_options(), "request_timeout_ms": 15_000}
            admin = AIOKafkaAdminClient(**options)
            client = AIOKafkaClient(**options)  # DeleteGroups: the admin has no call for it
            try:
                await admin.start()
                await client.bootstrap()
                await empty_topics_and_groups(admin, client, deletable)
            except BrokerError as exc:
                cause = exc.__cause__
                retriable = isinstance(cause, KafkaError) and cause.retriable
                if not retriable or attempt == _RESET_ATTEMPTS - 1:
                    raise
            else:
                return
            finally:
                await admin.close()
                await client.close()

    async def leader_of(self, topic: str, partition: int = 0) -> int:
        """The node id leading *topic*'s *partition* now."""
        admin = AIOKafkaAdminClient(**self.client_options(), request_timeout_ms=10_000)
        try:
            await admin.start()
            described = await admin.describe_topics([topic])
        finally:
            await admin.close()
        for entry in described:
            for part in entry["partitions"]:
                if part["partition"] == partition and part["leader"] >= 0:
                    return int(part["leader"])
        raise BrokerError(f"{topic}[{partition}] has no leader now")

    # -- internals ----------------------------------------------------------------------

    def _prepare(self, runtime: KafkaRuntime) -> None:
        """Blocking: TLS, users, layout, properties, formatting (all brokers at once)."""
        assert self._folder is not None  # noqa: S101  narrows the type: start() sets the folder first
        prepared = prepare_brokers(
            self._folder,
            runtime,
            brokers=self._brokers,
            client_ports=self._client_ports,
            advertised_ports=self._advertised_ports,
            heap_mb=self._heap_mb,
        )
        self._tls, self._passwords, self._nodes = (
            prepared.tls,
            dict(prepared.passwords),
            list(prepared.nodes),
        )

    async def _listed_brokers(self) -> set[int]:
        ports = [self._advertised(n.layout) for n in self._nodes if n.wanted]
        if not any([await accepts(port) for port in ports]):
            return set()  # not listening yet: spare the client's connection errors
        try:
            admin = AIOKafkaAdminClient(**self.client_options(), request_timeout_ms=5000)
        except (KafkaError, OSError):
            return set()
        try:
            async with asyncio.timeout(8.0):
                await admin.start()
                cluster = await admin.describe_cluster()
        except (KafkaError, OSError, TimeoutError):
            return set()
        finally:
            with contextlib.suppress(KafkaError, OSError):
                await admin.close()
        return {int(b["node_id"]) for b in cluster.get("brokers", [])}

    async def _under_replicated(self, names: list[str]) -> list[str]:
        admin = AIOKafkaAdminClient(**self.client_options(), request_timeout_ms=10_000)
        try:
            await admin.start()
            described = await admin.describe_topics(names)
        except (KafkaError, OSError) as exc:
            return [f"(metadata unavailable: {type(exc).__name__})"]
        finally:
            with contextlib.suppress(KafkaError, OSError):
                await admin.close()
        return [
            f"{entry['topic']}[{part['partition']}]"
            for entry in described
            for part in entry["partitions"]
            if part["leader"] < 0 or len(part["isr"]) < len(part["replicas"])
        ]

    async def _apply_acls(self) -> None:
        if not self._acls:
            return
        client = AIOKafkaClient(**self.client_options(), request_timeout_ms=30_000)
        try:
            await client.bootstrap()
            await create_acls(client, self._acls)
        except KafkaError as exc:
            raise BrokerStartError(
                f"applying the ACLs on {self.bootstrap} failed: {type(exc).__name__}"
            ) from exc
        finally:
            await client.close()

    async def _wait_idempotence(self) -> None:
        """Until the brokers hand out producer ids (right after start they answer
        COORDINATOR_LOAD_IN_PROGRESS for a while)."""
        found = await probe_capabilities(self.settings(), time_limit=self._start_timeout)
        if not found.idempotence:
            raise BrokerStartError(
                f"the Kafka cluster at {self.bootstrap} hands out no producer ids: "
                + "; ".join(found.notes)
            )

    async def _kill_all(self) -> None:
        try:
            await asyncio.gather(*(n.kill() for n in self._nodes))
        finally:
            self._forget()

    def _forget(self) -> None:
        atexit.unregister(self._kill_at_exit)
        self._nodes = []
        self._tls = None
        self._passwords = {}
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def _kill_at_exit(self) -> None:
        for node in self._nodes:
            with contextlib.suppress(Exception):
                asyncio.run(node.kill())
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

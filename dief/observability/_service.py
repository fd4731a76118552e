"""One service instance's observability: its own registry, readiness and HTTP endpoint.

:class:`Observability` is what a service holds: a fresh :class:`CollectorRegistry` (never
the global default one, so tests and several services in one process do not collide), the
process metrics on it, a :class:`Readiness`, scrape hooks, and the endpoint of
:class:`MetricsSettings` (off without a port). Constructing it does no I/O; ``start`` binds,
``stop`` closes.

:class:`NodeObservability` is the national node's: outbox depth and age of the oldest
pending entry (read from the outbox at each scrape), records published and relay failures
(the relay's counters).

:func:`kafka_consumers_check` is the readiness check of FastStream Kafka brokers whose
subscribers have joined their groups.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from dief.observability._http import ObservabilityServer, ScrapeHook
from dief.observability._readiness import Readiness, ReadyCheck, StoreHealth

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from dief.observability._lag import LagConsumer
    from dief.settings import MetricsSettings

__all__ = [
    "NodeObservability",
    "Observability",
    "OutboxBacklog",
    "RelayCounters",
    "kafka_consumers",
    "kafka_consumers_check",
]


class Observability:
    """The registry, readiness and endpoint of one service instance (see the module).

    Each ``/metrics`` runs the scrape hooks first, giving up on those not done within
    *scrape_timeout* seconds (their gauges keep the values they had).
    """

    def __init__(
        self, settings: MetricsSettings | None = None, *, scrape_timeout: float = 2.0
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # The process, platform and GC metrics, on this registry (not the default one).
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.readiness = Readiness()
        self._host = settings.host if settings is not None else "127.0.0.1"
        self._port = settings.port if settings is not None else None
        self._hooks: list[ScrapeHook] = []
        self._scrape_timeout = scrape_timeout
        self._server: ObservabilityServer | None = None

    def __repr__(self) -> str:
        return f"Observability(port={self._port}, state={self.readiness.state.value!r})"

    @property
    def enabled(self) -> bool:
        """Whether :meth:`start` serves an endpoint (a port is configured)."""
        return self._port is not None

    @property
    def port(self) -> int | None:
        """The port served on (the one picked when 0 was asked), None when not serving."""
        return None if self._server is None else self._server.port

    def on_scrape(self, hook: ScrapeHook) -> None:
        """Run *hook* before each ``/metrics`` answer (it updates gauges)."""
        self._hooks.append(hook)

    def add_check(self, name: str, check: ReadyCheck) -> None:
        """Add a readiness check (see :meth:`Readiness.add_check`)."""
        self.readiness.add_check(name, check)

    async def start(self) -> None:
        """Serve the endpoint, if a port is configured (again: nothing).

        :raises ConfigurationError: the address cannot be bound.
        """
        if self._port is None or self._server is not None:
            return
        server = ObservabilityServer(
            self.registry,
            self.readiness,
            host=self._host,
            port=self._port,
            hooks=self._hooks,
            scrape_timeout=self._scrape_timeout,
        )
        await server.start()
        self._server = server

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.stop()


# -- the national node ---------------------------------------------------------------------


class OutboxBacklog(Protocol):
    """What the node's metrics read from its outbox (``dief.node.Outbox``)."""

    async def backlog(self) -> tuple[int, datetime | None]: ...


class RelayCounters(Protocol):
    """What the node's metrics read from its relay (``dief.node.OutboxRelay``)."""

    @property
    def published(self) -> int: ...

    @property
    def failures(self) -> int: ...


class _RelayCollector(Collector):
    def __init__(self, owner: NodeObservability) -> None:
        self._owner = owner

    def describe(self) -> list[Metric]:
        return self._families(0, 0)

    def collect(self) -> list[Metric]:
        relay = self._owner.relay
        if relay is None:
            return self._families(0, 0)
        return self._families(relay.published, relay.failures)

    @staticmethod
    def _families(published: int, failures: int) -> list[Metric]:
        sent = CounterMetricFamily(
            "dief_node_records_published",
            "Outbox entries the broker acknowledged (acks=all) since the node started; a "
            "retried batch counts again",
            value=published,
        )
        failed = CounterMetricFamily(
            "dief_node_relay_failures",
            "Relay attempts that failed (broker away, outbox unreadable) since the node started",
            value=failures,
        )
        return [sent, failed]


class NodeObservability:
    """The national node's metrics, readiness and endpoint.

    Metrics: ``dief_node_outbox_pending`` and ``dief_node_outbox_oldest_pending_age_seconds``
    (read from the outbox at each scrape), ``dief_node_records_published_total`` and
    ``dief_node_relay_failures_total`` (the relay's counters). Ready while started and the
    outbox answers; a broker outage does not make the node unready (it keeps accepting
    cases, which wait in the outbox): it shows in the relay failures and the backlog's age.
    """

    def __init__(
        self, settings: MetricsSettings | None = None, *, observability: Observability | None = None
    ) -> None:
        self._owns = observability is None
        self.observability = observability if observability is not None else Observability(settings)
        registry = self.observability.registry
        self._pending = Gauge(
            "dief_node_outbox_pending",
            "Outbox entries not yet marked published (the relay marks what the broker "
            "acknowledged within a second or a batch)",
            registry=registry,
        )
        self._age = Gauge(
            "dief_node_outbox_oldest_pending_age_seconds",
            "Seconds since the oldest entry still pending was accepted (0 when none is)",
            registry=registry,
        )
        registry.register(_RelayCollector(self))
        self.relay: RelayCounters | None = None
        self._outbox: OutboxBacklog | None = None
        self._store = StoreHealth(self._read_backlog, fresh=5.0)
        self.observability.on_scrape(self._refresh)
        self.observability.add_check("outbox", self._store)

    def __repr__(self) -> str:
        return f"NodeObservability({self.observability!r})"

    async def start(self, outbox: OutboxBacklog, relay: RelayCounters) -> None:
        """Measure *outbox* and *relay*, serve the endpoint (if configured) and be ready."""
        self._outbox = outbox
        self.relay = relay
        self.observability.readiness.starting()
        if self._owns:
            await self.observability.start()
        self.observability.readiness.started()

    async def stop(self) -> None:
        self.observability.readiness.stopping()
        self._outbox = None
        self.observability.readiness.stopped()
        if self._owns:
            await self.observability.stop()

    async def _read_backlog(self) -> None:
        outbox = self._outbox
        if outbox is None:
            raise RuntimeError("the outbox is not open")
        pending, oldest = await outbox.backlog()
        age = 0.0 if oldest is None else (datetime.now(UTC) - oldest).total_seconds()
        self._pending.set(pending)
        self._age.set(max(0.0, age))

    async def _refresh(self) -> None:
        if self._outbox is None:
            return
        try:
            await self._read_backlog()
        except Exception as exc:
            message = getattr(exc, "message", None)
            self._store.failed(message if isinstance(message, str) else type(exc).__name__)
            raise
        self._store.succeeded()


# -- Kafka consumers -----------------------------------------------------------------------


def kafka_consumers(broker: Any) -> list[LagConsumer]:  # noqa: ANN401  aiokafka's and FastStream's objects, and JSON values, are untyped here
    """The running aiokafka consumers of a FastStream Kafka *broker*'s subscribers (their
    public ``consumer`` attribute; None until started and after stopping)."""
    found: list[LagConsumer] = []
    for subscriber in broker.subscribers:
        consumer = getattr(subscriber, "consumer", None)
        if consumer is not None:
            found.append(consumer)
    return found


def kafka_consumers_check(brokers: Mapping[str, Any]) -> ReadyCheck:
    """A readiness check: every broker client of *brokers* (label → FastStream Kafka broker)
    runs and each of its subscribers has joined its group (holds partitions)."""

    async def check() -> str | None:  # noqa: RUF029  a ReadyCheck is awaited; this one needs no await itself
        problems: list[str] = []
        for label, broker in brokers.items():
            problems.extend(f"{label}: {why}" for why in _broker_problems(broker))
        return "; ".join(problems) or None

    return check


def _broker_problems(broker: Any) -> Iterable[str]:  # noqa: ANN401  aiokafka's and FastStream's objects, and JSON values, are untyped here
    if not getattr(broker, "running", False):
        yield "broker client not running"
        return
    for subscriber in broker.subscribers:
        consumer = getattr(subscriber, "consumer", None)
        if consumer is None:
            yield "consumer not started"
        elif not consumer.assignment():
            yield "no partition assigned (joining its group or rebalancing)"

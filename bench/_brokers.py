"""The broker a bench phase runs on: a fresh embedded Tansu (the default) or, with
``--kafka``, a fresh one-broker Apache Kafka (``dief.kafka_cluster``: SASL_SSL, SCRAM, the
ACLs; DIEF's producers idempotent there, and the baseline's too, for a like-for-like
comparison). Nodes publish as ``node``; the aggregator child and the baseline as ``admin``
(one process consumes every region)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dief.broker import EmbeddedBroker
from dief.kafka_cluster import KafkaCluster, find_runtime
from dief.settings import KafkaRuntimeSettings, KafkaSettings

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["BenchBroker", "child_client_options", "child_settings", "start_broker"]


@dataclass
class BenchBroker:
    """One phase's broker; :meth:`stop` when the phase is over."""

    embedded_broker: EmbeddedBroker | None = None
    cluster: KafkaCluster | None = None

    @property
    def embedded(self) -> bool:
        return self.cluster is None

    @property
    def bootstrap(self) -> str:
        if self.cluster is not None:
            return self.cluster.bootstrap
        assert self.embedded_broker is not None
        return self.embedded_broker.bootstrap

    @property
    def pid(self) -> int:
        if self.cluster is not None:
            return self.cluster.broker(self.cluster.node_ids[0]).pid or 0
        assert self.embedded_broker is not None
        return self.embedded_broker.pid or 0

    def settings(self, user: str = "admin") -> KafkaSettings:
        if self.cluster is not None:
            return self.cluster.settings(user)
        return KafkaSettings(bootstrap=self.bootstrap, embedded=True)

    def client_options(self, user: str = "admin") -> dict[str, Any]:
        if self.cluster is not None:
            return self.cluster.client_options(user)
        return {"bootstrap_servers": self.bootstrap}

    def child_config(self, user: str = "admin") -> dict[str, object]:
        """The Kafka settings for a ``bench._child`` (sent on its stdin, never argv)."""
        settings = self.settings(user)
        return settings.model_dump(mode="json") | {
            "password": settings.password.get_secret_value() if settings.password else None
        }

    async def stop(self) -> None:
        if self.cluster is not None:
            await self.cluster.stop()
        if self.embedded_broker is not None:
            await self.embedded_broker.stop()


async def start_broker(work: Path, name: str, *, kafka: bool) -> BenchBroker:
    (work / name).mkdir(parents=True, exist_ok=True)
    if kafka:
        env = KafkaRuntimeSettings()
        runtime = find_runtime(java=env.java, cache_dir=env.cache_dir)
        cluster = KafkaCluster(brokers=1, runtime=runtime)
        await cluster.start()
        return BenchBroker(cluster=cluster)
    broker = EmbeddedBroker(log_path=work / name / "broker.log")
    await broker.start()
    return BenchBroker(embedded_broker=broker)


def child_settings(cfg: dict[str, Any]) -> KafkaSettings:
    """The child's :class:`KafkaSettings` from its config (older configs: a bootstrap)."""
    if "kafka" in cfg:
        return KafkaSettings.model_validate(cfg["kafka"])
    return KafkaSettings(bootstrap=cfg["bootstrap"], embedded=True)


def child_client_options(cfg: dict[str, Any]) -> dict[str, Any]:
    """The aiokafka keyword arguments for the child's settings."""
    from dief.kafka import security_options  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

    settings = child_settings(cfg)
    return {"bootstrap_servers": settings.bootstrap, **security_options(settings)}

"""`dief kafka`: a development Apache Kafka (DESIGN §9, §12) with the DIEF topics and ACLs.

One or three KRaft brokers on free loopback ports, SASL_SSL with SCRAM-SHA-512 and the ACL
matrix production uses, until Ctrl-C. The jars come from ``deploy/kafka/pom.xml`` (resolved
with Maven on first use, as ``scripts/install`` does). Each principal's client settings are
written as an env file (``DIEF_KAFKA__*``, mode 0600) so that ``dief node``, ``dief
aggregate`` and ``dief secretariat`` can be pointed at it; nothing secret is printed.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from dief.exceptions import DiefError, KafkaUnavailableError
from dief.kafka_cluster import KafkaCluster, KafkaRuntime, find_runtime, resolve_classpath
from dief.settings import DEFAULT_DIR, KafkaRuntimeSettings

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add this module's commands to *app*."""
    app.command("kafka", help="Run a development Apache Kafka (1 or 3 brokers) until Ctrl-C.")(
        kafka
    )


def kafka(
    brokers: Annotated[
        int, typer.Option("--brokers", min=1, max=3, help="1, or 3 (replication factor 3).")
    ] = 1,
    partitions: Annotated[
        int, typer.Option("--partitions", min=1, help="Partitions per dief.<region>.cases topic.")
    ] = 3,
    env_dir: Annotated[
        Path,
        typer.Option("--env-dir", help="Where each principal's DIEF_KAFKA__* env file goes."),
    ] = DEFAULT_DIR / "kafka",
    heap_mb: Annotated[int, typer.Option("--heap-mb", min=128, help="JVM heap per broker.")] = 512,
) -> None:
    """Run a development Apache Kafka (1 or 3 brokers) until Ctrl-C."""
    if brokers not in {1, 3}:  # --brokers is 1 to 3
        typer.echo("error: a development cluster has 1 or 3 brokers", err=True)
        raise typer.Exit(2)
    try:
        runtime = _ensure_jars(KafkaRuntimeSettings())
        cluster = KafkaCluster(
            brokers=brokers, partitions=partitions, heap_mb=heap_mb, runtime=runtime
        )
        asyncio.run(_serve(cluster, env_dir))
    except DiefError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None


def _ensure_jars(env: KafkaRuntimeSettings) -> KafkaRuntime:
    """Java and the pinned Kafka's class path, resolved with Maven if not cached yet."""
    try:
        return find_runtime(java=env.java, cache_dir=env.cache_dir)
    except KafkaUnavailableError as exc:
        if "class path" not in exc.message:
            raise
        typer.echo("resolving Apache Kafka's jars with Maven (once) ...")
        resolve_classpath(cache_dir=env.cache_dir)
        return find_runtime(java=env.java, cache_dir=env.cache_dir)


def _write_env_files(cluster: KafkaCluster, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for user in cluster.users:
        settings = cluster.settings(user)
        assert settings.password is not None  # noqa: S101  every user of the cluster has a SCRAM password; narrows the type
        lines = {
            "DIEF_KAFKA__BOOTSTRAP": settings.bootstrap,
            "DIEF_KAFKA__SECURITY_PROTOCOL": settings.security_protocol,
            "DIEF_KAFKA__SASL_MECHANISM": str(settings.sasl_mechanism),
            "DIEF_KAFKA__USERNAME": user,
            "DIEF_KAFKA__PASSWORD": settings.password.get_secret_value(),
            "DIEF_KAFKA__CA_FILE": str(settings.ca_file),
        }
        path = folder / f"{user}.env"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.writelines(f"{key}={value}\n" for key, value in lines.items())
        written.append(path)
    return written


async def _serve(cluster: KafkaCluster, env_dir: Path) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    written: list[Path] = []
    try:
        typer.echo("starting Apache Kafka ...")
        async with cluster:
            written = _write_env_files(cluster, env_dir)
            typer.echo(f"bootstrap: {cluster.bootstrap} (SASL_SSL, SCRAM-SHA-512)")
            typer.echo(f"CA certificate: {cluster.ca_file}")
            typer.echo(f"started in {cluster.startup_seconds or 0.0:.1f} s; topics and ACLs set")
            typer.echo(f"client settings per principal (env files, 0600) in {env_dir}:")
            typer.echo("  " + " ".join(p.name for p in written))
            typer.echo("data in a temporary folder, removed when it stops. Ctrl-C to stop.")
            await stop.wait()
            typer.echo("stopping Apache Kafka")
    finally:
        for path in written:
            path.unlink(missing_ok=True)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)

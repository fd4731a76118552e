"""``dief web``: the portal of one party (DESIGN §13), and ``dief web-account``: its accounts.

- ``dief web --party node``: the national node's portal **and** the node service (intake,
  relay, receipts, tokens: the settings of ``dief node``), in one process;
- ``dief web --party region --region AFR``: the meeting's dashboard, read from the
  aggregator's database (``--aggregator-database-url``, else ``DIEF_DATABASE_URL``, else
  the last ``dief demo`` / ``dief run``);
- ``dief web --party secretariat``: with the Secretariat's keyring (``--keys`` or
  ``DIEF_KEYRING__PATH``), the Secretariat's portal **and** the Secretariat service (the
  settings of ``dief secretariat``) in one process: a released summary is published by the
  running service, the registry works on its keyring and a directory version issued there
  gets its bulletin group key release; without a keyring, a read-only preview of the
  Secretariat's database (``--secretariat-database-url``, else the last run's).

``--demo`` makes demo accounts (printed with their passwords and authenticator secrets)
and starts a local simulated forum (embedded broker, keys, aggregators; for the node the
Secretariat service too) in ``.dief/portal-demo``; for the Secretariat, demo digests are
posted so that a summary is there to release.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import SecretStr
from rich.console import Console

from dief.cli._console import (
    BootstrapOpt,
    EmbeddedOpt,
    fail,
    kafka_options,
    keyring_passphrase,
    load_or_fail,
    stored_database,
)
from dief.cli._directory import unlock_keys
from dief.cli._web_accounts import (
    DbOpt,
    PartyOpt,
    account_app,
    demo_accounts,
    make_portal,
    portal_settings,
)
from dief.crypto import Opener
from dief.database import sqlite_path, sqlite_url
from dief.exceptions import DiefError, KeyNotFoundError
from dief.keyring import KeyRole
from dief.node import FileResult
from dief.portal import (
    KeyringRegistry,
    NodeBulletins,
    NodeServiceGateway,
    Party,
    Portal,
    SecretariatPublisher,
    StoreDigests,
    StoreSummaries,
    create_app,
    hold_file,
    private_folder,
)
from dief.settings import (
    AGGREGATOR_FILE,
    SECRETARIAT_FILE,
    AggregatorSettings,
    NodeSettings,
    PortalSettings,
    RunSettings,
    SecretariatSettings,
)
from dief.vocab import Region

if TYPE_CHECKING:
    from dief.portal._demo import LocalForum

__all__ = ["register"]

console = Console(highlight=False)


def _node_settings(keys: Path | None, bootstrap: str | None, embedded: bool) -> NodeSettings:
    overrides = {"keyring": {"path": keys}, "kafka": kafka_options(bootstrap, embedded)}
    return load_or_fail(NodeSettings, overrides)


def _with_node(
    portal: Portal, settings: PortalSettings, node: NodeSettings, passphrase: SecretStr | None
) -> None:
    """Run the node service in the portal's process; the portal posts through it."""
    from producers.node import NodeService  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it

    hold = None
    if node.four_eyes:  # the intake folder's cases await a second officer, in the portal

        async def hold(path: Path) -> FileResult:
            return await hold_file(portal.drafts, path, portal.screener)

    service = NodeService(node, passphrase, hold=hold)
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    portal.gateway = NodeServiceGateway(service, node.outbox, private_folder(settings.work_dir))

    async def start() -> None:
        await service.start()
        tasks.append(asyncio.create_task(service.run(stop), name="node"))
        console.print(f"node running; outbox {node.outbox}")

    async def halt() -> None:
        stop.set()
        for task in tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=15)
        await service.stop()

    portal.on_start.append(start)
    portal.on_stop.append(halt)
    # the bulletins the node follows into its outbox file, and its watches (dief alerts')
    bulletins = NodeBulletins(node.outbox)
    portal.bulletins = bulletins
    portal.on_start.append(bulletins.start)
    portal.on_stop.append(bulletins.stop)


def _secretariat_settings(
    settings: PortalSettings, keys: Path | None, bootstrap: str | None, embedded: bool
) -> SecretariatSettings:
    """The settings of the Secretariat service run with the portal (those of ``dief
    secretariat``; ``--secretariat-database-url`` is its database)."""
    url = settings.secretariat_database_url
    overrides: dict[str, Any] = {
        "database_url": url.get_secret_value() if url is not None else None,
        "k_csp": settings.k_csp if "k_csp" in settings.model_fields_set else None,
        "cycle_start_month": (
            settings.cycle_start_month if "cycle_start_month" in settings.model_fields_set else None
        ),
        "keyring": {"path": keys},
        "kafka": kafka_options(bootstrap, embedded),
    }
    return load_or_fail(SecretariatSettings, overrides)


def _with_secretariat(
    portal: Portal, secretariat: SecretariatSettings, passphrase: SecretStr
) -> None:
    """Run the Secretariat service in the portal's process: the portal publishes summaries
    through the running Secretariat (its store, signer and sink) and keeps the registry on
    its keyring, publishing directory versions and their group key release on its broker."""
    from consumers.secretariat import SecretariatService  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it

    # summaries are published only when a second person releases them here (DESIGN §13)
    service = SecretariatService(secretariat, passphrase, publishes_summaries=False)
    portal.summaries = StoreSummaries(
        secretariat.database_url.get_secret_value(), k=secretariat.k_csp,
        start_month=secretariat.cycle_start_month, regions=tuple(secretariat.regions),
    )  # fmt: skip

    async def start() -> None:
        await service.start()
        running, issuer = service.secretariat, service.group_key_issuer
        folder, sink = service.keyring_folder, service.sink
        if running is None or issuer is None or folder is None or sink is None:
            raise DiefError("the Secretariat service did not start")  # start() returned
        portal.publisher = SecretariatPublisher(running)
        portal.registry = KeyringRegistry(
            folder, passphrase, sink=sink, on_issued=(issuer.publish,)
        )
        console.print(f"Secretariat running; database {_shown(secretariat)}", soft_wrap=True)

    async def halt() -> None:
        portal.publisher = None
        portal.registry = None
        await service.stop()

    portal.on_start.append(start)
    portal.on_stop.append(halt)


def _shown(secretariat: SecretariatSettings) -> str:
    """The database's kind and, for SQLite, its file (never a password)."""
    url = secretariat.database_url.get_secret_value()
    path = sqlite_path(url)
    return str(path) if path is not None else url.split(":", 1)[0]


def _stopping(forum: LocalForum) -> Callable[[], Awaitable[None]]:
    """Stop the demo forum's children when the portal stops (the last of its stop hooks):
    uvicorn re-raises the SIGTERM it caught once it has shut down, so the code after its
    ``run`` may never run."""

    async def stop() -> None:
        await asyncio.to_thread(forum.stop)

    return stop


def _demo_digests(forum: LocalForum) -> Callable[[], Awaitable[None]]:
    """After the Secretariat started: the last ``dief demo`` run's digests, signed by the
    demo forum's regions, on its broker (once), so there is a summary to release."""
    from dief.portal._demo import send_demo_digests  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it

    async def send() -> None:

        last_run = load_or_fail(RunSettings, {}, connects=False).run_dir / AGGREGATOR_FILE
        if not last_run.is_file():
            console.print("no `dief demo` run to take demo digests from: run `dief demo` first")
            return
        sent = await send_demo_digests(forum, sqlite_url(last_run))
        if sent:
            console.print(f"{sent} demo digests sent to the Secretariat")

    return send


def _has_keyring(keys: Path | None, passphrase_file: Path | None) -> bool:
    """``--keys`` or ``--passphrase-file`` given, or ``DIEF_KEYRING__PATH`` set."""
    if keys is not None or passphrase_file is not None:
        return True
    return "path" in load_or_fail(SecretariatSettings, {}, connects=False).keyring.model_fields_set


def _aggregator_url(settings: PortalSettings) -> str:
    if settings.aggregator_database_url is not None:
        return settings.aggregator_database_url.get_secret_value()

    aggregator = load_or_fail(AggregatorSettings, {}, connects=False)
    last_run = load_or_fail(RunSettings, {}, connects=False).run_dir / AGGREGATOR_FILE
    given = "database_url" in aggregator.model_fields_set
    return stored_database(
        aggregator.database_url, given=given, last_run=last_run, what="aggregator"
    )


def _lesson_openers(
    regions: tuple[Region, ...], keys: Path | None, passphrase_file: Path | None
) -> dict[Region, Any]:
    """The region's keys (``--keys`` or ``DIEF_KEYRING__PATH``) open the lessons of the
    regions they hold keys for; without a keyring, lessons are omitted (and said so)."""
    settings = load_or_fail(AggregatorSettings, {"keyring": {"path": keys}}, connects=False)
    keyring = settings.keyring
    if "path" not in keyring.model_fields_set and passphrase_file is None:
        return {}
    passphrase = keyring_passphrase(keyring, passphrase_file)
    source = unlock_keys(keyring, passphrase, "the region's keys are", settings.directory)
    openers: dict[Region, Any] = {}
    for region in regions:
        try:
            openers[region] = Opener(source.opening_keys(KeyRole.REGION, region.value))
        except KeyNotFoundError:
            continue  # not this keyring's region: its lessons stay omitted
    return openers


def _secretariat_url(settings: PortalSettings) -> str:
    if settings.secretariat_database_url is not None:
        return settings.secretariat_database_url.get_secret_value()

    secretariat = load_or_fail(SecretariatSettings, {}, connects=False)
    last_run = load_or_fail(RunSettings, {}, connects=False).run_dir / SECRETARIAT_FILE
    given = "database_url" in secretariat.model_fields_set
    return stored_database(
        secretariat.database_url, given=given, last_run=last_run, what="Secretariat"
    )


def web(
    party: PartyOpt = Party.NODE,
    host: Annotated[str | None, typer.Option("--host", help="Address (DIEF_PORTAL_HOST)")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (DIEF_PORTAL_PORT)")] = None,
    region: Annotated[
        list[Region] | None, typer.Option("--region", help="A region portal's region (repeatable)")
    ] = None,
    database_url: DbOpt = None,
    secretariat_database_url: Annotated[
        str | None,
        typer.Option("--secretariat-database-url", help="The Secretariat's database"),
    ] = None,
    aggregator_database_url: Annotated[
        str | None,
        typer.Option(
            "--aggregator-database-url", help="A region portal: the aggregator's database"
        ),
    ] = None,
    keys: Annotated[
        Path | None,
        typer.Option(
            "--keys",
            help="The node's keyring; the Secretariat's (runs its service); a region's, to "
            "open its lessons",
        ),
    ] = None,
    passphrase_file: Annotated[
        Path | None, typer.Option("--passphrase-file", help="File holding the keyring passphrase")
    ] = None,
    bootstrap: BootstrapOpt = None,
    embedded: EmbeddedOpt = False,
    demo: Annotated[
        bool, typer.Option("--demo", help="Demo accounts (and, for a node, a local forum)")
    ] = False,
) -> None:
    """Serve one party's part of the portal (node, region or Secretariat)."""
    overrides: dict[str, Any] = {
        "party": party.value, "host": host, "port": port, "database_url": database_url,
        "aggregator_database_url": aggregator_database_url,
        "secretariat_database_url": secretariat_database_url,
        "regions": list(dict.fromkeys(region)) if region else None,
    }  # fmt: skip
    if demo:
        overrides["cookie_secure"] = overrides.get("cookie_secure", False)
    settings = portal_settings(overrides)
    portal = make_portal(settings)
    if demo:
        asyncio.run(demo_accounts(portal))
    sources = _Sources(keys, passphrase_file, bootstrap, embedded, demo=demo)
    try:
        with contextlib.ExitStack() as stack:
            _wire(stack, portal, settings, sources)
            _serve(portal, settings)
    except DiefError as exc:
        raise fail(exc) from exc


@dataclass(frozen=True, slots=True)
class _Sources:
    """Where ``dief web`` takes a party's keys and broker from (its options)."""

    keys: Path | None
    passphrase_file: Path | None
    bootstrap: str | None
    embedded: bool
    demo: bool


def _wire(
    stack: contextlib.ExitStack, portal: Portal, settings: PortalSettings, sources: _Sources
) -> None:
    """Give *portal* its party's service (node, Secretariat) or store (region); what it
    starts is stopped by *stack*."""
    if portal.party is Party.NODE:
        _wire_node(stack, portal, settings, sources)
    elif portal.party is Party.REGION:
        portal.digests = StoreDigests(
            _aggregator_url(settings),
            k=settings.k_meeting,
            start_month=settings.cycle_start_month,
            openers=_lesson_openers(portal.regions, sources.keys, sources.passphrase_file),
        )
    else:
        _wire_secretariat(stack, portal, settings, sources)


def _wire_node(
    stack: contextlib.ExitStack, portal: Portal, settings: PortalSettings, sources: _Sources
) -> None:
    """The node service in the portal's process: a local forum's (``--demo``), else the
    one of the node's keyring and broker."""
    if sources.demo:
        from dief.portal._demo import LocalForum  # noqa: PLC0415  the demo forum, only with --demo

        forum = stack.enter_context(LocalForum.started(settings.work_dir / "portal-demo"))
        portal.on_stop.append(_stopping(forum))
        node = load_or_fail(NodeSettings, forum.node_overrides())
        passphrase: SecretStr | None = forum.passphrase
    else:
        node = _node_settings(sources.keys, sources.bootstrap, sources.embedded)
        passphrase = keyring_passphrase(node.keyring, sources.passphrase_file)
    _with_node(portal, settings, node, passphrase)


def _wire_secretariat(
    stack: contextlib.ExitStack, portal: Portal, settings: PortalSettings, sources: _Sources
) -> None:
    """The Secretariat service in the portal's process (a local forum's with ``--demo``,
    else the one of the Secretariat's keyring), or without a keyring a read-only preview."""
    if sources.demo:
        from dief.portal._demo import LocalForum  # noqa: PLC0415  the demo forum, only with --demo

        forum = stack.enter_context(
            LocalForum.started(settings.work_dir / "portal-demo-secretariat", services=False)
        )
        portal.on_stop.append(_stopping(forum))  # after the Secretariat stopped
        secretariat = load_or_fail(SecretariatSettings, forum.secretariat_overrides())
        _with_secretariat(portal, secretariat, forum.passphrase)
        portal.on_start.append(_demo_digests(forum))
    elif _has_keyring(sources.keys, sources.passphrase_file):
        secretariat = _secretariat_settings(
            settings, sources.keys, sources.bootstrap, sources.embedded
        )
        passphrase = keyring_passphrase(secretariat.keyring, sources.passphrase_file)
        _with_secretariat(portal, secretariat, passphrase)
    else:  # a read-only preview: the pages say to use dief summary and dief keys
        console.print("no Secretariat keyring (--keys): a read-only preview")
        portal.summaries = StoreSummaries(
            _secretariat_url(settings), k=settings.k_csp, start_month=settings.cycle_start_month
        )


def _serve(portal: Portal, settings: PortalSettings) -> None:
    """Run *portal*'s web server until it is stopped (Ctrl-C)."""
    import uvicorn  # noqa: PLC0415  the web server, loaded by the one command that serves

    scheme = "https" if settings.cookie_secure else "http"
    console.print(f"portal ({settings.party}) at {scheme}://{settings.host}:{settings.port}/")
    config = uvicorn.Config(
        create_app(portal), host=settings.host, port=settings.port, log_level="warning",
        server_header=False, proxy_headers=False,
    )  # fmt: skip
    uvicorn.Server(config).run()


def register(app: typer.Typer) -> None:
    """Add ``web`` and ``web-account`` to *app*."""
    app.command("web")(web)
    app.add_typer(account_app, name="web-account")

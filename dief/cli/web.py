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
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import SecretStr
from rich.console import Console

from dief.cli._console import fail, kafka_options, keyring_passphrase, load_or_fail
from dief.exceptions import DiefError
from dief.portal import (
    LoginLimiter,
    Party,
    Portal,
    PortalDatabase,
    Role,
    SessionCodec,
    StoreDigests,
    StoreSummaries,
    create_app,
    private_folder,
    totp_code,
    totp_uri,
)
from dief.settings import NodeSettings, PortalSettings, SecretariatSettings
from dief.vocab import Region

__all__ = ["register"]

console = Console(highlight=False)
account_app = typer.Typer(help="The portal's accounts (per party).", no_args_is_help=True)

PartyOpt = Annotated[
    Party, typer.Option("--party", help="Whose portal: node, region or secretariat")
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="The portal's accounts database (DIEF_PORTAL_DATABASE_URL)"
    ),
]


def _settings(overrides: dict[str, Any]) -> PortalSettings:
    return load_or_fail(PortalSettings, overrides, connects=False)


def _node_settings(keys: Path | None, bootstrap: str | None, embedded: bool) -> NodeSettings:
    overrides = {"keyring": {"path": keys}, "kafka": kafka_options(bootstrap, embedded)}
    return load_or_fail(NodeSettings, overrides)


def _portal(settings: PortalSettings) -> Portal:
    if settings.database_url is None:
        settings.work_dir.mkdir(parents=True, exist_ok=True)
    return Portal(
        party=Party(settings.party),
        db=PortalDatabase(settings.accounts_url()),
        codec=SessionCodec(
            settings.session_secret.get_secret_value(),
            idle_seconds=settings.idle_minutes * 60,
            secure=settings.cookie_secure,
        ),
        limiter=LoginLimiter(settings.login_attempts, settings.login_window_minutes * 60),
        regions=tuple(settings.regions or list(Region)),
        cycle_start_month=settings.cycle_start_month,
    )


def _with_node(
    portal: Portal, settings: PortalSettings, node: NodeSettings, passphrase: SecretStr | None
) -> None:
    """Run the node service in the portal's process; the portal posts through it."""
    from dief.node import FileResult
    from dief.portal import NodeBulletins, NodeServiceGateway, hold_file
    from producers.node import NodeService

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
    from consumers.secretariat import SecretariatService
    from dief.portal import KeyringRegistry, SecretariatPublisher

    # summaries are published only when a second person releases them here (DESIGN §13)
    service = SecretariatService(secretariat, passphrase, publishes_summaries=False)
    portal.summaries = StoreSummaries(
        secretariat.database_url.get_secret_value(), k=secretariat.k_csp,
        start_month=secretariat.cycle_start_month,
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
    from dief.database import sqlite_path

    url = secretariat.database_url.get_secret_value()
    path = sqlite_path(url)
    return str(path) if path is not None else url.split(":", 1)[0]


def _stopping(forum: Any) -> Callable[[], Awaitable[None]]:
    """Stop the demo forum's children when the portal stops (the last of its stop hooks):
    uvicorn re-raises the SIGTERM it caught once it has shut down, so the code after its
    ``run`` may never run."""

    async def stop() -> None:
        await asyncio.to_thread(forum.stop)

    return stop


def _demo_digests(forum: Any) -> Callable[[], Awaitable[None]]:
    """After the Secretariat started: the last ``dief demo`` run's digests, signed by the
    demo forum's regions, on its broker (once), so there is a summary to release."""
    from dief.portal._demo import send_demo_digests

    async def send() -> None:
        from dief.database import sqlite_url
        from dief.settings import AGGREGATOR_FILE, RunSettings

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
    from dief.cli._console import stored_database
    from dief.settings import AGGREGATOR_FILE, AggregatorSettings, RunSettings

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
    from dief.cli._directory import unlock_keys
    from dief.crypto import Opener
    from dief.exceptions import KeyNotFoundError
    from dief.keyring import KeyRole
    from dief.settings import AggregatorSettings

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
    from dief.cli._console import stored_database
    from dief.settings import SECRETARIAT_FILE, RunSettings, SecretariatSettings

    secretariat = load_or_fail(SecretariatSettings, {}, connects=False)
    last_run = load_or_fail(RunSettings, {}, connects=False).run_dir / SECRETARIAT_FILE
    given = "database_url" in secretariat.model_fields_set
    return stored_database(
        secretariat.database_url, given=given, last_run=last_run, what="Secretariat"
    )


DEMO_ACCOUNTS: dict[Party, list[tuple[str, tuple[Role, ...], Region | None]]] = {
    Party.NODE: [
        ("officer", (Role.OFFICER,), None),
        ("approver", (Role.OFFICER, Role.APPROVER), None),
        ("admin", (Role.ADMINISTRATOR,), None),
    ],
    Party.REGION: [
        *((f"member-{r.value.lower()}", (Role.MEETING_MEMBER,), r) for r in Region),
        ("admin", (Role.ADMINISTRATOR,), None),
    ],
    Party.SECRETARIAT: [  # two of each: every release is a second person's
        ("editor", (Role.SECRETARIAT_EDITOR,), None),
        ("editor2", (Role.SECRETARIAT_EDITOR,), None),
        ("admin", (Role.ADMINISTRATOR,), None),
        ("admin2", (Role.ADMINISTRATOR,), None),
    ],
}


async def _demo_accounts(portal: Portal) -> None:
    """Make the party's demo accounts that do not exist yet and print how to sign in."""
    await portal.db.start()
    try:
        for name, roles, region in DEMO_ACCOUNTS[portal.party]:
            if await portal.accounts.by_name(name) is not None:
                continue
            password = secrets.token_urlsafe(12)
            secret = await portal.accounts.create(name, password, roles, region=region)
            console.print(  # one line each, whatever the terminal's width (copy, scripts)
                f"demo account [bold]{name}[/bold] password {password} authenticator {secret}",
                soft_wrap=True,
            )
    finally:
        await portal.db.stop()
    console.print("a sign-in code: dief web-account code NAME --party " + portal.party.value)


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
    bootstrap: Annotated[
        str | None,
        typer.Option("--bootstrap", help="A node's or the Secretariat's portal: the broker"),
    ] = None,
    embedded: Annotated[
        bool, typer.Option("--embedded", help="The broker is the embedded Tansu")
    ] = False,
    demo: Annotated[
        bool, typer.Option("--demo", help="Demo accounts (and, for a node, a local forum)")
    ] = False,
) -> None:
    """Serve one party's part of the portal (node, region or Secretariat)."""
    import uvicorn

    overrides: dict[str, Any] = {
        "party": party.value, "host": host, "port": port, "database_url": database_url,
        "aggregator_database_url": aggregator_database_url,
        "secretariat_database_url": secretariat_database_url,
        "regions": list(dict.fromkeys(region)) if region else None,
    }  # fmt: skip
    if demo:
        overrides["cookie_secure"] = overrides.get("cookie_secure", False)
    settings = _settings(overrides)
    portal = _portal(settings)
    if demo:
        asyncio.run(_demo_accounts(portal))
    try:
        with contextlib.ExitStack() as stack:
            if portal.party is Party.NODE:
                if demo:
                    from dief.portal._demo import LocalForum

                    forum = stack.enter_context(
                        LocalForum.started(settings.work_dir / "portal-demo")
                    )
                    portal.on_stop.append(_stopping(forum))
                    node = load_or_fail(NodeSettings, forum.node_overrides())
                    passphrase: SecretStr | None = forum.passphrase
                else:
                    node = _node_settings(keys, bootstrap, embedded)
                    passphrase = keyring_passphrase(node.keyring, passphrase_file)
                _with_node(portal, settings, node, passphrase)
            elif portal.party is Party.REGION:
                portal.digests = StoreDigests(
                    _aggregator_url(settings),
                    k=settings.k_meeting,
                    start_month=settings.cycle_start_month,
                    openers=_lesson_openers(portal.regions, keys, passphrase_file),
                )
            elif demo:
                from dief.portal._demo import LocalForum

                forum = stack.enter_context(
                    LocalForum.started(
                        settings.work_dir / "portal-demo-secretariat", services=False
                    )
                )
                portal.on_stop.append(_stopping(forum))  # after the Secretariat stopped
                secretariat = load_or_fail(SecretariatSettings, forum.secretariat_overrides())
                _with_secretariat(portal, secretariat, forum.passphrase)
                portal.on_start.append(_demo_digests(forum))
            elif _has_keyring(keys, passphrase_file):
                secretariat = _secretariat_settings(settings, keys, bootstrap, embedded)
                passphrase = keyring_passphrase(secretariat.keyring, passphrase_file)
                _with_secretariat(portal, secretariat, passphrase)
            else:  # a read-only preview: the pages say to use dief summary and dief keys
                console.print("no Secretariat keyring (--keys): a read-only preview")
                portal.summaries = StoreSummaries(
                    _secretariat_url(settings), k=settings.k_csp,
                    start_month=settings.cycle_start_month,
                )  # fmt: skip
            scheme = "https" if settings.cookie_secure else "http"
            console.print(
                f"portal ({settings.party}) at {scheme}://{settings.host}:{settings.port}/"
            )
            config = uvicorn.Config(
                create_app(portal), host=settings.host, port=settings.port, log_level="warning",
                server_header=False, proxy_headers=False,
            )  # fmt: skip
            uvicorn.Server(config).run()
    except DiefError as exc:
        raise fail(exc) from exc


@contextlib.asynccontextmanager
async def _accounts(party: Party, database_url: str | None) -> AsyncIterator[Portal]:
    portal = _portal(_settings({"party": party.value, "database_url": database_url}))
    await portal.db.start()
    try:
        yield portal
    finally:
        await portal.db.stop()


@account_app.command("add")
def add_account(
    name: Annotated[str, typer.Argument(help="User name")],
    party: PartyOpt = Party.NODE,
    role: Annotated[list[Role], typer.Option("--role", help="A role (repeatable)")] = [],  # noqa: B006 - typer's list option
    region: Annotated[
        Region | None, typer.Option("--region", help="A meeting member's region")
    ] = None,
    language: Annotated[str, typer.Option("--language", help="en, fr or es")] = "en",
    password_file: Annotated[
        Path | None, typer.Option("--password-file", help="First line: the password")
    ] = None,
    database_url: DbOpt = None,
) -> None:
    """Create an account; prints its authenticator secret (shown once)."""
    from dief.cli._console import passphrase_from_file, prompt_passphrase

    password = (
        passphrase_from_file(password_file) if password_file else prompt_passphrase()
    ).get_secret_value()

    async def main() -> str:
        async with _accounts(party, database_url) as portal:
            return await portal.accounts.create(
                name, password, role, region=region, language=language
            )

    try:
        secret = asyncio.run(main())
    except DiefError as exc:
        raise fail(exc) from exc
    console.print(f"account {name}: authenticator secret {secret}")
    console.print(totp_uri(secret, name))


@account_app.command("disable")
def disable_account(name: str, party: PartyOpt = Party.NODE, database_url: DbOpt = None) -> None:
    """Disable an account (a leaver's): it cannot sign in, its sessions end."""

    async def main() -> bool:
        async with _accounts(party, database_url) as portal:
            return await portal.accounts.set_disabled(name, True)

    if not asyncio.run(main()):
        raise fail(DiefError(f"there is no account {name!r}"))
    console.print(f"account {name} disabled")


@account_app.command("code")
def account_code(name: str, party: PartyOpt = Party.NODE, database_url: DbOpt = None) -> None:
    """Print the account's current sign-in code (demos and tests: whoever can read the
    accounts database can do this; a real account's holder uses an authenticator app)."""
    import time

    async def main() -> str | None:
        async with _accounts(party, database_url) as portal:
            return await portal.accounts.totp_secret(name)

    found = asyncio.run(main())
    if found is None:
        raise fail(DiefError(f"there is no account {name!r}"))
    console.print(totp_code(found, time.time()))


def register(app: typer.Typer) -> None:
    """Add ``web`` and ``web-account`` to *app*."""
    app.command("web")(web)
    app.add_typer(account_app, name="web-account")
